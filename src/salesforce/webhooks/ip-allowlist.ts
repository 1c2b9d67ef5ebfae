import { BlockList, isIP } from 'node:net';
import { CrmConfigurationError } from '../../core/errors.js';

/**
 * Key under which `toNodeHttpListener` attaches the socket's peer address to the `Request` it
 * builds. A symbol property cannot be set by a client, unlike a header.
 */
export const REMOTE_ADDRESS = Symbol.for('@markmail/crm.remoteAddress');

/** IP allowlisting for a webhook handler. */
export interface WebhookIpAllowlist {
  /**
   * Addresses or CIDR ranges (IPv4 or IPv6) allowed to call the handler, e.g. the ranges
   * Salesforce publishes for your instance. Others get 403 before the body is read.
   */
  ranges: readonly string[];
  /**
   * The peer address of a request. By default the address `toNodeHttpListener` attached;
   * on other runtimes pass your framework's (e.g. `(req) => getConnInfo(req).remote.address`).
   */
  clientAddress?: (request: Request) => string | null | undefined;
  /**
   * Proxies in front of the handler (addresses or CIDR ranges). Only when the peer is one of them
   * is `X-Forwarded-For` read, right to left, skipping trusted proxies; without this setting
   * the header is ignored (anyone can send it). @default []
   */
  trustedProxies?: readonly string[];
}

/** A compiled {@link WebhookIpAllowlist}: `allows(request)` decides one request. */
export interface IpAllowlistCheck {
  allows(request: Request): boolean;
}

/**
 * Compile an allowlist.
 * @throws {CrmConfigurationError} naming the first entry that is not an address or CIDR range.
 */
export function compileIpAllowlist(options: WebhookIpAllowlist, owner: string): IpAllowlistCheck {
  if (!options || !Array.isArray(options.ranges) || options.ranges.length === 0) {
    throw new CrmConfigurationError(`${owner}: ipAllowlist.ranges must list at least one address or range`, {
      fields: ['ipAllowlist.ranges'],
    });
  }
  const allowed = toBlockList(options.ranges, `${owner}: ipAllowlist.ranges`);
  const proxies = toBlockList(options.trustedProxies ?? [], `${owner}: ipAllowlist.trustedProxies`);
  const hasProxies = (options.trustedProxies ?? []).length > 0;
  const peerOf =
    options.clientAddress ??
    ((request: Request) => (request as unknown as Record<symbol, string | undefined>)[REMOTE_ADDRESS]);
  return {
    allows(request) {
      let address = normalise(peerOf(request));
      if (!address) return false;
      if (hasProxies && contains(proxies, address)) {
        const forwarded = (request.headers.get('x-forwarded-for') ?? '')
          .split(',')
          .map((part) => normalise(part.trim()))
          .filter((part): part is string => part !== undefined);
        // The rightmost hop not added by a trusted proxy is the client.
        for (let i = forwarded.length - 1; i >= 0; i--) {
          address = forwarded[i] as string;
          if (!contains(proxies, address)) break;
        }
      }
      return contains(allowed, address);
    },
  };
}

function toBlockList(entries: readonly string[], what: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [base = '', prefix] = String(entry).trim().split('/');
    const family = isIP(base);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      throw new CrmConfigurationError(`${what}: "${entry}" is not an IP address or CIDR range`, {
        fields: [what],
      });
    }
    list.addSubnet(base, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** An address without an IPv4-mapped IPv6 prefix or zone, or `undefined` when it is not one. */
function normalise(address: string | null | undefined): string | undefined {
  if (!address) return undefined;
  let value = address.trim();
  if (value.startsWith('::ffff:') && isIP(value.slice(7)) === 4) value = value.slice(7);
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  return isIP(value) === 0 ? undefined : value;
}

function contains(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
