export { startSimulator, type Simulator, type SimulatorOptions, type SimRequestRecord } from './server';
export {
  SimTenant,
  NEVER_SIGNED_IN,
  type SimSignInActivity,
  type SimTenantInput,
  type SimAppInput,
  type SimPasswordUserInput,
  type SimPlanInput,
  type SimSubscription,
  type SimUserInput,
  type SimLicenseInput,
  type SimGroupAssignment,
  type SimGeneratedInput,
} from './tenant';
export {
  SIGN_IN_ERRORS,
  type SignInErrorCode,
  type SimFault,
  type SimFaultWhen,
  type SimRequestInfo,
  type SimResource,
} from './faults';
export {
  addDemoTenant,
  demoUsers,
  DEMO_TENANT_ID,
  DEMO_DOMAIN,
  DEMO_TENANT_NAME,
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
} from './demo';
export { KNOWN_SKUS, skuIdOf } from './ids';
export type {
  SimConsentAnswer,
  SimFederatedCredential,
  SimManagedIdentity,
  SimMultiTenantApp,
  SimMultiTenantAppInput,
} from './managedIdentity';
export { addOperator, type SimOperator } from './operator';
