#!/usr/bin/env bash
# Runs the service locally: Azurite on its usual ports (data kept in .azurite/) and the app on http://localhost:7071,
# in Development (offline renderer on, a local admin key generated and printed on first start).
# Extra arguments go to the app, e.g. scripts/run.sh --urls http://0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

azurite_pid=""
if port_open 10000 && port_open 10001 && port_open 10002; then
  echo "Storage ports 10000-10002 already answer: using the emulator that is running there."
else
  mkdir -p .azurite
  node node_modules/azurite/dist/src/azurite.js --silent --skipApiVersionCheck --location .azurite \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 > .azurite/azurite.log 2>&1 &
  azurite_pid=$!
  trap '[ -n "$azurite_pid" ] && kill "$azurite_pid" 2>/dev/null' EXIT
  for _ in $(seq 1 100); do port_open 10002 && break; sleep 0.1; done
  port_open 10002 || { echo "Azurite did not start; see .azurite/azurite.log" >&2; exit 1; }
  echo "Azurite started (blob 10000, queue 10001, table 10002; data in .azurite/)."
fi

dotnet run --project Functions --launch-profile Functions -- "$@"
