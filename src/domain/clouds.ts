import type { Settings } from '../config/settings';
import { AppError } from './errors';
import type { Cloud } from './records';

/** Where a portal signs in and reads Graph. Always from operator settings and the cloud, never from API input. */
export interface CloudEndpoints {
  /** Entra ID authority host, e.g. https://login.microsoftonline.com */
  authorityHost: string;
  /** Microsoft Graph endpoint without the version, e.g. https://graph.microsoft.com */
  graphEndpoint: string;
}

export const CLOUD_ENDPOINTS: Readonly<Record<Exclude<Cloud, 'simulated'>, CloudEndpoints>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  usgovdod: { authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://dod-graph.microsoft.us' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
};

const MICROSOFT_AUTHORITY_HOSTS = new Set(Object.values(CLOUD_ENDPOINTS).map((e) => new URL(e.authorityHost).host));

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The cloud's endpoints; the operator's LICENSE_SYNC_AUTHORITY_HOST / LICENSE_SYNC_GRAPH_ENDPOINT win. */
export function endpointsFor(cloud: Cloud, settings: Settings): CloudEndpoints {
  const base = cloud === 'simulated' ? settings.simulator : CLOUD_ENDPOINTS[cloud];
  const authorityHost = settings.authorityHostOverride ?? base?.authorityHost;
  const graphEndpoint = settings.graphEndpointOverride ?? base?.graphEndpoint;
  if (!authorityHost || !graphEndpoint) {
    throw new AppError('sign_in_failed', { detail: 'the simulated cloud exists only in local runs' });
  }
  return { authorityHost: trimSlash(authorityHost), graphEndpoint: trimSlash(graphEndpoint) };
}

/**
 * Instance discovery asks login.microsoftonline.com about the authority; for any other host (the simulator, a
 * private cloud) it must be off, so no request ever leaves for a Microsoft host the operator did not configure.
 */
export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  return MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).host);
}

/** The application-permission scope for this Graph endpoint, e.g. https://graph.microsoft.us/.default */
export function graphScope(endpoints: CloudEndpoints): string {
  return `${endpoints.graphEndpoint}/.default`;
}
