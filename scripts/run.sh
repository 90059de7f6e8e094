#!/usr/bin/env bash
# Runs the service locally: Azurite on its usual ports (data kept in .azurite/; none started when AzureWebJobsStorage
# is set in the environment to anything but UseDevelopmentStorage=true, which is then used) and the Functions app in its local host
# (Functions.LocalHost: the same functions and Durable orchestrations, without Core Tools) on http://localhost:7071, in
# Development (offline renderer on, a local admin key generated and printed on first start).
# Extra arguments go to the app, e.g. scripts/run.sh --urls http://0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The app's default address taken (most often by this script started before, in another terminal): say so now, before
# anything starts, rather than as the server's failed start with stack traces. An address given (--urls or --http_ports
# in any case, ASPNETCORE_ or DOTNET_URLS or HTTP_PORTS) is left to the app, which names one it cannot listen on.
args=" ${*,,} "
if [ -z "${ASPNETCORE_URLS:-}${ASPNETCORE_HTTP_PORTS:-}${DOTNET_URLS:-}${DOTNET_HTTP_PORTS:-}" ] \
  && [[ "$args" != *" --urls"* && "$args" != *" --http_ports"* ]] && port_open 7071; then
  echo "Port 7071 already answers: the service (or another server) is running there. Stop it, or give another address:" \
    "scripts/run.sh --urls http://localhost:7072" >&2
  exit 1
fi

azurite_pid=""
app_pid=""
stop() {
  trap '' INT TERM # a second Ctrl+C or SIGTERM (timeout sends one too) would end this script mid-stop, leaving Azurite running
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  if [ -n "$azurite_pid" ]; then
    # Azurite closes its three services (saving its data) on a signal, but its node process lingers for seconds after:
    # ask, wait until it says all three are closed (at most 4 s), then end the process.
    kill -INT "$azurite_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$azurite_pid" 2>/dev/null || return 0
      [ "$(grep -c 'successfully closed' .azurite/azurite.log 2>/dev/null)" -ge 3 ] && break
      sleep 0.1
    done
    kill -KILL "$azurite_pid" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT # 128 + the signal's number, as a shell reports a process a signal ended
trap 'exit 143' TERM
# Set to nothing counts as not set (the app then takes the emulator from its Development settings).
[ -n "${AzureWebJobsStorage:-}" ] || unset AzureWebJobsStorage
if [ -n "${AzureWebJobsStorage:-}" ] && [ "${AzureWebJobsStorage}" != "UseDevelopmentStorage=true" ]; then
  echo "AzureWebJobsStorage is set: using that storage account, no Azurite started."
elif port_open 10000 && port_open 10001 && port_open 10002; then
  echo "Storage ports 10000-10002 already answer: using the emulator that is running there."
else
  mkdir -p .azurite
  # In a process group of its own (job control on for this one start), so that Ctrl+C reaches the app and not Azurite:
  # stop() ends the app first, which lets go of its storage leases and locks, and Azurite after it.
  set -m
  # --disableTelemetry: Azurite otherwise reports each request to Microsoft, at a cost in CPU to every storage call.
  node node_modules/azurite/dist/src/azurite.js --silent --skipApiVersionCheck --disableTelemetry --location .azurite \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 > .azurite/azurite.log 2>&1 &
  azurite_pid=$!
  set +m
  # Started when it says its three services listen: the ports answering is not enough, as another emulator started
  # meanwhile may hold them while this one exits (EADDRINUSE).
  listening() { [ "$(grep -c 'successfully listening' .azurite/azurite.log 2>/dev/null)" -ge 3 ]; }
  for _ in $(seq 1 100); do
    kill -0 "$azurite_pid" 2>/dev/null || break
    listening && break
    sleep 0.1
  done
  if listening && kill -0 "$azurite_pid" 2>/dev/null; then
    echo "Azurite started (blob 10000, queue 10001, table 10002; data in .azurite/)."
  elif ! kill -0 "$azurite_pid" 2>/dev/null && port_open 10000 && port_open 10001 && port_open 10002; then
    azurite_pid=""
    echo "Another emulator took ports 10000-10002 as this one started: using it."
  else
    echo "Azurite did not start; see .azurite/azurite.log" >&2; exit 1
  fi
fi

# glibc keeps an arena per contending thread (up to 8 per core) and seldom gives their memory back: two arenas keep
# the host's resident memory about 35 MB lower after concurrent renders (bench/RESULTS.md, "Memory"). Azure: main.bicep.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# Built first with its output kept in a file (shown only if the build fails): the restore's warnings about package
# versions a mirror substitutes (NU1603) would otherwise bury the admin key printed on a first start.
echo "Building the service (Functions.LocalHost)..."
mkdir -p Functions.LocalHost/obj
dotnet build Functions.LocalHost -nologo > Functions.LocalHost/obj/run-build.log 2>&1 || { cat Functions.LocalHost/obj/run-build.log >&2; exit 1; }
# In the background and waited for, so that a signal to this script stops the app and Azurite at once.
ASPNETCORE_ENVIRONMENT=Development DOTNET_ENVIRONMENT=Development dotnet run --no-build --project Functions.LocalHost -- "$@" &
app_pid=$!
wait "$app_pid"
