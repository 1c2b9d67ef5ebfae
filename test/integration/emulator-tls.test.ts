import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SalesforceEmulator, startSalesforceEmulator } from '../../src/testing/index.js';
import { selfSignedCertificate } from '../../src/testing/salesforce-emulator/http/self-signed.js';

let sf: SalesforceEmulator;

beforeAll(async () => {
  sf = await startSalesforceEmulator({ tls: true });
});
afterAll(async () => {
  await sf.stop();
});

function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${sf.accessToken}` }, ...(ca ? { ca } : {}) },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('emulator over TLS', () => {
  it('serves https URLs, identity included, to a client that trusts its certificate', async () => {
    expect(sf.instanceUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sf.identityUrl.startsWith(`${sf.instanceUrl}/id/`)).toBe(true);
    const identity = await get(sf.identityUrl, sf.certificate);
    expect(identity.status).toBe(200);
    expect(JSON.parse(identity.body)).toMatchObject({ user_id: sf.userId, id: sf.identityUrl });
  });

  it('presents a self-signed certificate for 127.0.0.1 and localhost that untrusting clients refuse', async () => {
    const certificate = new X509Certificate(sf.certificate as string);
    expect(certificate.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(certificate.subjectAltName).toContain('DNS:localhost');
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    await expect(get(`${sf.instanceUrl}/services/data`)).rejects.toMatchObject({
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
  });

  it('takes a certificate of the caller, and refuses a malformed tls option', async () => {
    const own = await startSalesforceEmulator({ tls: { key: 'not a key', cert: 'not a cert' } }).catch(
      (e: Error) => e,
    );
    expect(own).toBeInstanceOf(Error);
    await expect(startSalesforceEmulator({ tls: 'yes' as never })).rejects.toThrow(/option "tls"/);
    const material = selfSignedCertificate('127.0.0.1');
    const mine = await startSalesforceEmulator({ tls: material });
    expect(mine.certificate).toBe(material.cert);
    expect((await get(`${mine.instanceUrl}/services/data`, material.cert)).status).toBe(200);
    await mine.stop();
    const plain = await startSalesforceEmulator();
    expect(plain.certificate).toBeUndefined();
    expect(plain.instanceUrl.startsWith('http://')).toBe(true);
    await plain.stop();
  });

  it('encodes any serial as a minimal DER INTEGER (a leading zero byte once made OpenSSL refuse the certificate)', () => {
    // 16 serial bytes each; the top bit is cleared (serials are positive).
    const cases = [
      ['00'.repeat(1) + '01'.padEnd(30, '0'), '01'.padEnd(30, '0')],
      ['0000ff'.padEnd(32, '0'), 'ff'.padEnd(28, '0')],
      ['80ff'.padEnd(32, '0'), '00ff'.padEnd(32, '0')],
      ['ff'.repeat(16), `7f${'ff'.repeat(15)}`],
      ['00'.repeat(16), '00'],
    ];
    for (const [bytes, expected] of cases) {
      const material = selfSignedCertificate('127.0.0.1', new Date(), Buffer.from(bytes as string, 'hex'));
      const parsed = new X509Certificate(material.cert);
      expect(BigInt(`0x${parsed.serialNumber}`)).toBe(BigInt(`0x${expected}`));
    }
  });
});
