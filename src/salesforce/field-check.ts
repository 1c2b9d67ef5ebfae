/**
 * Columns of `record` (with a value) that are not fields of the object, by case-insensitive API
 * name. Bulk API 2.0 fails a whole job on one unknown column, so such records are failed alone,
 * before the job, instead.
 */
export function unknownFields(record: Record<string, unknown>, known: ReadonlySet<string>): string[] {
  // Runs once per record of a bulk push: no entries array, and a name spelt as the describe
  // spells it (the usual case) is found without lower-casing it.
  const out: string[] = [];
  for (const name in record) {
    if (record[name] === undefined || known.has(name) || known.has(name.toLowerCase())) continue;
    out.push(name);
  }
  return out;
}

/** Field names of a describe result, as spelt and lower-cased (for `unknownFields`). */
export function fieldNameSet(fields: ReadonlyArray<{ name: string }>): Set<string> {
  const names = new Set<string>();
  for (const { name } of fields) names.add(name).add(name.toLowerCase());
  return names;
}
