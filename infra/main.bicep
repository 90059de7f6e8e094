// The image-generation service on Azure Functions Flex Consumption: an isolated-worker .NET 10 function app with a
// Durable orchestration, whose system-assigned identity reaches storage and Application Insights without any key.
// Plain resources with explicit API versions and no registry modules; Functions.Tests/Host/InfrastructureTests
// compiles and lints it offline with the Bicep compiler from NuGet, and checks its structure as text.
// Deployed by infra/deploy.sh (README, "Deploy to Azure").

@description('Region for every resource.')
param location string = resourceGroup().location

@description('Base name: the function app is named after it; storage, plan and monitoring derive their names from it.')
@minLength(3)
@maxLength(40)
param appName string = 'imggen-${uniqueString(resourceGroup().id)}'

@description('Flex Consumption scale-out bound, per scale group (the HTTP functions, the Durable ones, each timer).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

// Microsoft recommends one always-ready instance for Durable apps on Flex, so that a job's orchestration starts without a
// cold start; each is billed while idle, so it is the deployment's choice and 0 scales from zero as before.
@description('Always-ready instances of the HTTP scale group (0: from zero).')
@minValue(0)
@maxValue(1000)
param alwaysReadyHttpInstances int = 0

@description('Always-ready instances of the Durable scale group (orchestrator and activities; 0: from zero).')
@minValue(0)
@maxValue(1000)
param alwaysReadyDurableInstances int = 0

// Not Flex's 512: the app's image checks alone may hold 600 MB (Generation:DecodeBudgetMegapixels at its least, 150),
// beside about 130 MB idle, and an instance's memory is shared with the Functions host.
@description('Memory per instance (MB): 2048 or 4096.')
@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('How long Log Analytics keeps logs (days).')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// The contracts have both deletes anonymous, so the app's default is off; a public app lets anyone delete every image.
@description('Whether DELETE /api/images/{id} and DELETE /api/v1/files/{file_id} need the admin key (Auth:ImageDeleteNeedsAdminKey).')
param imageDeleteNeedsAdminKey bool = false

@description('Public base URL for links the API returns (a custom domain or front door); empty: the request host.')
param publicBaseUrl string = ''

// The platform answers preflights and adds the CORS headers before the app sees a request (Host:CORS in the local host).
@description('Origins whose browser pages may call the API, such as https://app.example.com (or \'*\'); empty: none.')
param corsAllowedOrigins array = []

@description('Whether those pages may send credentials (cookies, Authorization); not with \'*\'.')
param corsSupportCredentials bool = false

// Every deployment writes the whole app settings list, so a key set outside the template would be lost on the next one.
@description('The admin key for /api/config/* (header X-Admin-Key). infra/deploy.sh passes the app\'s current one, or a new one.')
@secure()
param adminKey string = ''

// Storage account names are global, 3 to 24 lowercase letters and digits: a short part of the app's name and a suffix
// unique to the resource group.
var storageName = 'st${take(toLower(replace(replace(replace(appName, '-', ''), '_', ''), '.', '')), 9)}${uniqueString(resourceGroup().id)}'

var deploymentContainer = 'app-package'
var imagesContainer = 'images' // Functions/Storage/StorageNames.cs FilesContainer

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${appName}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${appName}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // telemetry only with the app's Entra identity
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

resource imagesBlobContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: imagesContainer
  properties: { publicAccess: 'None' }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${appName}'
  location: location
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: filter([
          { name: 'http', instanceCount: alwaysReadyHttpInstances }
          { name: 'durable', instanceCount: alwaysReadyDurableInstances }
        ], group => group.instanceCount > 0)
      }
      // Flex takes the language stack here, not from app settings: FUNCTIONS_WORKER_RUNTIME (and its _VERSION) are in
      // the "Flex Consumption plan deprecations" of the app settings reference, replaced by runtime.name and .version.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2' // no ftpsState: Flex Consumption has no FTP, and lists the property as not supported
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: corsSupportCredentials
      }
      appSettings: [
        // The host, the Durable extension and the app's storage clients all read AzureWebJobsStorage; with the
        // identity no key exists. The account name gives the endpoints (Durable docs, "Configure Durable Functions
        // with managed identity": AzureWebJobsStorage__accountName), and credential=managedidentity selects the
        // managed identity, not the default credential chain (functions-reference, "Common properties for
        // identity-based connections").
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'MALLOC_ARENA_MAX', value: '2' } // glibc arenas: less resident memory, as scripts/run.sh (bench/RESULTS.md, "Memory")
        // Only what differs in Azure: every other setting keeps the default its options class gives (README, "Settings").
        { name: 'Auth__AdminKey', value: adminKey }
        { name: 'Api__PublicBaseUrl', value: publicBaseUrl }
        { name: 'Auth__ImageDeleteNeedsAdminKey', value: string(imageDeleteNeedsAdminKey) }
      ]
    }
  }
  dependsOn: [packageContainer, imagesBlobContainer]
}

// The app's identity, on the storage account. The "Functions host storage" permissions table (learn.microsoft.com/
// azure/azure-functions/functions-reference, "Connecting to host storage with an identity"): the host needs Storage
// Blob Data Owner; the Durable Functions row adds Storage Blob Data Contributor (within Owner), Storage Queue Data
// Contributor and Storage Table Data Contributor, because "Durable Functions uses blobs, queues, and tables to
// coordinate activity functions and maintain orchestration state" (task hub queues, instance and history tables,
// lease and large-message blobs); the quickstart "Configure Durable Functions with managed identity" lists the same
// three. They also cover the app's own container and tables (the images container; the images, settings,
// idempotency, cancels and submits tables: Functions/Storage/StorageNames.cs) and Flex reading its package. Monitoring Metrics
// Publisher: telemetry to Application Insights with local auth off.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, functionApp.id, monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}'
output storageAccountName string = storage.name
