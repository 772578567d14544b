import { GraphError } from '@microsoft/microsoft-graph-client';
import type { Settings } from '../config/settings';
import { loadSettings } from '../config/settings';
import { retryAfterMs } from './client';
import { endpointsFor, isMicrosoftAuthorityHost } from '../domain/clouds';
import { GraphNetworkError, SignInError, sanitizeDetail, graphFailure } from './errors';

describe('Retry-After', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  test('reads whole seconds', () => expect(retryAfterMs('120', now)).toBe(120_000));
  test('reads fractional seconds', () => expect(retryAfterMs('0.25', now)).toBe(250));
  test('reads an HTTP date as the time left until it', () =>
    expect(retryAfterMs('Wed, 01 Jan 2025 12:00:03 GMT', now)).toBe(3_000));
  test('reads an HTTP date in the past as no wait', () =>
    expect(retryAfterMs('Wed, 01 Jan 2025 11:00:00 GMT', now)).toBe(0));
  test('ignores a missing or unreadable value', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('error mapping', () => {
  function graphError(status: number, code: string, message: string): GraphError {
    const error = new GraphError(status, message);
    error.code = code;
    return error;
  }

  test('403 Authorization_RequestDenied is consent_missing', () => {
    expect(
      graphFailure(graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'))
        .code,
    ).toBe('consent_missing');
  });

  test('429 left after the retries is throttled and transient', () => {
    const error = graphFailure(graphError(429, 'TooManyRequests', 'Too many requests'));
    expect([error.code, error.transient]).toEqual(['throttled', true]);
  });

  test('5xx is a transient graph_error; 4xx a permanent one', () => {
    expect(graphFailure(graphError(502, 'BadGateway', 'x')).transient).toBe(true);
    expect(graphFailure(graphError(404, 'Request_ResourceNotFound', 'x')).transient).toBe(false);
  });

  test('refused connections, resets and DNS failures are graph_unreachable and transient', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT']) {
      const error = graphFailure(
        new GraphNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code }) })),
      );
      expect([error.code, error.transient]).toEqual(['graph_unreachable', true]);
    }
  });

  test('an unknown AADSTS code is sign_in_failed with the code as detail', () => {
    const error = graphFailure(
      new SignInError(
        new Error(
          'invalid_request: Error(s): 53003 - Description: AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
        ),
      ),
    );
    expect(error.code).toBe('sign_in_failed');
    expect(error.detail).toBe('AADSTS53003: Access has been blocked by Conditional Access policies.');
  });

  test('the detail never carries a token, assertion or secret', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const text = sanitizeDetail(
      `failed with Bearer abc123 client_secret=hunter2hunter2 client_assertion=${jwt} refresh ${'A'.repeat(60)}`,
    );
    for (const leaked of ['abc123', 'hunter2', jwt, 'A'.repeat(60)]) expect(text).not.toContain(leaked);
  });

  test('a Graph message with a token in it is shown without the token', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const error = graphFailure(graphError(400, 'BadRequest', `Token ${jwt} is malformed.`));
    expect(error.message).not.toContain(jwt);
    expect(error.message).toContain('BadRequest');
  });
});

describe('clouds', () => {
  const base: Settings = loadSettings({});

  test('each cloud has its own authority host and Graph endpoint', () => {
    expect(endpointsFor('global', base)).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      graphEndpoint: 'https://graph.microsoft.com',
    });
    expect(endpointsFor('usgov', base)).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
      graphEndpoint: 'https://graph.microsoft.us',
    });
    expect(endpointsFor('usgovdod', base)).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
      graphEndpoint: 'https://dod-graph.microsoft.us',
    });
    expect(endpointsFor('china', base)).toEqual({
      authorityHost: 'https://login.chinacloudapi.cn',
      graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
    });
  });

  test('the operator overrides win over the cloud', () => {
    const settings = {
      ...base,
      authorityHostOverride: 'https://login.example.test/',
      graphEndpointOverride: 'https://graph.example.test',
    };
    expect(endpointsFor('china', settings)).toEqual({
      authorityHost: 'https://login.example.test',
      graphEndpoint: 'https://graph.example.test',
    });
  });

  test('the simulated cloud exists only when the local host configured it', () => {
    expect(() => endpointsFor('simulated', base)).toThrow(/only in local runs/);
    const local = {
      ...base,
      simulator: { authorityHost: 'https://127.0.0.1:9', graphEndpoint: 'https://127.0.0.1:9' },
    };
    expect(endpointsFor('simulated', local).graphEndpoint).toBe('https://127.0.0.1:9');
  });

  test('instance discovery is only for Microsoft authority hosts', () => {
    expect(isMicrosoftAuthorityHost('https://login.microsoftonline.com')).toBe(true);
    expect(isMicrosoftAuthorityHost('https://127.0.0.1:8443')).toBe(false);
  });
});
