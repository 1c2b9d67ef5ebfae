/**
 * Two logins without a browser redirect:
 *
 * - Device flow: for CLIs and headless boxes. Show the user a short code and a URL, poll until they
 *   approved it on any device.
 * - JWT bearer: for servers acting as a pre-authorised integration user. Sign a JWT with the
 *   private key whose certificate is on the connected app; no refresh token is issued, so a
 *   TokenManager with `reauthorize` signs a new one whenever the session expires.
 *
 *   npx tsx examples/auth-device-and-jwt.ts
 *
 * Against the embedded emulator (default) the "user" approves the device code by opening the
 * verification page with `fetch`, and the JWT certificate is registered through a test control.
 *
 * Against a real org set SF_CLIENT_ID (app with "Enable for Device Flow" and a certificate for JWT),
 * optionally SF_LOGIN_URL; for the JWT part also SF_USERNAME and SF_PRIVATE_KEY_FILE (PEM).
 * Tokens are never printed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SalesforceOAuth, SalesforceProvider, TokenManager } from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const realOrg = Boolean(process.env.SF_CLIENT_ID);
// A 1-second poll interval keeps the demo short; Salesforce announces 5 seconds.
const emulator = realOrg ? null : await startSalesforceEmulator({ deviceCodeIntervalSeconds: 1 });
console.log(realOrg ? 'Using a real org' : `Started the Salesforce emulator at ${emulator!.instanceUrl}`);

const oauth = new SalesforceOAuth({
  loginUrl: process.env.SF_LOGIN_URL ?? emulator?.loginUrl ?? 'https://login.salesforce.com',
  clientId: process.env.SF_CLIENT_ID ?? emulator!.clientId,
});

// ── Device flow ──────────────────────────────────────────────────────────────────────────────
console.log('\nDevice flow');
const start = await oauth.startDeviceFlow({ scope: 'api refresh_token' });
console.log(`  Go to ${start.verificationUri} and enter the code ${start.userCode}`);
console.log(`  (polling every ${start.interval} s until ${start.expiresAt.toISOString()})`);

const deviceTokens = await oauth.pollDeviceFlow(start, {
  signal: AbortSignal.timeout(5 * 60_000),
  onPending: ({ attempt, nextPollInMs }) => {
    console.log(`  … not approved yet (poll ${attempt}), next poll in ${nextPollInMs} ms`);
    // Emulator only: the user opens the verification page and approves the code.
    if (emulator && attempt === 1) {
      void fetch(`${start.verificationUri}?user_code=${encodeURIComponent(start.userCode)}`).then((page) =>
        console.log(`  [user] opened the verification page and approved: HTTP ${page.status}`),
      );
    }
  },
});
console.log(
  `  Approved: org ${deviceTokens.orgId}, instance ${deviceTokens.instanceUrl}, refresh token issued: ${deviceTokens.refreshToken !== undefined}`,
);
const viaDevice = new SalesforceProvider({
  instanceUrl: deviceTokens.instanceUrl,
  accessToken: deviceTokens.accessToken,
});
const customFields = await viaDevice.getCustomFields();
console.log(`  API call with the device-flow session: ${customFields.length} Contact fields described`);

// ── JWT bearer ───────────────────────────────────────────────────────────────────────────────
const jwtUser = process.env.SF_USERNAME ?? emulator?.username;
const keyFile = process.env.SF_PRIVATE_KEY_FILE;
if (!jwtUser || (realOrg && !keyFile)) {
  console.log('\nJWT bearer skipped: set SF_USERNAME and SF_PRIVATE_KEY_FILE');
} else {
  console.log('\nJWT bearer');
  let privateKey: string;
  if (keyFile) {
    privateKey = readFileSync(keyFile, 'utf8');
  } else {
    // Emulator only: make a key pair and upload its public half, as you would upload a
    // certificate to the connected app in Setup.
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    emulator!.oauth.registerJwtCertificate(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    console.log('  Registered the public key with the emulator (Setup → App → "Use digital signatures")');
  }
  const login = (signal?: AbortSignal) =>
    oauth.jwtBearer({ username: jwtUser, privateKey, ...(signal ? { signal } : {}) });
  const first = await login();
  console.log(
    `  Logged in as ${jwtUser}: org ${first.orgId}, refresh token issued: ${first.refreshToken !== undefined}`,
  );

  // No refresh token: the manager signs a fresh JWT whenever Salesforce rejects the session.
  const tokens = new TokenManager({ oauth, tokens: first, reauthorize: login });
  const session = await tokens.getSession();
  const provider = new SalesforceProvider({
    instanceUrl: session.instanceUrl,
    accessToken: session.accessToken,
    refreshAccessToken: () => tokens.refresh(),
  });
  emulator?.oauth.expireAccessToken();
  if (emulator) console.log('  [emulator] expired every access token, as a session timeout would');
  const result = await provider.syncContact({
    externalId: 'sub-jwt-1',
    email: 'katherine@example.com',
    firstName: 'Katherine',
    lastName: 'Johnson',
  });
  console.log(
    `  Upserted contact ${result.crmId} (created: ${result.created}); new JWT logins: ${tokens.refreshCount}`,
  );
}

await emulator?.stop();
