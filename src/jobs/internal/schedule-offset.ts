import { createHash } from 'node:crypto';

/**
 * A stable offset in [0, everyMs) derived from the integration id, so integrations scheduled at
 * the same moment spread over one interval instead of all falling due together.
 */
export function scheduleOffsetMs(integrationId: string, everyMs: number): number {
  const digest = createHash('sha256').update(integrationId).digest();
  return digest.readUInt32BE(0) % Math.max(1, Math.floor(everyMs));
}
