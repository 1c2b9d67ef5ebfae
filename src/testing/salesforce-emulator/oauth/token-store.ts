import { randomBytes } from 'node:crypto';
import type { EmulatorSession } from '../http/types.js';

/** `length` random alphanumeric characters. */
function opaque(length: number): string {
  return randomBytes(length * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, length);
}

/** An authorisation (one consent): its access and refresh tokens live and die together. */
export interface OAuthGrant {
  id: number;
  clientId: string;
  userId: string;
  scope: string;
  revoked: boolean;
}

interface AccessTokenEntry {
  grantId: number;
  issuedAt: number;
  expiresAt: number | undefined;
  expired: boolean;
}

interface RefreshTokenEntry {
  grantId: number;
  /** Replaced by a rotated successor; reusing it revokes the grant. */
  superseded: boolean;
  /** A refresh with this token is being processed (parallel refreshes are refused). */
  inFlight: boolean;
}

/** Issued tokens. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string | undefined;
  issuedAt: number;
  grant: OAuthGrant;
}

/** Outcome of presenting a refresh token. */
export type RefreshCheck =
  | { ok: true; grant: OAuthGrant; entry: RefreshTokenEntry }
  | { ok: false; reason: 'unknown' | 'revoked' | 'reused' | 'in-flight' };

/**
 * Access tokens, refresh tokens and grants of one org. Revoking a grant (explicitly, or because a
 * superseded rotated refresh token was replayed) kills every token issued under it.
 */
export class TokenStore {
  private readonly grants = new Map<number, OAuthGrant>();
  private readonly accessTokens = new Map<string, AccessTokenEntry>();
  private readonly refreshTokens = new Map<string, RefreshTokenEntry>();
  private nextGrantId = 1;

  constructor(
    private readonly orgId15: string,
    private readonly orgId: string,
    private readonly now: () => number,
  ) {}

  /** Opens a grant and issues its first tokens. */
  createGrant(
    clientId: string,
    userId: string,
    scope: string,
    withRefreshToken: boolean,
    ttlMs: number | undefined,
  ): IssuedTokens {
    const grant: OAuthGrant = { id: this.nextGrantId++, clientId, userId, scope, revoked: false };
    this.grants.set(grant.id, grant);
    const refreshToken = withRefreshToken ? this.newRefreshToken(grant) : undefined;
    return { ...this.newAccessToken(grant, ttlMs), refreshToken, grant };
  }

  /** Issues an access token (and, when rotating, a new refresh token) under an existing grant. */
  reissue(grant: OAuthGrant, rotate: boolean, ttlMs: number | undefined): IssuedTokens {
    const refreshToken = rotate ? this.newRefreshToken(grant) : undefined;
    return { ...this.newAccessToken(grant, ttlMs), refreshToken, grant };
  }

  /** Adds a known access token (the emulator's ready-made `accessToken`). */
  registerAccessToken(token: string, grant: OAuthGrant): void {
    this.accessTokens.set(token, {
      grantId: grant.id,
      issuedAt: this.now(),
      expiresAt: undefined,
      expired: false,
    });
  }

  /** Checks a refresh token without consuming it. */
  checkRefresh(token: string): RefreshCheck {
    const entry = this.refreshTokens.get(token);
    if (!entry) return { ok: false, reason: 'unknown' };
    const grant = this.grants.get(entry.grantId);
    if (!grant || grant.revoked) return { ok: false, reason: 'revoked' };
    if (entry.superseded) return { ok: false, reason: 'reused' };
    if (entry.inFlight) return { ok: false, reason: 'in-flight' };
    return { ok: true, grant, entry };
  }

  /** Marks a refresh token as replaced by its rotated successor. */
  supersede(token: string): void {
    const entry = this.refreshTokens.get(token);
    if (entry) entry.superseded = true;
  }

  /** Marks or clears a refresh in progress. */
  setInFlight(token: string, inFlight: boolean): void {
    const entry = this.refreshTokens.get(token);
    if (entry) entry.inFlight = inFlight;
  }

  /** Revokes a grant and with it every token issued under it. */
  revokeGrant(grantId: number): void {
    const grant = this.grants.get(grantId);
    if (grant) grant.revoked = true;
  }

  /**
   * Revokes by token, as `/services/oauth2/revoke` does: a refresh token revokes its grant, an
   * access token only itself. Returns false for an unknown token.
   */
  revokeToken(token: string): boolean {
    const refresh = this.refreshTokens.get(token);
    if (refresh) {
      this.revokeGrant(refresh.grantId);
      return true;
    }
    const access = this.accessTokens.get(token);
    if (access) {
      this.accessTokens.delete(token);
      return true;
    }
    return false;
  }

  /** Expires one access token, or every access token when none is given. */
  expireAccessTokens(token?: string): void {
    if (token !== undefined) {
      const entry = this.accessTokens.get(token);
      if (entry) entry.expired = true;
      return;
    }
    for (const entry of this.accessTokens.values()) entry.expired = true;
  }

  /** Resolves a live access token to a session. */
  session(token: string): EmulatorSession | undefined {
    const entry = this.accessTokens.get(token);
    if (!entry || entry.expired) return undefined;
    if (entry.expiresAt !== undefined && this.now() >= entry.expiresAt) return undefined;
    const grant = this.grants.get(entry.grantId);
    if (!grant || grant.revoked) return undefined;
    return { accessToken: token, userId: grant.userId, orgId: this.orgId, clientId: grant.clientId };
  }

  /** Forgets every token and grant. */
  clear(): void {
    this.grants.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
  }

  private newAccessToken(
    grant: OAuthGrant,
    ttlMs: number | undefined,
  ): { accessToken: string; issuedAt: number } {
    // Real access tokens are `<15-char org id>!<opaque>`; clients sometimes parse the org id out.
    // The sf CLI validates the shape `<org id>!<[A-Za-z0-9._]+>`, so no base64url `-`/`_`.
    const accessToken = `${this.orgId15}!AQ${opaque(62)}`;
    const issuedAt = this.now();
    this.accessTokens.set(accessToken, {
      grantId: grant.id,
      issuedAt,
      expiresAt: ttlMs === undefined ? undefined : issuedAt + ttlMs,
      expired: false,
    });
    return { accessToken, issuedAt };
  }

  private newRefreshToken(grant: OAuthGrant): string {
    const token = `5Aep861${opaque(80)}`;
    this.refreshTokens.set(token, { grantId: grant.id, superseded: false, inFlight: false });
    return token;
  }
}
