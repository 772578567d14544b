// m365-license-sync on Azure Functions Flex Consumption (Node 22), deployed into one resource group.
//
// One user-assigned managed identity reaches storage, Key Vault and Application Insights; nothing holds a key or a
// connection string with a secret in it: shared-key access is off on storage, local auth is off on Application
// Insights and Log Analytics, and Key Vault authorizes through Azure RBAC only.
//
// Plain resource declarations (no registry modules), so `az bicep build --file infra/main.bicep` needs no network.
// Deploy with `azd up`, or `az deployment group create` and a publish: see docs/deploy.md.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd environment name); with the resource group it seeds the unique resource names.')
param environmentName string

@description('Region of every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('NCRONTAB (six fields, with seconds) of the scheduled run of every portal with automatic sync on.')
param syncSchedule string = '0 0 * * * *'

@description('Microsoft\'s product-names CSV (display names of the plans). The default is its official download address.')
param skuNamesUrl string = 'https://download.microsoft.com/download/e/3/e/e3e9faf2-f28b-490a-9ada-c6089a1fc5b0/Product%20names%20and%20service%20plan%20identifiers%20for%20licensing.csv'

@description('Optional prefix of every ledger table name (letters and digits, starting with a letter). Empty: no prefix.')
param tablePrefix string = ''

@description('Tests and private clouds only: Entra authority host to use instead of the portal cloud\'s own. Leave empty.')
param authorityHostOverride string = ''

@description('Tests and private clouds only: Microsoft Graph endpoint to use instead of the portal cloud\'s own. Leave empty.')
param graphEndpointOverride string = ''

@description('E-mail address that gets the "portal runs failed" alert. Empty: the alert still fires and shows in the Azure portal, but mails no one.')
param alertEmail string = ''

@description('NCRONTAB (six fields, UTC) of the daily pass of the alert rules that depend on the date.')
param alertsSchedule string = '0 30 5 * * *'

@description('E-mail notification channels: id of the portal access whose app has Mail.Send, and the mailbox that sends. Empty: e-mail channels report that e-mail is not set up.')
param mailPortalId string = ''
param mailFrom string = ''

@description('Resource id of an existing action group to notify as well (Teams, SMS, ITSM, ...). Empty: none.')
param alertActionGroupId string = ''

@description('Client id of the Entra app registration that signs people and automation in to the API and page (App Service Authentication), with the app roles LicenseSync.Reader and LicenseSync.Admin (docs/deploy.md). Required: the app authorizes every request from the signed-in principal (LICENSE_SYNC_AUTH=easyauth).')
@minLength(36)
param authClientId string

@description('Audiences accepted in bearer tokens besides the client id and api://<client id> (e.g. a custom Application ID URI).')
param authAllowedAudiences array = []

@description('Client id of the operator\'s multi-tenant app registration whose federated credential trusts this app\'s identity: federated portals and "Connect a tenant" sign in with it (docs/deploy.md, "Secretless tenants"). Empty: not configured.')
param multitenantClientId string = ''

@description('Public address of the app, where Microsoft\'s admin-consent page sends the browser back. Empty: https://<the app\'s host name>.')
param publicUrl string = ''

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Days a deleted Key Vault (and a deleted secret) stays recoverable. Purge protection holds it for this long; it cannot be changed after the vault is created.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionDays int = 90

@description('Name of the Key Vault. Empty: derived from the environment. Set it to redeploy after `azd down` while the old vault is still soft-deleted (purge protection keeps its name taken).')
param keyVaultName string = ''

@description('Redundancy of the storage account.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

// ---------------------------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName, application: 'm365-license-sync' }

var functionAppName = 'func-licsync-${resourceToken}'
var planName = 'plan-licsync-${resourceToken}'
var identityName = 'id-licsync-${resourceToken}'
var storageAccountName = 'stlicsync${resourceToken}'
var vaultName = !empty(keyVaultName) ? keyVaultName : 'kv-licsync-${take(resourceToken, 10)}'
var logAnalyticsName = 'log-licsync-${resourceToken}'
var appInsightsName = 'appi-licsync-${resourceToken}'
var actionGroupName = 'ag-licsync-${resourceToken}'

// Must match the code: the queue of portal runs (src/config/settings.ts default) and its poison queue
// (`<name>-poison`, where the host moves a message after host.json's maxDequeueCount failed deliveries), and the
// blob container of the cached product-names list (src/storage/clients.ts BLOB_CONTAINER).
var runQueueName = 'portal-runs'
var blobContainerName = 'license-sync'
// Flex Consumption reads the app's deployment package from this container, with the app's identity.
var deploymentContainerName = 'app-package'

// Built-in role definitions (the same ids in every tenant), and why the app's identity holds each one.
var roles = {
  // AzureWebJobsStorage: the Functions host keeps its keys, timer schedule-monitor and singleton leases in blobs
  // (Functions docs require Owner for an identity-based host storage connection); Flex Consumption reads the
  // deployment package; the app caches the product-names list in the `license-sync` container.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // The queue trigger reads and deletes run messages, the timer and the API enqueue them, the host moves failed
  // ones to the poison queue; the app creates the queues if missing.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // The ledger: portals, licenses, contacts, consumers, runs and leases are tables the app creates and writes.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // One secret per portal, written when a portal is created or its credentials change, deleted with the portal.
  // Secrets User would only read them.
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  // Application Insights has local (instrumentation-key) auth off, so the host sends telemetry with Entra ID,
  // which needs this role on the component.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------------------------

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------------------------
// Storage: host, deployment package, run queue, ledger tables, product-names cache
// ---------------------------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: storageSku }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      services: {
        blob: { enabled: true }
        file: { enabled: true }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource cacheContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: blobContainerName
  properties: { publicAccess: 'None' }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource runQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: runQueueName
}

resource runPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${runQueueName}-poison'
}

// ---------------------------------------------------------------------------------------------------------------
// Key Vault: one secret per portal (client secret, certificate PEM, or legacy password)
// ---------------------------------------------------------------------------------------------------------------

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Monitoring: Log Analytics, Application Insights on it, and the alert on failed portal runs
// ---------------------------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'licsync'
    enabled: true
    emailReceivers: [
      {
        name: 'license-sync-operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alertActionGroups = concat(
  empty(alertEmail) ? [] : [resourceId('Microsoft.Insights/actionGroups', actionGroupName)],
  empty(alertActionGroupId) ? [] : [alertActionGroupId]
)

// Every run attempt ends with one `licensesync.run.finished` custom event (src/telemetry/run.ts) whose
// customDimensions carry portalId, runId, trigger, attempt, status (succeeded, failed, skipped, retrying) and, on
// failure, errorCode; a run the host gave up retrying becomes `failed` through the poison queue (src/runs/poison.ts).
// The alerts count these dimensions, never message text. The worker samples nothing (src/telemetry/start.ts).
resource runFailedAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-licsync-run-failed-${resourceToken}'
  location: location
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    displayName: 'License sync: portal runs failed'
    description: 'A portal run of m365-license-sync failed. The alert names the portal id and the error code; the run\'s message is in the run history (GET /api/portals/{id}/runs) and in Application Insights.'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // Stays fired until someone looks: a failing tenant must not disappear because the next hour was quiet.
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: loadTextContent('monitoring/run-failed.kql')
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'portalId'
              operator: 'Include'
              values: ['*']
            }
            {
              name: 'errorCode'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: alertActionGroups
      customProperties: {
        application: 'm365-license-sync'
      }
    }
  }
}

