/**
 * Columns of `record` (with a value) that are not fields of the object, by case-insensitive API
 * name. Bulk API 2.0 fails a whole job on one unknown column, so such records are failed alone,
 * before the job, instead.
 */
export function unknownFields(record: Record<string, unknown>, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined && !known.has(name.toLowerCase())) out.push(name);
  }
  return out;
}

/** Lower-cased field names of a describe result. */
export function fieldNameSet(fields: ReadonlyArray<{ name: string }>): Set<string> {
  return new Set(fields.map((f) => f.name.toLowerCase()));
}
