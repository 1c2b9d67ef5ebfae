/** Formats an instant the way the REST API serialises datetimes: `2013-05-08T21:20:00.000+0000`. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** Formats an instant as `YYYY-MM-DD` (UTC). */
export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Parses a datetime as clients send it (`…Z`, `…+0000`, `…+00:00`); `undefined` when invalid.
 */
export function parseDateTime(value: string): Date | undefined {
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(normalised)) {
    return undefined;
  }
  const date = new Date(normalised.length === 10 ? `${normalised}T00:00:00Z` : normalised);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Formats the `updated`/`deleted` replication timestamps (`2024-01-01T00:00:00.000+0000`, minute precision). */
export function truncateToMinute(date: Date): Date {
  const copy = new Date(date.getTime());
  copy.setUTCSeconds(0, 0);
  return copy;
}