// A portal whose last three finished runs all failed (the product's runFailures rule: 3 in a row, per portal).
resource runsFailingInARowAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-licsync-runs-failing-${resourceToken}'
  location: location
  tags: tags
  dependsOn: [actionGroup]
  properties: {
    displayName: 'License sync: a portal failed 3 runs in a row'
    description: 'The last three finished runs of a portal access failed. The alert names the portal id and the last error code.'
    severity: 1
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT1H'
    // Looks back far enough to see three runs of a portal on a daily schedule.
    windowSize: 'P2D'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: loadTextContent('monitoring/runs-failing-in-a-row.kql')
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'portalId'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: alertActionGroups
      customProperties: {
        application: 'm365-license-sync'
      }
    }
  }
}

// The workbook: runs per portal and status, failures by error code, run duration, license stock and free seats
// over time per portal and plan, throttling. Its queries read the names in src/telemetry/names.ts.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, 'licsync-workbook', resourceToken)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'License sync monitoring'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: loadTextContent('monitoring/workbook.json')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Role assignments: exactly what the code needs, to the app's identity, on the narrowest scope
// ---------------------------------------------------------------------------------------------------------------

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentity.id, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appIdentity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Function app on Flex Consumption
// ---------------------------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  // azd finds the app to deploy the `api` service to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  // The host reaches storage with the identity as soon as it starts: grant the roles first.
  dependsOn: [blobDataOwner, queueDataContributor, tableDataContributor, metricsPublisher]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Every setting the code reads in Azure (src/config/settings.ts). Storage is identity-based: no connection string.
