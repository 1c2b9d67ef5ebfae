import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../src/bin/emulator.ts', import.meta.url));

describe('markmail-crm-emulator bin', () => {
  it('starts standalone, prints its credentials as JSON and serves the REST API until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', bin, '--port', '0', '--json', '--daily-api-limit', '7'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let output = '';
      child.stdout.setEncoding('utf8');
      while (!output.includes('\n')) {
        const [chunk] = (await once(child.stdout, 'data')) as [string];
        output += chunk;
      }
      const info = JSON.parse(output) as { instanceUrl: string; accessToken: string; orgId: string };
      expect(info.instanceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.orgId).toMatch(/^00D/);
      const response = await fetch(`${info.instanceUrl}/services/data/v62.0/limits`, {
        headers: { Authorization: `Bearer ${info.accessToken}` },
      });
      expect(response.headers.get('sforce-limit-info')).toBe('api-usage=1/7');
    } finally {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    }
  });
});

describe('markmail-crm-emulator bin: first use', () => {
  function run(args: string[]) {
    return spawn(process.execPath, ['--import', 'tsx', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  async function firstLine(child: ReturnType<typeof run>): Promise<string> {
    let output = '';
    child.stdout.setEncoding('utf8');
    while (!output.includes('\n')) {
      const [chunk] = (await once(child.stdout, 'data')) as [string];
      output += chunk;
    }
    return output;
  }

  it('--help lists the options, the API versions and a curl example, and exits 0', async () => {
    const child = run(['--help']);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    for (const option of [
      '--port',
      '--host',
      '--daily-api-limit',
      '--latency-ms',
      '--client-id',
      '--client-secret',
      '--json',
    ]) {
      expect(output).toContain(option);
    }
    expect(output).toMatch(/API versions: v31\.0 to v\d{2}\.0/);
    expect(output).toContain('curl -H "Authorization: Bearer');
  });

  it('listens on a free port by default and prints it (two at once do not collide)', async () => {
    const [a, b] = [run(['--json']), run(['--json'])];
    try {
      const urls = await Promise.all(
        [a, b].map(async (child) => JSON.parse(await firstLine(child)).instanceUrl),
      );
      expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(urls[0]).not.toBe(urls[1]);
    } finally {
      a.kill('SIGTERM');
      b.kill('SIGTERM');
      await Promise.all([once(a, 'exit'), once(b, 'exit')]);
    }
  });

  it('stops on SIGINT even while a request is still open', async () => {
    const child = run(['--json', '--latency-ms', '60000']);
    const info = JSON.parse(await firstLine(child)) as { instanceUrl: string; accessToken: string };
    // A request the emulator holds for a minute: stopping must not wait for it.
    const pending = fetch(`${info.instanceUrl}/services/data/v62.0/limits`, {
      headers: { Authorization: `Bearer ${info.accessToken}` },
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000); // not the 60 s the request would take
    await pending;
  });

  it('rejects a malformed number with a message naming the option', async () => {
    const child = run(['--port', 'eighty']);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain("--port must be a whole number ≥ 0, got 'eighty'");
  });
});
