#!/usr/bin/env bash
# Publishes the app's local host (Functions.LocalHost), an empty ASP.NET Core app and the fake OpenAI upstream the same
# way (Release, ReadyToRun, framework-dependent, linux-x64), then prints the benchmark figures and writes them to bench/last-run.md. Takes a few minutes.
#   bench/run.sh               everything but the gateway comparison
#   bench/run.sh cold-start    only the cold start;  bench/run.sh jobs: only the orchestrated jobs
#   bench/run.sh gateway       the app beside the Portkey gateway on one zero-latency fake OpenAI upstream, all on
#                              loopback (a few minutes, at most 15); `bench/run.sh gateway smoke` only checks that it runs
# Everything the bench starts (Azurite, the local host, the fake upstream, Portkey), all on loopback, is stopped when it ends or is interrupted.
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

# The app under test: the local host, started as `dotnet Functions.LocalHost.dll` (AppProcess sets its settings).
publish Functions.LocalHost/Functions.LocalHost.csproj "$out/app"
app_dll="$out/app/Functions.LocalHost.dll"
publish bench/FakeOpenAi/FakeOpenAi.csproj "$out/upstream"
if [ "${1:-}" = gateway ]; then
  args=(gateway "$app_dll" "$out/upstream/FakeOpenAi.dll" "${@:2}")
else
  publish bench/EmptyApp/EmptyApp.csproj "$out/empty"
  args=("$app_dll" "$out/empty/EmptyApp.dll" "$out/upstream/FakeOpenAi.dll" "$@")
fi

# Built, then run directly in the background and waited for, so that a signal to this script reaches the bench,
# which stops what it started.
dotnet build bench/Functions.Bench -c Release --nologo -v quiet
dotnet bench/Functions.Bench/bin/Release/net10.0/Functions.Bench.dll "${args[@]}" &
bench_pid=$!
wait "$bench_pid"
bench_pid=""
