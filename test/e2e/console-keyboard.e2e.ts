import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import {
  collectPageProblems,
  expectAccessible,
  launchChromium,
  signInThroughForm,
} from '../support/browser.js';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * The console without a mouse, and on the screens clinics have: a 1366×768 laptop and a
 * tablet held upright (800×1280). Selectors are ids, roles and data attributes: the page is
 * in Chinese by default.
 */
describe('review console by keyboard and on clinic screens', () => {
  let relay: RelayProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const boxes: SimulatedBox[] = [];
  const pageProblems: string[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.stop()));
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function newPage(viewport = { width: 1366, height: 768 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    return context.newPage();
  }

  /** A box of `clinicId` records a 10 s ECG; resolves with its case id. */
  async function record(clinicId: string, index: number, seed: number): Promise<string> {
    const device = (await relay.demoDevices()).filter((d) => d.clinicId === clinicId)[index];
    if (!device) throw new Error(`no demo box ${index} in ${clinicId}`);
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    boxes.push(box);
    await box.start();
    const sent = await box.record({ durationSeconds: 10, seed });
    if (!sent.caseId) throw new Error('the relay opened no case for the recording');
    return sent.caseId;
  }

  /** The focused element: its tag, id and whether it is shown, and its place in the page. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const active = document.activeElement as HTMLElement | null;
      const all = [...document.querySelectorAll('*')];
      return {
        tag: active?.tagName.toLowerCase() ?? '',
        id: active?.id ?? '',
        shortcut: active?.dataset['shortcut'] ?? null,
        shown: !!active && active.getClientRects().length > 0,
        order: active ? all.indexOf(active) : -1,
        typing: active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement,
      };
    });

  it('signs in, claims the next case and signs it using only the keyboard', async () => {
    const caseId = await record('clinic-1', 0, 11);
    const page = await newPage();
    collectPageProblems(page, 'county1.reader', pageProblems);

    // ---- sign in: the username field has the focus; Tab, then Enter ---------------------
    await page.goto(relay.httpUrl);
    await page.waitForFunction(() => document.activeElement?.id === 'username');
    await page.keyboard.type('county1.reader');
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('password');
    await page.keyboard.type(DEMO_PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('[data-link-state="live"]').waitFor();
    const row = page.locator(`tr[data-case-id="${caseId}"]`);
    await row.waitFor({ timeout: 15_000 });

    // ---- the shortcuts are written on the page, and listed behind "?" -------------------
    const claimNext = page.locator('[data-shortcut="claim-next"]');
    await expect(claimNext.getAttribute('aria-keyshortcuts')).resolves.toBe('N');
    await expect(claimNext.getAttribute('data-key-hint')).resolves.toBe('N');
    await page.keyboard.press('Shift+?');
    const help = page.locator('dialog.shortcut-help[open]');
    await help.waitFor();
    await expect(help.locator('[data-shortcut-row]').count()).resolves.toBe(3);
    expect(await help.locator('h2').innerText()).toBe('键盘快捷键');
    await expectAccessible(page, { context: 'the shortcut list', include: 'dialog' });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    // ---- "N" is only a letter while typing in a field ----------------------------------
    // A field of the test's own on the worklist page stands for any text field. It sits
    // outside #main, which the live worklist redraws whenever a case changes (a redraw
    // would take the field and its focus away mid-typing).
    await page.evaluate(() => {
      const field = document.createElement('input');
      field.id = 'typing-probe';
      field.setAttribute('aria-label', 'probe');
      document.body.prepend(field);
      field.focus();
    });
    const claims: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/claim'))
        claims.push(request.url());
    });
    await page.keyboard.type('nN');
    await expect(page.locator('#typing-probe').inputValue()).resolves.toBe('nN');
    expect(claims).toEqual([]);
    await page.locator('#typing-probe').evaluate((field) => field.remove());
    await page.locator('#main h1').focus();

    // ---- "N" claims the next case and opens it -----------------------------------------
    await page.keyboard.press('n');
    await page.waitForURL(`**/#/case/${caseId}`);
    expect(claims).toHaveLength(1);
    await page.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
    await page.locator('#measure-qtcMs').waitFor();

    // ---- Tab walks forward through shown controls in page order to the conclusion -------
    const path: Awaited<ReturnType<typeof focused>>[] = [];
    for (let presses = 0; presses < 60; presses++) {
      await page.keyboard.press('Tab');
      const now = await focused(page);
      path.push(now);
      if (now.id === 'conclusion') break;
    }
    expect(path.at(-1)?.id).toBe('conclusion');
    expect(path.filter((step) => !step.shown)).toEqual([]);
    const orders = path.map((step) => step.order);
    expect(orders).toEqual([...orders].sort((a, b) => a - b));
    // The measurements come before the conclusion, as the form is read.
    expect(path.some((step) => step.id === 'measure-qtcMs')).toBe(true);

    // ---- type the diagnosis, sign with Ctrl+Enter --------------------------------------
    const conclusion = 'Sinus rhythm, normal ECG. No acute changes.';
    await page.keyboard.type(conclusion);
    const signed = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/sign'),
    );
    await page.keyboard.press('Control+Enter');
    expect((await signed).status()).toBe(200);
    await page.locator('.panel .diagnosis .conclusion', { hasText: conclusion }).waitFor();
    const asReader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const detail = (await asReader.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(detail.status).toBe('signed');
    expect(detail.diagnosis?.conclusion).toBe(conclusion);
    // After signing, the focus is on the result, not lost to the page.
    expect((await focused(page)).id).toBe('panel-title');

    expect(pageProblems).toEqual([]);
  });

  describe.each([
    { screen: 'a 1366×768 laptop', viewport: { width: 1366, height: 768 } },
    { screen: 'a tablet in portrait, 800×1280', viewport: { width: 800, height: 1280 } },
  ])('on $screen', ({ viewport }) => {
    /** Whether the page itself scrolls sideways (a wide table may scroll inside its own box). */
    const overflowsSideways = (page: Page) =>
      page.evaluate(
        () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
      );

    /** Scrolled to, the element lies wholly inside the window's width and is shown. */
    async function expectReachable(page: Page, selector: string): Promise<void> {
      const element = page.locator(selector).first();
      // The live worklist may redraw a row while it is being scrolled to: scroll again then.
      await waitFor(
        () =>
          element.scrollIntoViewIfNeeded({ timeout: 5_000 }).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 20_000, what: `${selector} scrolled into view` },
      );
      expect(await element.isVisible(), `${selector} is visible`).toBe(true);
      const box = await element.boundingBox();
      expect(box, `${selector} has a box`).not.toBeNull();
      expect(box!.x, `${selector} starts inside the window`).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `${selector} ends inside the window`).toBeLessThanOrEqual(
        viewport.width,
      );
      expect(box!.y + box!.height, `${selector} scrolled into view`).toBeLessThanOrEqual(
        viewport.height,
      );
    }

    it('shows the worklist, the ECG paper with the sign form, and the clinic’s cases without sideways scrolling', async () => {
      const caseId = await record('clinic-2', viewport.width > 1000 ? 0 : 1, 13);
      const reader = await newPage(viewport);
      collectPageProblems(reader, `county1.reader ${viewport.width}`, pageProblems);
      await signInThroughForm(reader, relay.httpUrl, 'county1.reader', DEMO_PASSWORD);
      await reader.locator('[data-link-state="live"]').waitFor();
      const row = reader.locator(`tr[data-case-id="${caseId}"]`);
      await row.waitFor({ timeout: 15_000 });
      expect(await overflowsSideways(reader)).toBe(false);
      await expectReachable(reader, '[data-shortcut="claim-next"]');
      await expectReachable(reader, `tr[data-case-id="${caseId}"] td.action button`);
      await expectAccessible(reader, { context: `the worklist at ${viewport.width} px` });

      await reader.locator(`tr[data-case-id="${caseId}"] td.action button`).click();
      await reader.waitForURL(`**/#/case/${caseId}`);
      await reader.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
      await reader.locator('#measure-qtcMs').waitFor();
      expect(await overflowsSideways(reader)).toBe(false);
      await expectReachable(reader, '.ecg-paper');
      await expectReachable(reader, '#conclusion');
      await expectReachable(reader, '[data-shortcut="sign"]');
      await expectAccessible(reader, { context: `the case view at ${viewport.width} px` });

      const clinic = await newPage(viewport);
      collectPageProblems(clinic, `clinic2.staff ${viewport.width}`, pageProblems);
      await signInThroughForm(clinic, relay.httpUrl, 'clinic2.staff', DEMO_PASSWORD);
      await clinic.locator('[data-link-state="live"]').waitFor();
      await clinic.locator(`tr[data-case-id="${caseId}"]`).waitFor();
      expect(await overflowsSideways(clinic)).toBe(false);
      await expectReachable(clinic, `tr[data-case-id="${caseId}"] td.action a`);
      await expectAccessible(clinic, { context: `the clinic’s cases at ${viewport.width} px` });

      expect(pageProblems).toEqual([]);
    });
  });
});
