import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '#contracts';
import {
  collectPageProblems,
  expectAccessible,
  launchChromium,
  signInThroughForm,
} from '../support/browser.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';

/**
 * The seven kinds of demo user (apps/relay/src/demo/demo-region.ts): the administrator, the
 * health authority, a reader at each hospital, and the staff of a clinic under each county.
 * The six clinics' staff share one role and one page, so two of them stand for all.
 */
const USERS: { username: string; role: Role }[] = [
  { username: 'admin', role: 'admin' },
  { username: 'health.authority', role: 'health_authority' },
  { username: 'tertiary.reader', role: 'reader' },
  { username: 'county1.reader', role: 'reader' },
  { username: 'county2.reader', role: 'reader' },
  { username: 'clinic1.staff', role: 'clinic_staff' },
  { username: 'clinic4.staff', role: 'clinic_staff' },
];

const CHINESE = /[\u3400-\u9fff]/;

describe('every demo user signs in to a useful page, in Chinese first and English after a click', () => {
  let relay: RelayProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  /** The page once the shell has settled: the view's heading shown, the live link decided. */
  async function settled(page: Page): Promise<void> {
    await page.locator('#main h1').first().waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-link-state="connecting"]') === null,
      undefined,
      { timeout: 15_000 },
    );
  }

  /** What the landing page shows: its heading, and what there is to use on it. */
  const landing = (page: Page) =>
    page.evaluate(() => {
      const main = document.getElementById('main')!;
      return {
        lang: document.documentElement.lang,
        heading: main.querySelector('h1')?.textContent?.trim() ?? '',
        nothingToRead: document.querySelector('[data-testid="nothing-to-read"]') !== null,
        offline: document.querySelector('[data-link-state="offline"]') !== null,
        controls: main.querySelectorAll('a[href], button, input, select, textarea, table, canvas')
          .length,
      };
    });

  async function expectUsefulPage(username: string): Promise<void> {
    const problems: string[] = [];
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    contexts.push(context);
    const page = await context.newPage();
    collectPageProblems(page, username, problems);
    await signInThroughForm(page, relay.httpUrl, username, DEMO_PASSWORD);
    await settled(page);

    const chinese = await landing(page);
    expect(chinese.nothingToRead, 'not the "nothing to read here" page').toBe(false);
    expect(chinese.offline, 'the connection badge is not red').toBe(false);
    expect(chinese.controls, 'something to use on the page').toBeGreaterThan(0);
    expect(chinese.lang).toBe('zh-CN');
    expect(chinese.heading).toMatch(CHINESE);
    await expectAccessible(page, { context: `${username}'s landing page in Chinese` });

    await page.locator('[data-testid="language-switch"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await settled(page);
    const english = await landing(page);
    expect(english.nothingToRead).toBe(false);
    expect(english.offline).toBe(false);
    expect(english.heading).toMatch(/[A-Za-z]{2}/);
    expect(english.heading).not.toMatch(CHINESE);
    await expectAccessible(page, { context: `${username}'s landing page in English` });

    expect(problems).toEqual([]);
  }

  it.each(USERS)('$username ($role)', async ({ username }) => expectUsefulPage(username));
});
