import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/** A PEM key and certificate for `https.createServer`. */
export interface TlsMaterial {
  key: string;
  cert: string;
}

/**
 * A self-signed X.509 v3 certificate (ECDSA P-256, SHA-256) for `host`, valid from a minute ago
 * for a day, with `host`, `localhost` and 127.0.0.1/::1 as subject alternative names. node:crypto
 * signs but does not build certificates, so the DER is assembled here (RFC 5280 §4.1); the
 * structure is small and fixed, which is why no ASN.1 library is pulled in for it.
 */
export function selfSignedCertificate(
  host: string,
  now: Date = new Date(),
  serialBytes: Buffer = randomBytes(16),
): TlsMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ecdsaWithSha256 = seq(oid([1, 2, 840, 10045, 4, 3, 2]));
  const name = seq(set(seq(oid([2, 5, 4, 3]), tlv(0x0c, Buffer.from('MarkMail Salesforce Emulator')))));
  const serial = Buffer.from(serialBytes);
  serial[0] = (serial[0] as number) & 0x7f; // RFC 5280 §4.1.2.2: a positive integer
  const names = new Set([host, 'localhost', '127.0.0.1', '::1']);
  const altNames = [...names].map((entry) =>
    isIP(entry) ? tlv(0x87, ipBytes(entry)) : tlv(0x82, Buffer.from(entry, 'ascii')),
  );
  const extensions = explicit(
    3,
    seq(
      // subjectAltName
      seq(oid([2, 5, 29, 17]), tlv(0x04, seq(...altNames))),
      // basicConstraints: not a CA
      seq(oid([2, 5, 29, 19]), tlv(0x04, seq())),
    ),
  );
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + 86_400_000))),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certificate = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: pem('CERTIFICATE', certificate),
  };
}

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function explicit(tagNumber: number, content: Buffer): Buffer {
  return tlv(0xa0 + tagNumber, content);
}

/**
 * A DER INTEGER of the unsigned big-endian `bytes`: minimal (X.690 §8.3.2 — no leading 0x00 unless
 * the next byte has its high bit set, which would read as negative). A serial that happened to
 * start with 0x00 0x0…–0x7… was otherwise refused by OpenSSL ("illegal padding"), 1 start in 256.
 */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const magnitude = bytes.subarray(start);
  const content =
    ((magnitude[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  return tlv(0x02, content.length === 0 ? Buffer.from([0]) : content);
}

function oid(parts: number[]): Buffer {
  const [first = 0, second = 0, ...rest] = parts;
  const bytes = [first * 40 + second];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let n = part >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const two = (n: number) => String(n).padStart(2, '0');
  const text =
    two(date.getUTCFullYear() % 100) +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand `::` and write eight 16-bit groups.
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [
    ...headGroups,
    ...Array(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  const buffer = Buffer.alloc(16);
  groups.forEach((group, i) => {
    buffer.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  });
  return buffer;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
