#!/usr/bin/env bash
# Deploys infrastructure and code: creates the resource group, deploys infra/main.bicep with main.parameters.json (a
# Flex Consumption isolated-worker app whose managed identity reaches storage, no keys), builds the package
# (scripts/package.sh), uploads it, and sets an admin key. Needs the Azure CLI, logged in (az login), with the right to
# assign roles on the group (Owner, User Access Administrator or Role Based Access Control Administrator), the .NET 10
# SDK, openssl, and zip or python3.
# Usage: infra/deploy.sh <resource group> [location]   (location default: westeurope; AppName=... to choose the app's name)
set -euo pipefail
cd "$(dirname "$0")/.."
group=${1:?usage: infra/deploy.sh <resource group> [location]}
location=${2:-westeurope}

# The package first: a machine that cannot build it stops here, before anything is made in Azure.
scripts/package.sh artifacts

# An existing group keeps its location (az group create refuses another one for it); every resource goes there.
if ! az group show --name "$group" --output none 2>/dev/null; then
  az group create --name "$group" --location "$location" --output none
fi
required_output() {
  local value
  value=$(az deployment group show --resource-group "$group" --name main --query "properties.outputs.$1.value" --output tsv) \
    && [ -n "$value" ] || { echo "Could not read the deployment's output $1 (az deployment group show)." >&2; return 1; }
  echo "$value"
}

# The app already in the group, found among its resources rather than in the last deployment's outputs (a deployment
# that failed has none): the one named AppName, else the one named as the template names it by default (imggen-...).
sites=$(az resource list --resource-group "$group" --resource-type Microsoft.Web/sites --query "[].name" --output tsv)
if [ -n "${AppName:-}" ]; then previous=$(grep -Fx -- "$AppName" <<< "$sites" || true); else previous=$(grep '^imggen-' <<< "$sites" || true); fi
if [ "$(printf '%s' "$previous" | grep -c . || true)" -gt 1 ]; then
  echo "The group holds several apps ($(echo $previous)); choose one with AppName=..." >&2
  exit 1
fi

# The admin key for /api/config/*: the app's current one when it has one (a deployment rewrites every app setting, so it
# goes in with the template), else a new one, printed once, as soon as the deployment has set it.
key="" new_key=""
if [ -n "$previous" ]; then
  # Unreadable is not "none": a new key would replace the one clients use.
  key=$(az functionapp config appsettings list --resource-group "$group" --name "$previous" \
    --query "[?name=='Auth__AdminKey'].value" --output tsv) \
    || { echo "Could not read the admin key of $previous; nothing was changed." >&2; exit 1; }
fi
# A key under 16 characters, or with whitespace at its ends, no longer starts the app (Auth:AdminKey's rules): it is
# replaced by a new one too.
if [ "${#key}" -lt 16 ] || [[ $key =~ ^[[:space:]] || $key =~ [[:space:]]$ ]]; then key=$(openssl rand -hex 24); new_key=1; fi

# The key goes in a parameters file only this user can read, not on a command line that ps shows.
secret=$(mktemp)
trap 'rm -f "$secret"' EXIT
chmod 600 "$secret"
# A key goes in an HTTP header, so it is printable ASCII: JSON needs only its backslashes and quotes escaped.
if [[ $key =~ [^[:print:]] ]]; then echo "The admin key of $previous holds characters a header cannot carry; set a new one." >&2; exit 1; fi
escaped=${key//\\/\\\\}
escaped=${escaped//\"/\\\"}
printf '{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0","parameters":{"adminKey":{"value":"%s"}}}' "$escaped" > "$secret"
params=(--parameters @infra/main.parameters.json --parameters @"$secret")
if [ -n "${AppName:-}" ]; then params+=(--parameters appName="$AppName"); fi
az deployment group create --resource-group "$group" --name main --template-file infra/main.bicep "${params[@]}" --output none
# Now, not at the end: the app holds it from here on, and a failed upload must not leave it unseen (a run after that
# reads it back and prints nothing).
if [ -n "$new_key" ]; then
  if [ -t 1 ]; then
    echo "Admin key (shown once; header X-Admin-Key): $key"
  else
    # Not a terminal: a CI job's log would keep the key. It goes to a new file (mktemp makes it 0600), not in artifacts/,
    # which a pipeline may upload.
    key_file=$(mktemp "${TMPDIR:-/tmp}/imggen-admin-key.XXXXXX")
    printf '%s\n' "$key" > "$key_file"
    echo "Admin key (header X-Admin-Key) written to $key_file, readable by this user only"
  fi
fi
app=$(required_output functionAppName)
url=$(required_output functionAppUrl)

# The platform writes the package with the app's identity, whose role on the storage account may take minutes to apply
# after a first deployment (a 403 until then): try again, for up to 10 minutes.
for attempt in $(seq 1 10); do
  az functionapp deployment source config-zip --resource-group "$group" --name "$app" --src artifacts/functions.zip --output none && break
  [ "$attempt" -lt 10 ] || { echo "The package upload kept failing." >&2; exit 1; }
  echo "The package upload failed (a new role assignment may not apply yet); trying again in 60 s." >&2
  sleep 60
done

echo "Deployed $app: $url/api/healthz"
