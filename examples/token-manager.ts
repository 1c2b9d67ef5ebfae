/**
 * Keep a stored Salesforce grant healthy with `TokenManager`, with refresh-token rotation on:
 * concurrent callers share one refresh, a second worker adopts the rotated pair instead of
 * replaying a dead refresh token, credentials stay encrypted at rest (and survive a key rotation),
 * and revoking marks the integration as needing re-authorisation.
 *
 *   npx tsx examples/token-manager.ts
 *
 * Runs against the embedded emulator with refresh-token rotation switched on. (Against a real org,
 * the same code runs with the tokens from the web-server or device flow; see
 * examples/auth-web-server-flow.ts.) Tokens are never printed, only ciphertext key ids.
 */
import { randomBytes } from 'node:crypto';
import { CredentialCipher, isCrmError, MemoryStorage } from '@markmail/crm';
import {
  encodeSalesforceCredentials,
  getReauthorizationMarker,
  SalesforceOAuth,
  SalesforceProvider,
  TokenManager,
} from '@markmail/crm/salesforce';
import { startSalesforceEmulator } from '@markmail/crm/testing';

const emulator = await startSalesforceEmulator({ refreshTokenRotation: true });
console.log(`Started the Salesforce emulator at ${emulator.instanceUrl} (refresh-token rotation on)`);

const oauth = new SalesforceOAuth({
  loginUrl: emulator.loginUrl,
  clientId: emulator.clientId,
  clientSecret: emulator.clientSecret,
});
const storage = new MemoryStorage(); // shared by every worker (in production: SQLite/PostgreSQL)
const oldKey = randomBytes(32); // in production: CRM_KEY from your secret manager
const cipher = new CredentialCipher({ keys: { k2025: oldKey } });
const keyIdOf = (ciphertext: string) => CredentialCipher.keyIdOf(ciphertext);

// What the OAuth callback stored when the org was connected (see auth-web-server-flow.ts).
const integration = await storage.integrations.create({
  userId: 'user-1',
  provider: 'salesforce',
  orgId: emulator.orgId,
  instanceUrl: emulator.instanceUrl,
  credentials: cipher.encrypt(
    encodeSalesforceCredentials({
      accessToken: emulator.accessToken,
      refreshToken: emulator.refreshToken,
      instanceUrl: emulator.instanceUrl,
    }),
  ),
});

// Two workers (processes, in real life) manage the same integration through the same storage.
const workerA = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
const workerB = new TokenManager({ oauth, storage, cipher, integrationId: integration.id });
const staleForB = await workerB.getSession(); // B has loaded the current pair

// 1. Ten concurrent callers in worker A hit an expired session: one refresh serves them all.
const before = emulator.stats.tokenRequests;
await Promise.all(Array.from({ length: 10 }, () => workerA.refresh()));
console.log('\n1. Ten concurrent refresh() calls in worker A');
console.table({
  'network refreshes': workerA.refreshCount,
  'token endpoint requests': emulator.stats.tokenRequests - before,
  'stored ciphertext changed':
    (await storage.integrations.get(integration.id))?.credentials !== integration.credentials,
});

// 2. Worker B still holds the old access token. Its refresh finds the rotated pair in storage and
// adopts it: the superseded refresh token is never replayed (with rotation that revokes the grant).
const adopted = await workerB.refresh({ failedAccessToken: staleForB.accessToken });
console.log('\n2. Worker B refreshes with its stale token');
console.table({
  'worker B network refreshes': workerB.refreshCount,
  'B now uses A’s new token': adopted.accessToken === (await workerA.getAccessToken()),
});

// 3. A provider wired to the manager survives a session timeout: 401 → one refresh → retry.
const provider = new SalesforceProvider({
  instanceUrl: integration.instanceUrl,
  accessToken: await workerA.getAccessToken(),
  refreshAccessToken: () => workerA.refresh(),
});
emulator.oauth.expireAccessToken();
const synced = await provider.syncContact({
  externalId: 'sub-7',
  email: 'alan@example.com',
  lastName: 'Turing',
});
console.log(
  `\n3. After the session expired, syncContact still succeeded (${synced.crmId}); worker A refreshes: ${workerA.refreshCount}`,
);

// 4. Rotate the encryption key: list the new key next to the old one, make it current, re-encrypt
// the stored ciphertext (compare-and-swap), and drop the old key once every record is rotated.
const rotatedCipher = new CredentialCipher({
  keys: { k2025: oldKey, k2026: randomBytes(32) },
  currentKeyId: 'k2026',
});
const current = await storage.integrations.get(integration.id);
if (!current) throw new Error('integration vanished');
await storage.integrations.update(
  integration.id,
  { credentials: rotatedCipher.rotate(current.credentials) },
  { expectedCredentials: current.credentials },
);
const workerC = new TokenManager({ oauth, storage, cipher: rotatedCipher, integrationId: integration.id });
await workerC.getAccessToken();
const rotated = await storage.integrations.get(integration.id);
console.log(
  `4. Key rotation: ${keyIdOf(current.credentials)} → ${keyIdOf(rotated?.credentials ?? '')}; a worker with the new key reads the session`,
);

// 5. Disconnect: revoke the grant at Salesforce and pause the integration until it is reconnected.
await workerC.revoke();
const revoked = await storage.integrations.get(integration.id);
console.log('\n5. After revoke()');
console.table({
  syncEnabled: revoked?.syncEnabled,
  reauthorization: revoked ? (getReauthorizationMarker(revoked)?.reason ?? 'none') : 'gone',
});
try {
  // Any worker that starts now fails fast, without calling Salesforce, until the org is reconnected.
  await new TokenManager({
    oauth,
    storage,
    cipher: rotatedCipher,
    integrationId: integration.id,
  }).getAccessToken();
} catch (error) {
  if (!isCrmError(error)) throw error;
  console.log(`   A new worker fails fast: ${error.name} (providerCode ${error.providerCode})`);
}

await emulator.stop();
