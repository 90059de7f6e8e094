#!/usr/bin/env bash
# Installs the project's own tools (Azurite, pinned by package-lock.json) when missing or when the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js 20 or later is required (node not found)." >&2; exit 1; }

if [ ! -f node_modules/azurite/dist/src/azurite.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing the npm tools from package-lock.json (npm ci): Azurite, and the Portkey gateway the benchmark compares with..."
  npm ci --no-audit --no-fund --loglevel=error
fi
