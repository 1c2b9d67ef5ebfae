import { CrmConfigurationError } from '../core/errors.js';

/**
 * The oldest Node.js release this package supports. Measured per subpath from the built tarball
 * (README "Requirements"): jsforce's undici declares and needs 22.19 (it crashes at load on
 * 22.14 and older), better-sqlite3 13 segfaults before 22.14, `node:sqlite` is unflagged from
 * 22.13. package.json `engines` and the README state the same number; a test keeps them equal.
 */
export const NODE_FLOOR = '22.19.0';

function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** Whether `version` (e.g. `process.versions.node`) is at or above {@link NODE_FLOOR}. */
export function isSupportedNode(version: string): boolean {
  const have = parts(version);
  const need = parts(NODE_FLOOR);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/**
 * Called first by every entry point, so a host on an older Node gets one line naming the version
 * it needs instead of a crash deep inside a dependency.
 *
 * @throws {CrmConfigurationError} on a Node.js older than {@link NODE_FLOOR}.
 */
export function assertSupportedNode(version: string = process.versions.node): void {
  if (isSupportedNode(version)) return;
  throw new CrmConfigurationError(
    `@markmail/crm needs Node.js ${NODE_FLOOR} or newer; this process runs Node.js ${version}`,
    { details: { reason: 'unsupported_runtime', required: NODE_FLOOR, actual: version } },
  );
}
