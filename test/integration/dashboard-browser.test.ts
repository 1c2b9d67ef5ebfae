import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser
// download), against examples/host-server.ts — the handler on loopback with the Salesforce
// emulator behind it. Screenshots are kept in test-artifacts/dashboard/ (gitignored).
const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = join(root, 'test-artifacts', 'dashboard');
const available = existsSync(CHROMIUM);

if (!available) {
  if (process.env.CI === 'true') {
    throw new Error(
      `${CHROMIUM} is missing: .ci/run installs Debian's chromium package; the browser test must run in CI`,
    );
  }
  console.warn(`Skipping the dashboard browser test: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

describe.skipIf(!available)(
  'dashboard in Chromium against the handler and the Salesforce emulator',
  { timeout: 120_000 },
  () => {
    let server: ChildProcess;
    let dashboardUrl: string;
    let browser: BrowserContext;
    let page: Page;
    let profile: string;

    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      server = spawn(process.execPath, ['--import', 'tsx', 'examples/host-server.ts', '--latency', '400'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      server.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      dashboardUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout?.on('data', (chunk) => {
          out += chunk;
          const found = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/api\/crm\/ui)/.exec(out);
          if (found) resolve(found[1]!);
        });
        server.once('exit', (code) => reject(new Error(`host-server exited (${code}): ${stderr}`)));
      });
      profile = mkdtempSync(join(tmpdir(), 'crm-dashboard-chromium-'));
      // A fresh profile per run (playwright passes it as --user-data-dir).
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        viewport: { width: 1100, height: 900 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      page = browser.pages()[0] ?? (await browser.newPage());
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      server?.kill('SIGTERM');
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

    it('loads, connects over OAuth, maps fields, syncs with progress and shows the grouped error', async () => {
      await page.goto(dashboardUrl);
      await page.getByText('No CRM connected yet.').waitFor();
      await page.locator('body[data-ready]').waitFor();
      console.log(
        `dashboard: data shown ${await page.locator('body').getAttribute('data-ready')} ms after navigation (cold browser)`,
      );
      expect(await page.title()).toBe('CRM integrations');
      await shot('01-empty');

      // Connect: the page asks the handler for the authorize URL, the emulator approves and
      // redirects to the callback, which stores the org and sends the browser back here.
      await page.getByRole('button', { name: 'Connect Salesforce' }).click();
      await page.waitForURL(dashboardUrl);
      await page.locator('#integrations .badge', { hasText: 'Connected' }).waitFor();
      await expect.poll(() => page.locator('#integrations li').count()).toBe(1);
      await shot('02-connected');

      await page.getByRole('button', { name: 'Edit field mappings' }).click();
      await page.getByText('lastName (姓) → LastName').waitFor();
      await page.getByRole('button', { name: 'Use suggestions' }).click();
      await expect.poll(() => page.locator('#mapping-editor select').count()).toBe(10);
      await page.getByRole('combobox', { name: 'Direction for title' }).selectOption('to_crm');
      await page.getByRole('button', { name: 'Save mappings' }).click();
      await page.getByText('Saved 5 field mappings.').waitFor();
      await shot('03-mappings');

      await page.getByRole('button', { name: 'Sync contacts' }).click();
      await page.locator('#run .badge', { hasText: 'Running' }).waitFor();
      expect(await page.getByRole('button', { name: 'Sync contacts' }).isDisabled()).toBe(true);
      await shot('04-running');
      await page.locator('#run .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 60_000 });
      await page.getByText('Sync finished: 250 processed, 1 failed').waitFor();
      const counts = await page.locator('#run dl.counts').textContent();
      expect(counts).toMatch(/processed\s*250(?!\d)/);
      expect(counts).toMatch(/created\s*249(?!\d)/);
      expect(counts).toMatch(/failed\s*1(?!\d)/);

      const group = page.locator('#errors details');
      await group.locator('summary', { hasText: 'REQUIRED_FIELD_MISSING — 1 record' }).click();
      await group.getByText('sub-7').waitFor();
      await page.locator('#timeline li', { hasText: 'manual contact sync: 249 ok, 1 failed' }).waitFor();
      await shot('05-result');
    });

    it('is usable by keyboard and labelled: every control has an accessible name', async () => {
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('button, select, progress')]
          .filter((el) => !(el.getAttribute('aria-label') || el.textContent?.trim()))
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unnamed).toEqual([]);
      await page.locator('#reload').focus();
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Connect Salesforce');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Selected');
    });

    it('reads on a phone: no sideways scrolling at 375 px', async () => {
      await page.setViewportSize({ width: 375, height: 800 });
      await page.reload();
      await page.locator('#integrations .badge', { hasText: 'Connected' }).waitFor();
      await page.locator('body[data-ready]').waitFor();
      console.log(
        `dashboard: data shown ${await page.locator('body').getAttribute('data-ready')} ms after navigation (reload, with an integration)`,
      );
      await page.getByRole('button', { name: 'Edit field mappings' }).click();
      await page.locator('#mapping-editor table').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await shot('06-phone');
    });
  },
);
