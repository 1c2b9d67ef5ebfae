/**
 * What the push benches share (`push.bench.ts`, `push-memory.bench.ts`, `provider.bench.ts`): the
 * contacts they push and the floor — the least work a Bulk API 2.0 upsert can take, with plain
 * `fetch` and a CSV built before the clock starts. Bench children run under Node's type
 * stripping, which needs the `.ts` extension this repository's TypeScript settings refuse in a
 * static import, so the benches load this file with
 * `await import(new URL('./_bulk-push-floor.ts', import.meta.url).href)` (`run.ts` skips `_` files).
 */

/** The external-id field every push bench upserts on. */
export const EXTERNAL_ID = 'MarkMail_ID__c';

/** Contact `i` of a bench run (every seventh first name needs CSV quoting). */
export function contactAt(i: number) {
  return {
    externalId: `bench-${i}`,
    email: `bench${i}@example.com`,
    firstName: i % 7 === 0 ? 'Zoë, "Z"' : `First${i}`,
    lastName: `Last ${i}`,
  };
}

/** Bulk API 2.0 takes at most 100 MB of CSV a job. */
const MAX_JOB_BYTES = 100_000_000;

/** The CSV of contacts `0 … size − 1`, built up front and cut into jobs of at most 100 MB. */
export function floorCsvJobs(size: number): string[] {
  const quote = (cell: string) => (/[",\n\r]|^\s|\s$/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  const header = `${EXTERNAL_ID},Email,FirstName,LastName\n`;
  const jobs: string[] = [];
  let lines: string[] = [];
  let bytes = header.length;
  for (let i = 0; i < size; i++) {
    const c = contactAt(i);
    const line = `${[c.externalId, c.email, c.firstName, c.lastName].map(quote).join(',')}\n`;
    if (bytes + Buffer.byteLength(line) > MAX_JOB_BYTES) {
      jobs.push(header + lines.join(''));
      lines = [];
      bytes = header.length;
    }
    lines.push(line);
    bytes += Buffer.byteLength(line);
  }
  if (lines.length) jobs.push(header + lines.join(''));
  return jobs;
}

/**
 * One upsert job with plain `fetch`: create it, upload `csv`, close it, poll every `pollMs`, and
 * count the rows of its successful and failed results (read whole, parsed no further).
 */
export async function runFloorJob(
  target: { instanceUrl: string; accessToken: string },
  apiVersion: string,
  csv: string,
  pollMs: number,
): Promise<{ success: number; failed: number }> {
  const base = `${target.instanceUrl}/services/data/v${apiVersion}/jobs/ingest`;
  const headers = { Authorization: `Bearer ${target.accessToken}`, 'Content-Type': 'application/json' };
  const created = (await (
    await fetch(base, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        object: 'Contact',
        operation: 'upsert',
        externalIdFieldName: EXTERNAL_ID,
        contentType: 'CSV',
        lineEnding: 'LF',
      }),
    })
  ).json()) as { id: string };
  const upload = await fetch(`${base}/${created.id}/batches`, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'text/csv' },
    body: csv,
  });
  if (!upload.ok) throw new Error(`upload: ${upload.status}`);
  await (
    await fetch(`${base}/${created.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ state: 'UploadComplete' }),
    })
  ).text();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    const info = (await (await fetch(`${base}/${created.id}`, { headers })).json()) as { state: string };
    if (info.state === 'JobComplete') break;
    if (info.state === 'Failed' || info.state === 'Aborted') throw new Error(`job ${info.state}`);
  }
  const count = async (set: string) => {
    const text = await (await fetch(`${base}/${created.id}/${set}`, { headers })).text();
    let rows = -1;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) rows++;
    return Math.max(rows, 0);
  };
  return { success: await count('successfulResults'), failed: await count('failedResults') };
}

/** Loads this module from a bench (see the header for why it is a dynamic import). */
export type BulkPushFloor = typeof import('./_bulk-push-floor.js');
