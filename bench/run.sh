#!/usr/bin/env bash
# Publishes the app and an empty ASP.NET Core app the same way (Release, ReadyToRun, framework-dependent, linux-x64),
# then prints the benchmark figures and writes them to bench/last-run.md. Takes a few minutes;
# `bench/run.sh cold-start` measures only the cold start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
publish() { dotnet publish "$1" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$2" --nologo -v quiet; }
publish Functions/Functions.csproj "$out/app"
publish bench/EmptyApp/EmptyApp.csproj "$out/empty"
dotnet run -c Release --project bench/Functions.Bench -- "$out/app/Functions.dll" "$out/empty/EmptyApp.dll" "$@"
