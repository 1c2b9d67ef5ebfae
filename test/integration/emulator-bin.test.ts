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
