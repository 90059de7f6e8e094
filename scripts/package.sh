#!/usr/bin/env bash
# Builds the deployable package: publishes the isolated-worker app framework-dependent for linux-x64 with ReadyToRun.
# The publish output is the Functions app root (host.json, functions.metadata, worker.config.json, extensions.json and
# .azurefunctions/ beside the app), and the zip of it is what a deployment takes.
# Usage: scripts/package.sh [output folder]   (default: artifacts/; writes <out>/app/ and <out>/functions.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${1:-artifacts}"
out=$(cd "${1:-artifacts}" && pwd) # absolute (no realpath -m: macOS has none)
rm -rf "$out/app" "$out/functions.zip"

dotnet publish Functions/Functions.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$out/app" --nologo -v quiet

# The package is for Azure, which runs Production: the local settings (Development storage, the offline renderer, a
# generated admin key) stay out, so that an app switched to Development there cannot pick them up.
rm -f "$out/app/appsettings.Development.json"

# What the Functions host reads from the app root; check before zipping.
for file in host.json functions.metadata worker.config.json extensions.json Functions.dll; do
  test -f "$out/app/$file" || { echo "$file is missing from the app root" >&2; exit 1; }
done
test -d "$out/app/.azurefunctions" || { echo ".azurefunctions/ is missing from the app root" >&2; exit 1; }

# The zip's root is the app root, as Functions deployments expect.
if command -v zip > /dev/null; then
  (cd "$out/app" && zip -qr "$out/functions.zip" .)
else
  python3 - "$out/app" "$out/functions.zip" <<'PY'
import os, sys, zipfile
root, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            z.write(path, os.path.relpath(path, root))
PY
fi
echo "App root: $out/app"
echo "Package:  $out/functions.zip"
