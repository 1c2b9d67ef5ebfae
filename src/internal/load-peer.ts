import { optionalPeerError } from './optional-peer.js';

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
    throw optionalPeerError(packageName, adapter, cause);
  }
}
