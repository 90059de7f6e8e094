#!/usr/bin/env bash
# Builds the deployable package: publishes the app framework-dependent for linux-x64 with ReadyToRun into the
# Functions app root (host.json, one folder per function, the app's files) and zips it for deployment.
# Usage: scripts/package.sh [output folder]   (default: artifacts/; writes <out>/app/ and <out>/functions.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-artifacts}")
rm -rf "$out/app" "$out/functions.zip"
mkdir -p "$out"

dotnet publish Functions/Functions.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$out/app" --nologo -v quiet

# The project copies host.json and Triggers/<Function>/function.json to the output's root; check before zipping.
test -f "$out/app/host.json" || { echo "host.json is missing from the app root" >&2; exit 1; }
for dir in Functions/Triggers/*/; do
  name=$(basename "$dir")
  test -f "$out/app/$name/function.json" || { echo "$name/function.json is missing from the app root" >&2; exit 1; }
done

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
