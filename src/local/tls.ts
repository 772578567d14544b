import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface LocalCertificate {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

const VALID_DAYS = 30;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made on this machine, for the simulated Microsoft
 * endpoints of local runs and tests. The Graph client and MSAL refuse plain http, so the simulator speaks
 * HTTPS; processes trust this certificate through NODE_EXTRA_CA_CERTS. Reused while it is fresh.
 *
 * It is a leaf, not a CA (CA:FALSE, no keyCertSign, serverAuth only, names 127.0.0.1 and localhost only):
 * trusting it process-wide vouches for these two names and nothing else, so whoever reads its key cannot sign
 * a certificate for login.microsoftonline.com that the process would accept.
 */
export async function ensureLocalCertificate(dir: string): Promise<LocalCertificate> {
  const certPath = path.join(dir, 'localhost-cert.pem');
  const keyPath = path.join(dir, 'localhost-key.pem');
  try {
    const info = await stat(certPath);
    const cert = await readFile(certPath, 'utf8');
    // A certificate of an older version (a CA) is replaced.
    if (Date.now() - info.mtimeMs < (VALID_DAYS - 2) * 86_400_000 && !new X509Certificate(cert).ca) {
      return { certPath, keyPath, cert, key: await readFile(keyPath, 'utf8') };
    }
  } catch {
    // none yet
  }
  // selfsigned is only needed on developer machines; the deployed app never loads this module.
  const selfsigned = (await import('selfsigned')) as unknown as {
    generate(attrs: unknown, options: unknown): Promise<{ private: string; cert: string }>;
  };
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + VALID_DAYS * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return { certPath, keyPath, cert: pems.cert, key: pems.private };
}
