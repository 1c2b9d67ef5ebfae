import { HttpProblem } from './responses.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for state-changing requests, by checking that they come from the page's own
 * origin: `Sec-Fetch-Site` (sent by every current browser) must be `same-origin` or `none`, and
 * where only `Origin` is sent it must equal the request's origin or an allowed one. A request with
 * neither header is not from a browser (curl, a server) and cannot carry a victim's cookies
 * cross-site, so it passes. No token to issue, store or rotate, so the handler stays stateless.
 *
 * @throws HttpProblem 403 for a cross-site request.
 */
export function assertSameOrigin(request: Request, allowedOrigins: ReadonlySet<string>): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.get('origin');
  if (origin && allowedOrigins.has(origin)) return;
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) {
    if (site === 'same-origin' || site === 'none') return;
    throw forbidden();
  }
  if (origin !== null && origin !== new URL(request.url).origin) throw forbidden();
}

function forbidden(): HttpProblem {
  return new HttpProblem(
    403,
    'FORBIDDEN',
    'Cross-site request refused: state-changing calls must come from the same origin',
  );
}
