import { EmulatorHttpError } from '../http/errors.js';
import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';

/** Which fields `IN … FIELDS` searches ("SearchGroup"; ALL FIELDS is the default). */
type SearchGroup = 'ALL' | 'NAME' | 'EMAIL' | 'PHONE';

/** One `RETURNING Object(fields [WHERE …] [ORDER BY …] [LIMIT n])` entry. */
interface ReturningSpec {
  sobject: string;
  fields: string;
  where?: string;
  orderBy?: string;
  limit?: number;
}

/** SOSL caps a search at 2,000 records. */
const MAX_SEARCH_RESULTS = 2000;

const SEARCHABLE_TYPES = new Set(['string', 'email', 'phone', 'textarea', 'url', 'picklist']);

/**
 * `GET /services/data/vXX.X/search?q=FIND {…} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING …]
 * [LIMIT n]` → `{searchRecords: [...]}`. The search term is matched against whole tokens of the
 * searched fields, case-insensitively, with `*` (any characters) and `?` (one character)
 * wildcards; several words must all match (AND, in any searched field of the record), `OR` between words matches any.
 */
export function registerSearchRoutes(context: EmulatorModuleContext): void {
  context.registerResource('search');
  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/search',
    kind: 'api',
    handler: (request) => search(context, request),
  });
}

function search(context: EmulatorModuleContext, request: EmulatorRequestContext): EmulatorResponse {
  const sosl = request.query.get('q');
  if (sosl === null || sosl.trim() === '') {
    throw new EmulatorHttpError(400, 'MALFORMED_SEARCH', 'A search string has to be specified');
  }
  const parsed = parseSosl(sosl);
  const matches = compileTerm(parsed.term);
  const specs =
    parsed.returning ??
    context.store
      .schemas()
      .filter((s) => s.field('Name'))
      .map((s): ReturningSpec => ({ sobject: s.name, fields: 'Id' }));
  const searchRecords: Array<Record<string, unknown>> = [];
  for (const spec of specs) {
    const schema = context.store.schema(spec.sobject);
    if (!schema) {
      throw new EmulatorHttpError(
        400,
        'INVALID_TYPE',
        `sObject type '${spec.sobject}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const fields = searchedFields(schema, parsed.group);
    const ids: string[] = [];
    for (const row of context.store.rows(schema.name)) {
      // Words may match in different searched fields of one record.
      const text = fields.map((f) => row[f.name]).filter((v): v is string => typeof v === 'string');
      if (matches(text.join(' '))) ids.push(row.Id as string);
    }
    if (ids.length === 0) continue;
    const where = [`Id IN (${ids.map((id) => `'${id}'`).join(', ')})`];
    if (spec.where) where.push(`(${spec.where})`);
    const limit = Math.min(spec.limit ?? MAX_SEARCH_RESULTS, parsed.limit ?? MAX_SEARCH_RESULTS);
    const soql =
      `SELECT ${spec.fields} FROM ${schema.name} WHERE ${where.join(' AND ')}` +
      (spec.orderBy ? ` ORDER BY ${spec.orderBy}` : '') +
      ` LIMIT ${limit}`;
    searchRecords.push(...context.query(soql, { apiVersion: request.apiVersion }).records);
  }
  return { status: 200, body: { searchRecords: searchRecords.slice(0, parsed.limit ?? MAX_SEARCH_RESULTS) } };
}

function malformed(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, 'MALFORMED_SEARCH', message);
}

/** Parses the subset of SOSL the emulator serves (no WITH clauses, no UPDATE TRACKING). */
function parseSosl(sosl: string): {
  term: string;
  group: SearchGroup;
  returning?: ReturningSpec[];
  limit?: number;
} {
  const head = /^\s*FIND\s+\{((?:[^}\\]|\\.)*)\}/i.exec(sosl);
  if (!head) throw malformed(`No search term found. The search term must be enclosed in braces.`);
  let rest = sosl.slice(head[0].length);
  let group: SearchGroup = 'ALL';
  const groupMatch = /^\s*IN\s+(ALL|NAME|EMAIL|PHONE)\s+FIELDS/i.exec(rest);
  if (groupMatch) {
    group = (groupMatch[1] as string).toUpperCase() as SearchGroup;
    rest = rest.slice(groupMatch[0].length);
  }
  let returning: ReturningSpec[] | undefined;
  const returningMatch = /^\s*RETURNING\s+/i.exec(rest);
  if (returningMatch) {
    rest = rest.slice(returningMatch[0].length);
    returning = [];
    for (;;) {
      const entry = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\(([^()]*)\))?\s*(,)?/.exec(rest);
      if (!entry) throw malformed(`unexpected token in RETURNING: ${rest.trim().slice(0, 40)}`);
      returning.push(returningSpec(entry[1] as string, entry[3]));
      rest = rest.slice(entry[0].length);
      if (!entry[4]) break;
    }
  }
  let limit: number | undefined;
  const limitMatch = /^\s*LIMIT\s+(\d+)/i.exec(rest);
  if (limitMatch) {
    limit = Number(limitMatch[1]);
    rest = rest.slice(limitMatch[0].length);
  }
  if (rest.trim() !== '') throw malformed(`unexpected token: ${rest.trim().slice(0, 40)}`);
  return { term: head[1] as string, group, ...(returning ? { returning } : {}), ...(limit ? { limit } : {}) };
}

function returningSpec(sobject: string, body: string | undefined): ReturningSpec {
  if (body === undefined || body.trim() === '') return { sobject, fields: 'Id' };
  const clause = /^(.*?)(?:\s+WHERE\s+(.*?))?(?:\s+ORDER\s+BY\s+(.*?))?(?:\s+LIMIT\s+(\d+))?\s*$/is.exec(
    body.trim(),
  );
  const [, fields, where, orderBy, limit] = clause as RegExpExecArray;
  return {
    sobject,
    fields: (fields as string).trim(),
    ...(where ? { where } : {}),
    ...(orderBy ? { orderBy } : {}),
    ...(limit ? { limit: Number(limit) } : {}),
  };
}

function searchedFields(schema: ObjectSchema, group: SearchGroup): ResolvedField[] {
  switch (group) {
    case 'NAME':
      return schema.fields.filter((f) => ['Name', 'FirstName', 'LastName'].includes(f.name));
    case 'EMAIL':
      return schema.fields.filter((f) => f.type === 'email');
    case 'PHONE':
      return schema.fields.filter((f) => f.type === 'phone');
    default:
      return schema.fields.filter((f) => SEARCHABLE_TYPES.has(f.type));
  }
}

/** A matcher for the search expression: words ANDed, `OR` alternatives, wildcards, quotes. */
function compileTerm(term: string): (text: string) => boolean {
  const alternatives = term
    .replace(/\\(.)/g, '$1')
    .split(/\s+OR\s+/i)
    .map((alt) =>
      alt
        .replace(/"/g, ' ')
        .split(/\s+AND\s+|\s+/i)
        .flatMap(tokens)
        .map(
          (word) =>
            new RegExp(
              `^${word
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '.*')
                .replace(/\?/g, '.')}$`,
              'i',
            ),
        ),
    )
    .filter((words) => words.length > 0);
  if (alternatives.length === 0) throw malformed('search term must be longer than one character');
  return (text) => {
    const words = tokens(text);
    return alternatives.some((alt) => alt.every((pattern) => words.some((w) => pattern.test(w))));
  };
}

/** Splits text into search tokens: runs of letters, digits and the wildcards `*`/`?`. */
function tokens(text: string): string[] {
  return text.split(/[^\p{L}\p{N}*?]+/u).filter((t) => t !== '');
}
