#!/usr/bin/env bash
# Publishes the app and an empty ASP.NET Core app the same way (Release, ReadyToRun, framework-dependent, linux-x64),
# then prints the benchmark figures and writes them to bench/last-run.md. Takes a few minutes.
#   bench/run.sh               everything but the gateway comparison
#   bench/run.sh cold-start    only the cold start;  bench/run.sh jobs: only the async jobs
#   bench/run.sh gateway       the app beside the Portkey gateway on one zero-latency fake OpenAI upstream, all on
#                              loopback (a few minutes, at most 15); `bench/run.sh gateway smoke` only checks that it runs
# Everything the bench starts (Azurite, the app, the fake upstream, Portkey) is stopped when it ends or is interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
out=$(mktemp -d)
bench_pid=""
stop() {
  if [ -n "$bench_pid" ]; then kill -TERM "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap stop EXIT
trap 'exit 130' INT TERM

publish() { dotnet publish "$1" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$2" --nologo -v quiet; }

# The app under test, started as `dotnet $app_dll`: the one place to change when Functions.LocalHost replaces it
# (with GatewayBench.StartAppAsync, if it must be started differently).
publish_app() {
  publish Functions/Functions.csproj "$out/app"
  app_dll="$out/app/Functions.dll"
}

publish_app
if [ "${1:-}" = gateway ]; then
  publish bench/FakeOpenAi/FakeOpenAi.csproj "$out/upstream"
  args=(gateway "$app_dll" "$out/upstream/FakeOpenAi.dll" "${@:2}")
else
  publish bench/EmptyApp/EmptyApp.csproj "$out/empty"
  args=("$app_dll" "$out/empty/EmptyApp.dll" "$@")
fi

# Built, then run directly in the background and waited for, so that a signal to this script reaches the bench,
# which stops what it started.
dotnet build bench/Functions.Bench -c Release --nologo -v quiet
dotnet bench/Functions.Bench/bin/Release/net10.0/Functions.Bench.dll "${args[@]}" &
bench_pid=$!
wait "$bench_pid"
bench_pid=""