var storageSuffix = environment().suffixes.storage
var appSettings = union(
  {
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: appIdentity.properties.clientId
    AzureWebJobsStorage__blobServiceUri: 'https://${storage.name}.blob.${storageSuffix}'
    AzureWebJobsStorage__queueServiceUri: 'https://${storage.name}.queue.${storageSuffix}'
    AzureWebJobsStorage__tableServiceUri: 'https://${storage.name}.table.${storageSuffix}'
    AZURE_CLIENT_ID: appIdentity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
    LICENSE_SYNC_SCHEDULE: syncSchedule
    LICENSE_SYNC_KEY_VAULT_URL: vault.properties.vaultUri
    // Authorize from App Service Authentication's x-ms-client-principal; the API routes are anonymous to the host.
    LICENSE_SYNC_AUTH: 'easyauth'
    LICENSE_SYNC_SKU_NAMES_URL: skuNamesUrl
    LICENSE_SYNC_QUEUE_NAME: runQueueName
    LICENSE_SYNC_ALERTS_SCHEDULE: alertsSchedule
    // Notification URLs must resolve to public addresses (the SSRF guard); never lifted in Azure by default.
    LICENSE_SYNC_ALLOW_PRIVATE_WEBHOOKS: 'false'
    // Secretless tenants: the multi-tenant app's federated credential trusts this identity (only a
    // user-assigned identity can be trusted that way); its object id is the credential's subject.
    LICENSE_SYNC_FEDERATION_IDENTITY_CLIENT_ID: appIdentity.properties.clientId
    LICENSE_SYNC_FEDERATION_IDENTITY_OBJECT_ID: appIdentity.properties.principalId
    // The worker's JavaScript heap fits the instance (512 MB instance: 320 MB, as `npm run bench` measures): V8
    // collects garbage before the process outgrows the instance, instead of growing into memory it does not have.
    NODE_OPTIONS: '--max-old-space-size=${instanceMemoryMB * 5 / 8}'
  },
  // Optional settings are left out when empty: the code's defaults apply (an empty value would not be valid).
  empty(tablePrefix) ? {} : { LICENSE_SYNC_TABLE_PREFIX: tablePrefix },
  empty(authorityHostOverride) ? {} : { LICENSE_SYNC_AUTHORITY_HOST: authorityHostOverride },
  empty(graphEndpointOverride) ? {} : { LICENSE_SYNC_GRAPH_ENDPOINT: graphEndpointOverride },
  empty(mailPortalId) ? {} : { LICENSE_SYNC_MAIL_PORTAL_ID: mailPortalId },
  empty(mailFrom) ? {} : { LICENSE_SYNC_MAIL_FROM: mailFrom },
  empty(multitenantClientId) ? {} : { LICENSE_SYNC_MULTITENANT_CLIENT_ID: multitenantClientId },
  empty(publicUrl) ? {} : { LICENSE_SYNC_PUBLIC_URL: publicUrl }
)

resource functionAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  dependsOn: [secretsOfficer, runQueue, runPoisonQueue, cacheContainer, deploymentContainer]
  properties: appSettings
}

// No basic-auth (user name and password) publishing: deployments sign in with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

// App Service Authentication: administrators sign in with Entra ID before any request reaches the app. Who may
// sign in is decided in Entra (the app registration's "Assignment required" and app roles): see docs/deploy.md.
// Unauthenticated requests are sent to the sign-in page (the page needs it; App Service answers the page's
// XMLHttpRequests and requests with a bearer token it cannot accept with 401 instead). The app then refuses any
// request without a principal (401) or without a role (403) itself. The one exception is the consent callback
// of "Connect a tenant": Microsoft's consent page sends the customer admin's browser there, which has no session
// of this app; the app guards it by its single-use state (made by an Admin), not by a sign-in.
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/api/consent/callback'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: union([authClientId, 'api://${authClientId}'], authAllowedAudiences)
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment: azd env get-values)
// ---------------------------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.name
output SERVICE_API_NAME string = functionApp.name
output SERVICE_API_URI string = 'https://${functionApp.properties.defaultHostName}'
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = appIdentity.properties.clientId
// What the multi-tenant app's federated credential and redirect URI need (docs/deploy.md, "Secretless tenants").
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = appIdentity.properties.principalId
output FEDERATED_CREDENTIAL_ISSUER string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
output CONSENT_REDIRECT_URI string = '${empty(publicUrl) ? 'https://${functionApp.properties.defaultHostName}' : publicUrl}/api/consent/callback'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output LICENSE_SYNC_KEY_VAULT_URL string = vault.properties.vaultUri
output APPLICATIONINSIGHTS_NAME string = appInsights.name
output LOG_ANALYTICS_WORKSPACE_NAME string = logAnalytics.name
output RUN_FAILED_ALERT_NAME string = runFailedAlert.name
