import { createRequire } from 'node:module';
import { CrmConfigurationError } from '../core/errors.js';

// Resolves optional peers from this package's own location, as a static import would.
const requireFromPackage = createRequire(import.meta.url);

/**
 * The error for an optional peer dependency that failed to load: a missing package says what to
 * install; any other failure (a broken native build, a crash inside the package) keeps its cause.
 */
export function optionalPeerError(packageName: string, user: string, cause: unknown): CrmConfigurationError {
  const code = (cause as { code?: unknown } | null)?.code;
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  return new CrmConfigurationError(
    missing
      ? `${user} needs the optional peer dependency '${packageName}': run \`npm install ${packageName}\``
      : `${user} could not load '${packageName}'`,
    { cause, details: { reason: missing ? 'missing_driver' : 'driver_load_failed', package: packageName } },
  );
}

/**
 * Load an optional peer dependency synchronously on first use (for constructors, which cannot
 * await). Node caches the module, so later calls are a map lookup.
 *
 * @throws {CrmConfigurationError} naming the package to install when it is missing.
 */
export function requireOptionalPeer<T>(packageName: string, user: string): T {
  try {
    return requireFromPackage(packageName) as T;
  } catch (cause) {
    throw optionalPeerError(packageName, user, cause);
  }
}
