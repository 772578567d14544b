import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { testTls } from '../../test/support/env';
import { ensureLocalCertificate } from './tls';

/**
 * The local certificate is trusted process-wide (NODE_EXTRA_CA_CERTS): its key must not be able to vouch for any
 * other name, such as Microsoft's sign-in service.
 */

type Generate = (attrs: unknown, options: unknown) => Promise<{ private: string; cert: string }>;

async function generate(attrs: unknown, options: unknown): Promise<{ private: string; cert: string }> {
  const selfsigned = (await import('selfsigned')) as unknown as { generate: Generate };
  return selfsigned.generate(attrs, options);
}

/** Serves `cert` (with its issuer as the chain) and connects as to `servername`, trusting only `trusted`. */
async function handshake(cert: string, key: string, servername: string, trusted?: string): Promise<string> {
  const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string>((resolve) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: (server.address() as AddressInfo).port,
            servername,
            headers: { host: servername },
            // Undefined: the process-wide trust (NODE_EXTRA_CA_CERTS), as the Graph client and MSAL have it.
            ...(trusted ? { ca: [trusted] } : {}),
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve('accepted'));
          },
        )
        .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function forgeFor(name: string, issuer: { cert: string; key: string }) {
  const forged = await generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { cert: issuer.cert, key: issuer.key },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: name }] },
    ],
  });
  // The chain the attacker's server sends: its certificate, then the issuer.
  return { cert: `${forged.cert.trim()}\n${issuer.cert.trim()}\n`, key: forged.private };
}

describe('the local TLS certificate', () => {
  let local: { cert: string; key: string };
  beforeAll(async () => {
    local = await ensureLocalCertificate(await mkdtemp(path.join(os.tmpdir(), 'license-sync-tls-')));
  });

  it('is a leaf for 127.0.0.1 and localhost only: not a CA, server authentication only', () => {
    const x509 = new X509Certificate(local.cert);
    expect(x509.ca).toBe(false);
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.checkHost('login.microsoftonline.com')).toBeUndefined();
  });

  it('is accepted for 127.0.0.1, where the simulator answers', async () => {
    expect(await handshake(local.cert, local.key, 'localhost', local.cert)).toBe('accepted');
  });

  it('cannot vouch for a certificate for login.microsoftonline.com signed with its key', async () => {
    const forged = await forgeFor('login.microsoftonline.com', local);
    const outcome = await handshake(forged.cert, forged.key, 'login.microsoftonline.com', local.cert);
    expect(outcome).not.toBe('accepted');
    expect(outcome).toMatch(/CERT|UNSPECIFIED/);
  });

  it("cannot, with the test suite's certificate trusted process-wide, either", async () => {
    const suite = testTls();
    expect(await handshake(suite.cert, suite.key, 'localhost')).toBe('accepted');
    const forged = await forgeFor('login.microsoftonline.com', suite);
    expect(await handshake(forged.cert, forged.key, 'login.microsoftonline.com')).not.toBe('accepted');
  });

  it('(control) a CA-style certificate, as before, would have vouched for it', async () => {
    const ca = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      ],
    });
    const forged = await forgeFor('login.microsoftonline.com', { cert: ca.cert, key: ca.private });
    expect(await handshake(forged.cert, forged.key, 'login.microsoftonline.com', ca.cert)).toBe('accepted');
  });
});
