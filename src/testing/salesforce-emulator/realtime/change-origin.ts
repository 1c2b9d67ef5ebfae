import type { EmulatorRequestContext } from '../http/types.js';

/**
 * The CDC `changeOrigin` Salesforce records for an API write:
 * `com/salesforce/api/<api>/<version>` plus `;client=<tag>` when the caller sent
 * `Sforce-Call-Options: client=<tag>`. Route handlers pass it to `store.withOrigin(origin, write)`
 * so change events let a client recognise echoes of its own writes.
 *
 * @param request the route context (its `Sforce-Call-Options` header and API version are read).
 * @param api which API took the write. @default 'rest'
 */
export function requestChangeOrigin(
  request: EmulatorRequestContext,
  api: 'rest' | 'soap' | 'bulkapi' = 'rest',
): string {
  const version = request.apiVersion > 0 ? `${request.apiVersion}.0` : '62.0';
  const header = request.headers['sforce-call-options'];
  const options = Array.isArray(header) ? header.join(',') : (header ?? '');
  const client = /(?:^|[,;]\s*)client=([^,;]+)/i.exec(options)?.[1]?.trim();
  return `com/salesforce/api/${api}/${version}${client ? `;client=${client}` : ''}`;
}
