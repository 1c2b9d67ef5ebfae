import { CrmConfigurationError } from '../../core/errors.js';

/**
 * Salesforce login hosts. Production orgs (and Developer Edition) authenticate at
 * `login.salesforce.com`, sandboxes at `test.salesforce.com`; an org with My Domain may use its own
 * host (see {@link salesforceMyDomainLoginUrl}), which is also what Salesforce recommends once
 * "Prevent login from login.salesforce.com" is enabled.
 */
export const SalesforceLoginUrls = {
  /** Production and Developer Edition orgs. */
  production: 'https://login.salesforce.com',
  /** Sandboxes. */
  sandbox: 'https://test.salesforce.com',
} as const;

/**
 * The login URL of a My Domain: `https://<domain>.my.salesforce.com`, or for a sandbox
 * `https://<domain>--<sandbox>.sandbox.my.salesforce.com`.
 *
 * @throws CrmConfigurationError when a name contains anything but letters, digits and hyphens.
 * @example
 * salesforceMyDomainLoginUrl('acme') // 'https://acme.my.salesforce.com'
 * salesforceMyDomainLoginUrl('acme', { sandbox: 'uat' }) // 'https://acme--uat.sandbox.my.salesforce.com'
 */
export function salesforceMyDomainLoginUrl(domain: string, options: { sandbox?: string } = {}): string {
  const valid = /^[A-Za-z0-9-]{1,80}$/;
  if (!valid.test(domain) || (options.sandbox !== undefined && !valid.test(options.sandbox))) {
    throw new CrmConfigurationError(
      'My Domain and sandbox names may contain only letters, digits and hyphens',
      {
        provider: 'salesforce',
        fields: ['domain'],
      },
    );
  }
  const host = options.sandbox
    ? `${domain}--${options.sandbox}.sandbox.my.salesforce.com`
    : `${domain}.my.salesforce.com`;
  return `https://${host.toLowerCase()}`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Validate and normalise a login or instance URL to its origin (no trailing slash, no path).
 * Only `https:` is accepted, except `http:` on a loopback host (the embedded emulator), because
 * tokens and client secrets travel in these requests.
 *
 * @throws CrmConfigurationError for anything that is not such a URL.
 */
export function normaliseSalesforceUrl(value: string, field = 'loginUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new CrmConfigurationError(`Salesforce ${field} is not a valid URL`, {
      provider: 'salesforce',
      fields: [field],
      cause,
    });
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new CrmConfigurationError(`Salesforce ${field} must use https (http is allowed only on loopback)`, {
      provider: 'salesforce',
      fields: [field],
    });
  }
  if (url.username || url.password) {
    throw new CrmConfigurationError(`Salesforce ${field} must not contain credentials`, {
      provider: 'salesforce',
      fields: [field],
    });
  }
  return url.origin;
}

/**
 * The `aud` claim Salesforce expects in a JWT bearer assertion for a given login URL:
 * `https://test.salesforce.com` for sandboxes (including sandbox My Domains),
 * `https://login.salesforce.com` for every other salesforce.com host, and the login URL itself
 * otherwise (Experience Cloud sites, the local emulator).
 */
export function defaultJwtAudience(loginUrl: string): string {
  const { hostname, origin } = new URL(loginUrl);
  if (hostname === 'test.salesforce.com' || hostname.endsWith('.sandbox.my.salesforce.com')) {
    return SalesforceLoginUrls.sandbox;
  }
  if (hostname === 'login.salesforce.com' || hostname.endsWith('.salesforce.com')) {
    return SalesforceLoginUrls.production;
  }
  return origin;
}
