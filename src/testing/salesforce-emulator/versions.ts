/** REST API versions the emulator serves: 31.0 (Summer '14) through 68.0 (Winter '27). */
export const MIN_API_VERSION = 31;
/** The newest API version served. */
export const MAX_API_VERSION = 68;

/** One entry of `GET /services/data`. */
export interface ApiVersionInfo {
  label: string;
  url: string;
  version: string;
}

/** The release label of a version: three releases a year, 32.0 = Winter '15. */
export function releaseLabel(version: number): string {
  const index = version - 32;
  const season = ['Winter', 'Spring', 'Summer'][((index % 3) + 3) % 3];
  const year = 15 + Math.floor(index / 3);
  return `${season} '${String(year).padStart(2, '0')}`;
}

/** Parses `v62.0` into 62; `undefined` when malformed or outside the served range. */
export function parseVersionSegment(segment: string): number | undefined {
  const match = /^v(\d{2})\.0$/.exec(segment);
  if (!match) return undefined;
  const version = Number(match[1]);
  return version >= MIN_API_VERSION && version <= MAX_API_VERSION ? version : undefined;
}

/** The body of `GET /services/data`, oldest first as Salesforce lists it. */
export function listVersions(): ApiVersionInfo[] {
  const versions: ApiVersionInfo[] = [];
  for (let v = MIN_API_VERSION; v <= MAX_API_VERSION; v++) {
    versions.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return versions;
}
