/**
 * Connect a Salesforce org with the OAuth 2.0 web-server flow (PKCE), the way a web app does it:
 * build the authorize URL, let Salesforce redirect back to your callback route, store the org as an
 * integration with encrypted credentials, then call the API through a TokenManager.
 *
 *   npx tsx examples/auth-web-server-flow.ts
 *
 * Against the embedded emulator (default) the whole flow runs headlessly: the emulator's authorize
 * page approves at once and redirects, and this script follows that redirect with `fetch` and hands
 * the callback `Request` to the handler, exactly as your HTTP framework would.
 *
 * Against a real org, set SF_CLIENT_ID (consumer key of a connected app / External Client App with
 * callback URL http://localhost:1717/oauth/callback, or set SF_REDIRECT_URI), optionally
 * SF_CLIENT_SECRET and SF_LOGIN_URL (default https://login.salesforce.com). The script then
 * listens on the redirect URI and waits for you to log in with the printed URL.
 *
 * Set CRM_KEY (32 random bytes, base64) to keep the encryption key stable; tokens are never printed.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { CredentialCipher, MemoryStorage } from '@markmail/crm';
import {
  beginOAuthAuthorization,
  createOAuthCallbackHandler,
  MemoryOAuthStateStore,
  SalesforceOAuth,
  SalesforceProvider,
  TokenManager,
  toNodeHttpListener,
} from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const realOrg = Boolean(process.env.SF_CLIENT_ID);
const emulator = realOrg ? null : await startSalesforceEmulator();
console.log(
  realOrg
    ? `Using the login host ${process.env.SF_LOGIN_URL ?? 'https://login.salesforce.com'}`
    : `Started the Salesforce emulator at ${emulator!.instanceUrl}`,
);

// 1. One-time setup in your app: the OAuth client, a key for credentials at rest, storage.
const redirectUri = process.env.SF_REDIRECT_URI ?? 'http://localhost:1717/oauth/callback';
const clientSecret = process.env.SF_CLIENT_SECRET ?? emulator?.clientSecret;
const oauth = new SalesforceOAuth({
  loginUrl: process.env.SF_LOGIN_URL ?? emulator?.loginUrl ?? 'https://login.salesforce.com',
  clientId: process.env.SF_CLIENT_ID ?? emulator!.clientId,
  ...(clientSecret ? { clientSecret } : {}),
  redirectUri,
});
const cipher = new CredentialCipher({ keys: { k1: process.env.CRM_KEY ?? randomBytes(32) } });
const storage = new MemoryStorage();
// Pending authorisations (PKCE verifier, user) keyed by the OAuth `state`; single use, 10 min TTL.
// Behind a load balancer use SealedOAuthStateStore({ cipher }) or your own Redis-backed store.
const stateStore = new MemoryOAuthStateStore();

// 2. Your callback route (GET /oauth/callback): a Web-standard Request → Response handler.
const callback = createOAuthCallbackHandler({
  oauth,
  storage,
  cipher,
  stateStore,
  // In a real app: read the signed-in user from the session cookie; it must match the starter.
  resolveUser: () => 'user-1',
});

// 3. "Connect Salesforce" button: remember the verifier under a fresh state, redirect the browser.
const { url } = await beginOAuthAuthorization({
  oauth,
  stateStore,
  userId: 'user-1',
  returnTo: '/settings/crm',
});
const authorize = new URL(url);
console.log('\nAuthorize URL (PKCE S256):');
console.log(`  ${authorize.origin}${authorize.pathname}`);
for (const key of ['response_type', 'redirect_uri', 'scope', 'code_challenge_method']) {
  console.log(`    ${key}=${authorize.searchParams.get(key)}`);
}

let response: Response;
if (emulator) {
  // The browser's part: the emulator approves immediately and redirects to the callback URL.
  const approval = await fetch(url, { redirect: 'manual' });
  const location = approval.headers.get('location');
  if (approval.status !== 302 || !location) throw new Error(`Unexpected authorize answer ${approval.status}`);
  console.log(
    `\nSalesforce redirected (${approval.status}) to ${new URL(location).pathname} with code and state`,
  );
  response = await callback(new Request(location));
  // The code and state are single use: a replayed callback (double click, back button) is refused.
  const replay = await callback(new Request(location));
  console.log(`Callback answered ${response.status} → ${response.headers.get('location')}`);
  console.log(`Replaying the same callback URL answers ${replay.status} (state already used)`);
} else {
  // Serve the callback on the redirect URI until the user finished logging in.
  const port = Number(new URL(redirectUri).port || 80);
  response = await new Promise<Response>((resolve) => {
    const server = createServer(
      toNodeHttpListener(async (request) => {
        const answer = await callback(request);
        if (new URL(request.url).pathname === new URL(redirectUri).pathname) {
          server.close();
          resolve(answer.clone());
        }
        return answer;
      }),
    ).listen(port, () => console.log(`\nOpen this URL in a browser and log in:\n  ${url}\n`));
  });
  console.log(`Callback answered ${response.status}`);
}

// 4. What was stored: the org as an integration, credentials as ciphertext only.
const [integration] = await storage.integrations.findByUser('user-1', 'salesforce');
if (!integration) throw new Error('No integration stored');
const [version, keyId] = integration.credentials.split('.');
console.log('\nStored integration');
console.table({
  id: integration.id,
  orgId: integration.orgId,
  instanceUrl: integration.instanceUrl,
  syncEnabled: integration.syncEnabled,
  credentials: `${version}.${keyId}.… (${integration.credentials.length} chars of AES-256-GCM ciphertext)`,
});

// 5. Later, in any worker: a TokenManager reads and decrypts the credentials, refreshes when
// Salesforce says the session expired, and stores rotated tokens encrypted again.
const tokens = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
const session = await tokens.getSession();
const provider = new SalesforceProvider({
  instanceUrl: session.instanceUrl,
  accessToken: session.accessToken,
  refreshAccessToken: () => tokens.refresh(),
});
const identity = await oauth.userinfo(session.accessToken, session.instanceUrl);
console.log(`\nConnected as ${identity.username} (org ${identity.orgId})`);

if (emulator) {
  // Expire the session as Salesforce would after its timeout; the next call refreshes once.
  emulator.oauth.expireAccessToken();
  const result = await provider.syncContact({
    externalId: 'sub-42',
    email: 'grace@example.com',
    firstName: 'Grace',
    lastName: 'Hopper',
  });
  console.log(
    `Upserted contact ${result.crmId} (created: ${result.created}) after the session expired; refreshes: ${tokens.refreshCount}`,
  );
  const after = await storage.integrations.get(integration.id);
  console.log(
    `Stored ciphertext replaced after the refresh: ${after?.credentials !== integration.credentials}`,
  );
} else {
  const found = await provider.getContact(identity.email ?? 'nobody@example.com');
  console.log(`Your own contact record: ${found?.id ?? 'none'}`);
}

await emulator?.stop();
