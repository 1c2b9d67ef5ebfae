import { CrmConfigurationError } from '../../core/errors.js';

/**
 * Import an optional peer dependency (a database driver) on first use, so that core and the other
 * subpaths never load it. A missing package becomes a `CrmConfigurationError` that says what to
 * install; any other load failure (for example a broken native build) keeps its cause.
 *
 * @param importer performs the literal `import('<pkg>')`, so bundlers can still see the dependency.
 */
export async function loadPeer<T>(
  packageName: string,
  adapter: string,
  importer: () => Promise<T>,
): Promise<T> {
  try {
    return await importer();
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new CrmConfigurationError(
      missing
        ? `${adapter} needs the optional peer dependency '${packageName}': run \`npm install ${packageName}\``
        : `${adapter} could not load '${packageName}'`,
      { cause, details: { reason: missing ? 'missing_driver' : 'driver_load_failed', package: packageName } },
    );
  }
}
