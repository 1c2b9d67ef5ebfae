import { readField } from '../store/compound.js';
import type { EmulatorRecord, ObjectSchema } from '../store/schema.js';

/** `attributes` of a record as the REST API returns it. */
export function recordAttributes(
  type: string,
  id: string,
  versionSegment: string,
): { type: string; url: string } {
  return { type, url: `/services/data/${versionSegment}/sobjects/${type}/${id}` };
}

/**
 * A stored row as `GET /sobjects/X/{id}` returns it: `attributes` first, then every field (or only
 * `fields`, already validated, in the requested order).
 */
export function formatRecord(
  schema: ObjectSchema,
  row: EmulatorRecord,
  versionSegment: string,
  fields?: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    attributes: recordAttributes(schema.name, row.Id as string, versionSegment),
  };
  const names = fields ?? schema.fields.map((f) => f.name);
  for (const name of names) {
    const field = schema.field(name);
    out[name] = field ? readField(schema, field, row) : (row[name] ?? null);
  }
  return out;
}
