#!/usr/bin/env bash
# Deploys infrastructure and code: creates the resource group, deploys infra/main.bicep with main.parameters.json (a
# Flex Consumption isolated-worker app whose managed identity reaches storage, no keys), builds the package
# (scripts/package.sh), uploads it, and sets an admin key. Needs the Azure CLI, logged in (az login), and the .NET 10 SDK.
# Usage: infra/deploy.sh <resource group> [location]   (location default: westeurope; AppName=... to choose the app's name)
set -euo pipefail
cd "$(dirname "$0")/.."
group=${1:?usage: infra/deploy.sh <resource group> [location]}
location=${2:-westeurope}

az group create --name "$group" --location "$location" --output none
params=(--parameters @infra/main.parameters.json)
if [ -n "${AppName:-}" ]; then params+=(--parameters appName="$AppName"); fi
az deployment group create --resource-group "$group" --name main --template-file infra/main.bicep "${params[@]}" --output none
output() { az deployment group show --resource-group "$group" --name main --query "properties.outputs.$1.value" --output tsv; }
app=$(output functionAppName)
url=$(output functionAppUrl)

scripts/package.sh artifacts
az functionapp deployment source config-zip --resource-group "$group" --name "$app" --src artifacts/functions.zip --output none

# The admin key for /api/config/*: kept if already set, else generated once and printed.
if [ -z "$(az functionapp config appsettings list --resource-group "$group" --name "$app" --query "[?name=='Auth__AdminKey'].value" --output tsv)" ]; then
  key=$(openssl rand -hex 24)
  az functionapp config appsettings set --resource-group "$group" --name "$app" --settings "Auth__AdminKey=$key" --output none
  echo "Admin key (shown once; header X-Admin-Key): $key"
fi
echo "Deployed $app: $url/api/healthz"
