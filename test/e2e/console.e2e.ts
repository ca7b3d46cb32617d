import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseSummary, SignDiagnosisRequest } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { expectAccessible, launchChromium } from '../support/browser.js';

/** Screenshots and the printed PDF go to the temp directory, never into the repository. */

const CONCLUSION = 'Sinus rhythm, 72/min. Normal ECG.';
const PHRASE = 'No acute ST changes.';

describe('review console in a real browser: a reader signs, the clinic sees it live', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let artifacts: string;
  const contexts: BrowserContext[] = [];
  const boxes: SimulatedBox[] = [];
  const startedBoxes = new Map<string, SimulatedBox>();
  /** Uncaught errors and console errors of every page; the test expects none. */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    // Its own directory, kept for a look afterwards: another run on the machine (a parallel
    // worktree, CI) writes its screenshots and PDF to its own.
    artifacts = await mkdtemp(join(tmpdir(), 'telerelay-console-e2e-'));
    console.log(`console e2e screenshots: ${artifacts}`);
    relay = await RelayProcess.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.stop()));
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  /** A fresh browser profile, signed in through the login form, with its socket live. */
  async function signIn(username: string): Promise<Page> {
    // A laptop-sized window on a 2× display, so the canvas has to honour devicePixelRatio.
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 2,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`${username}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`${username}: ${message.text()}`);
    });
    return signInOn(page, username);
  }

  /** Signs `username` in on `page` (a fresh profile, or one another user has used). */
  async function signInOn(page: Page, username: string): Promise<Page> {
    await page.goto(relay.httpUrl);
    if (contexts.length === 1) {
      await page.screenshot({ path: join(artifacts, 'login.png') });
      await expectAccessible(page, { context: 'the sign-in page' });
    }
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('[data-link-state="live"]').waitFor();
    await page.locator('.counts[data-loaded="true"]').waitFor();
    // Survives only as long as the page is not reloaded.
    await page.evaluate(
      () => ((window as unknown as { sameDocument: boolean }).sameDocument = true),
    );
    return page;
  }

  /** A started simulated box: the `index`-th demo box of the clinic (one per box for the file). */
  async function boxIn(clinicId: string, index: number): Promise<SimulatedBox> {
    const started = startedBoxes.get(`${clinicId}#${index}`);
    if (started) return started;
    const device = (await relay.demoDevices()).filter(
      (candidate) => candidate.clinicId === clinicId,
    )[index];
    if (!device) throw new Error(`no demo box ${index} in ${clinicId}`);
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    boxes.push(box);
    startedBoxes.set(`${clinicId}#${index}`, box);
    await box.start();
    return box;
  }

  /** Dark (trace) pixels of a canvas, as a share of all its pixels. */
  const traceShare = (page: Page, selector: string) =>
    page.locator(selector).evaluate((element) => {
      const canvas = element as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i]! < 90 && data[i + 1]! < 90 && data[i + 2]! < 90) dark++;
      }
      return dark / (canvas.width * canvas.height);
    });

  /** The page shows the case (a hash change: no load event to wait for). */
  const onCase = (page: Page, caseId: string) =>
    page.waitForFunction((id) => window.location.hash === `#/case/${id}`, caseId);

  const sameDocument = (page: Page) =>
    page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);

  /** Requests for the case list, to show that new rows come over the socket, not from a re-read. */
  function countListReads(page: Page): () => number {
    let reads = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/worklist') reads++;
    });
    return () => reads;
  }

  it('shows the new case live, draws the ECG, signs it, and the clinic sees the diagnosis without reloading', async () => {
    const reader = await signIn('county1.reader');
    const clinic = await signIn('clinic1.staff');
    await expect(reader.locator('header').textContent()).resolves.toContain('李明');
    const readerListReads = countListReads(reader);

    // ---- a clinic-1 box records; the county 1 worklist shows it without a reload -----------
    const box = await boxIn('clinic-1', 0);
    const sent = await box.record({ durationSeconds: 10, seed: 3 });
    if (!sent.caseId) throw new Error('the relay opened no case for the recording');

    const row = reader.locator(`tr[data-case-id="${sent.caseId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(readerListReads()).toBe(0);
    const rowText = await row.innerText();
    expect(rowText).toContain('石桥镇卫生院');
    // Chinese by default, in the glossary's words.
    expect(rowText).toContain('常规十二导联心电图');
    expect(rowText).toContain('待诊断');
    await expect(reader.locator('h1').innerText()).resolves.toBe('待诊列表');
    await reader.screenshot({ path: join(artifacts, 'reader-worklist.png') });
    await expectAccessible(reader, { context: 'the reader’s worklist' });
    // The due-time countdown runs.
    const due = row.locator('[data-due]');
    const dueBefore = await due.innerText();
    await reader.waitForFunction(
      ([selector, before]) => document.querySelector(selector!)?.textContent !== before,
      [`tr[data-case-id="${sent.caseId}"] [data-due]`, dueBefore] as const,
      { timeout: 3_000 },
    );

    // The hospital keeps a reusable phrase (added by another reader of it).
    const colleague = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    expect((await colleague.post('/api/phrases', { text: PHRASE })).status).toBe(201);

    // ---- claim it; the ECG is drawn on grid paper ---------------------------------------------
    await row.locator('[data-testid=claim]').click();
    await onCase(reader, sent.caseId);
    const canvas = reader.locator('canvas.ecg-canvas[data-rendered="true"]');
    await canvas.waitFor();
    const pixels = await canvas.evaluate((element) => {
      const ecg = element as HTMLCanvasElement;
      const data = ecg.getContext('2d')!.getImageData(0, 0, ecg.width, ecg.height).data;
      let trace = 0;
      let grid = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (r < 90 && g < 90 && b < 90) trace++;
        else if (r > 180 && g < 215 && b < 215 && r - g > 30) grid++;
      }
      return {
        trace,
        grid,
        total: ecg.width * ecg.height,
        width: ecg.width,
        cssWidth: ecg.getBoundingClientRect().width,
        label: ecg.getAttribute('aria-label'),
      };
    });
    // Sharp: one canvas pixel per device pixel.
    expect(Math.abs(pixels.width - pixels.cssWidth * 2)).toBeLessThanOrEqual(2);
    // Dark trace pixels (12 leads and a rhythm strip), and the pink/red grid around them.
    expect(pixels.trace / pixels.total).toBeGreaterThan(0.003);
    expect(pixels.grid / pixels.total).toBeGreaterThan(0.05);
    expect(pixels.label).toContain('12 导联心电图');
    await reader.screenshot({ path: join(artifacts, 'reader-case.png') });
    await expectAccessible(reader, { context: 'the case view with the ECG and the sign form' });
    await canvas.screenshot({ path: join(artifacts, 'reader-ecg.png') });

    // ---- sign -----------------------------------------------------------------------------------
    // A click on the phrase puts it into the conclusion.
    await reader.getByRole('button', { name: PHRASE, exact: true }).click();
    await expect(reader.getByLabel('诊断结论').inputValue()).resolves.toBe(PHRASE);
    await reader.getByLabel('诊断结论').fill(CONCLUSION);
    await reader.getByRole('combobox', { name: '诊断所见' }).fill('sinus rhythm, normal axis');
    await reader.getByRole('combobox', { name: '诊断所见' }).press('Enter');
    await expect(reader.locator('.sign-form .chip').allInnerTexts()).resolves.toHaveLength(2);
    const clinicReads = countListReads(clinic);
    await reader.getByRole('button', { name: '签发诊断' }).click();
    await reader.locator('.panel .diagnosis .conclusion', { hasText: CONCLUSION }).waitFor();
    await reader.screenshot({ path: join(artifacts, 'reader-signed.png') });

    // ---- the clinic's page shows the diagnosis, no reload -------------------------------------
    const clinicRow = clinic.locator(`tr[data-case-id="${sent.caseId}"]`);
    // How fast is for a benchmark, not a test: only that it comes without a reload.
    await clinicRow.locator('.conclusion', { hasText: CONCLUSION }).waitFor({ timeout: 15_000 });
    expect(await sameDocument(clinic)).toBe(true);
    expect(await clinicRow.innerText()).toContain('李明');
    await expect(clinicRow.locator('.badge').allInnerTexts()).resolves.toContain('已签发');
    // The list was not re-read to get there: the socket brought it.
    expect(clinicReads()).toBe(0);
    await clinic.screenshot({ path: join(artifacts, 'clinic-cases.png') });
    await expectAccessible(clinic, { context: 'the clinic’s cases with a diagnosis' });

    // The signed case leaves the reader's worklist.
    await reader.locator('[data-testid=back-to-worklist]').click();
    await reader.locator(`tr[data-case-id="${sent.caseId}"]`).waitFor({ state: 'detached' });
    expect(await sameDocument(reader)).toBe(true);

    // ---- the clinic prints the report -------------------------------------------------------
    await clinicRow.locator('[data-testid=open-case]').click();
    await clinic.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
    await clinic.evaluate(() => {
      window.print = () => ((window as unknown as { printed: number }).printed = 1);
    });
    await clinic.getByRole('button', { name: '打印报告' }).click();
    expect(await clinic.evaluate(() => (window as unknown as { printed?: number }).printed)).toBe(
      1,
    );
    const report = clinic.locator('#print-root .report');
    const printed = await report.innerText();
    expect(printed).toContain(CONCLUSION);
    // The printed report is in the page's language too.
    expect(printed).toContain('常规十二导联心电图诊断报告');
    expect(printed).toContain('诊断结论');
    expect(printed).toMatch(/诊断医生：李明/);
    expect(await report.locator('canvas.report-ecg').count()).toBe(1);
    await clinic.emulateMedia({ media: 'print' });
    // The printable area of A4 landscape with the report's 10 mm margins, at 96 px per inch.
    await clinic.setViewportSize({ width: 1047, height: 718 });
    expect(await clinic.locator('#app').isVisible()).toBe(false);
    await clinic.screenshot({ path: join(artifacts, 'clinic-report-print.png'), fullPage: true });
    const pdfPath = join(artifacts, 'clinic-report.pdf');
    await clinic.pdf({ path: pdfPath, preferCSSPageSize: true, printBackground: true });
    const pages = (await readFile(pdfPath, 'latin1')).match(/\/Type\s*\/Page[^s]/g) ?? [];
    expect(pages).toHaveLength(1);

    expect(pageProblems).toEqual([]);
  });

  it('flags a STEMI, sends the reader’s measurement corrections, returns a lead-off ECG to the clinic, and shows a box live', async () => {
    // Online before the clinic signs in, so its Boxes panel lists it as online at once.
    const box = await boxIn('clinic-1', 1);
    await new Promise<void>((resolve) => box.once('connected', () => resolve()));
    const reader = await signIn('county1.reader');
    const clinic = await signIn('clinic1.staff');
    const clinicListReads = countListReads(clinic);

    // ---- a STEMI: its flag is on the reader's worklist row ------------------------------------
    const stemi = await box.record({ durationSeconds: 10, finding: 'anterior-stemi', seed: 5 });
    if (!stemi.caseId) throw new Error('the relay opened no case for the STEMI');
    const row = reader.locator(`tr[data-case-id="${stemi.caseId}"]`);
    await row.waitFor({ timeout: 15_000 });
    const badge = row.locator('.flags-cell .badge').first();
    expect(await badge.getAttribute('data-flag')).toBe('STEMI');
    expect(await badge.innerText()).toBe('ST 段抬高型心梗');
    expect(await badge.getAttribute('class')).toContain('flag-critical');
    expect(await row.locator('.priority-stat').count()).toBe(1);
    await reader.screenshot({ path: join(artifacts, 'reader-worklist-stemi.png') });

    // ---- the case view: every flag, and the measurements as the analysis's suggestion ---------
    await row.getByRole('button', { name: /^领取/ }).click();
    await onCase(reader, stemi.caseId);
    const qtc = reader.locator('#measure-qtcMs');
    await qtc.waitFor();
    await expect(reader.locator('.analysis .flag-list').innerText()).resolves.toContain(
      'ST 段抬高型心梗',
    );
    await expect(reader.locator('.measurements .hint').innerText()).resolves.toMatch(
      /^由 telerelay-ecg \S+ 自动测量/,
    );
    const suggestedQtc = Number(await qtc.inputValue());
    expect(suggestedQtc).toBeGreaterThan(300);
    expect(Number(await reader.locator('#measure-heartRateBpm').inputValue())).toBeGreaterThan(50);
    const correctedQtc = suggestedQtc + 25;
    await qtc.fill(String(correctedQtc));
    await reader.getByLabel('确认测量值').check();
    await reader.locator('#conclusion').fill('Acute anterior STEMI. Activate the cath lab.');
    await reader.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
    await reader.screenshot({ path: join(artifacts, 'reader-case-stemi.png'), fullPage: true });
    const signRequest = reader.waitForRequest(
      (request) => request.method() === 'POST' && request.url().endsWith('/sign'),
    );
    const signResponse = reader.waitForResponse((response) => response.url().endsWith('/sign'));
    await reader.locator('[data-testid=sign]').click();
    const sentBody = (await signRequest).postDataJSON() as SignDiagnosisRequest;
    expect(sentBody.measurementReview).toEqual({
      confirmed: true,
      corrections: { qtcMs: correctedQtc },
    });
    expect((await signResponse).status()).toBe(200);
    await reader.locator('.panel .diagnosis .conclusion', { hasText: 'STEMI' }).waitFor();
    const asReader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const detail = (await asReader.get<CaseDetail>(`/api/cases/${stemi.caseId}`)).body;
    expect(detail.status).toBe('signed');
    expect(detail.diagnosis?.conclusion).toContain('STEMI');

    // ---- a lead off: back to the clinic, "Record again", never on the reader's list ------------
    const leadOff = await box.record({ durationSeconds: 10, finding: 'lead-off', seed: 23 });
    if (!leadOff.caseId) throw new Error('the relay opened no case for the lead-off recording');
    const returnedRow = clinic.locator(
      `tr[data-case-id="${leadOff.caseId}"][data-status="returned"]`,
    );
    await returnedRow.waitFor({ timeout: 15_000 });
    const notice = await returnedRow.locator('.returned-notice').innerText();
    expect(notice).toMatch(/^请重新采集：/);
    expect(notice).toMatch(/V3/);
    expect(await sameDocument(clinic)).toBe(true);
    // Pushed over the socket: the clinic's list was not re-read (no more polling).
    expect(clinicListReads()).toBe(0);
    const readerList = (await asReader.get<CaseSummary[]>('/api/worklist')).body;
    expect(readerList.map((item) => item.id)).not.toContain(leadOff.caseId);
    await reader.getByRole('link', { name: '返回待诊列表' }).click();
    await reader.locator('.counts[data-loaded="true"]').waitFor();
    expect(await reader.locator(`tr[data-case-id="${leadOff.caseId}"]`).count()).toBe(0);
    await clinic.screenshot({ path: join(artifacts, 'clinic-returned.png') });
    await returnedRow.locator('[data-testid=open-case]').click();
    await clinic
      .locator('.panel .returned-notice', { hasText: /^请重新采集：.*V3/ })
      .waitFor({ timeout: 5_000 });
    await clinic.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
    await clinic.screenshot({ path: join(artifacts, 'clinic-returned-case.png') });
    await expectAccessible(clinic, { context: 'a returned case seen by the clinic' });
    await clinic.getByRole('link', { name: '← 病例列表' }).click();

    // ---- live: the clinic watches the box stream and stores a strip ----------------------------
    const stream = box.startStream({ leads: ['I', 'II', 'V5'], sampleRateHz: 250, seed: 7 });
    try {
      const watch = clinic.getByRole('button', { name: `实时查看：${box.deviceId}` });
      await watch.click();
      const live = clinic.locator('.live');
      const liveStatus = live.locator('.live-status[data-state="live"]');
      await liveStatus.waitFor({ timeout: 10_000 });
      expect(await liveStatus.innerText()).toMatch(/^实时/);
      // Three seconds of samples: 250 Hz × 3 leads × 3 s.
      await clinic.waitForFunction(
        () =>
          Number(document.querySelector<HTMLElement>('.live-canvas')?.dataset['samples']) > 2250,
        undefined,
        { timeout: 10_000 },
      );
      expect(await traceShare(clinic, '.live-canvas')).toBeGreaterThan(0.003);
      await clinic.screenshot({ path: join(artifacts, 'clinic-live.png') });
      await live.locator('.ecg').screenshot({ path: join(artifacts, 'clinic-live-trace.png') });

      const strip = clinic.waitForResponse((response) =>
        response.url().endsWith('/stream/snapshot'),
      );
      await live.getByRole('button', { name: '保存 10 秒节律条图' }).click();
      const stored = (await (await strip).json()) as { caseId: string; seconds: number };
      const stripResult = live.locator('.strip-result[data-state="stored"]');
      await stripResult.waitFor();
      expect(await stripResult.innerText()).toContain('节律条图');
      // The strip is a case like any other: it arrives in the clinic's list over the socket.
      await clinic
        .locator(`tr[data-case-id="${stored.caseId}"]`, { hasText: '节律条图' })
        .waitFor({ timeout: 10_000 });
      await live.getByRole('button', { name: '停止查看' }).click();
      await live.waitFor({ state: 'hidden' });
    } finally {
      await stream.stop();
    }

    expect(pageProblems).toEqual([]);
  });

  it('switches to English with one click, keeps it for that user after a reload, and the next user on the same browser starts in Chinese', async () => {
    const box = await boxIn('clinic-1', 0);
    const reader = await signIn('county1.reader');
    const lang = (page: Page) => page.locator('html').getAttribute('lang');
    expect(await lang(reader)).toBe('zh-CN');
    await expect(reader.locator('h1').innerText()).resolves.toBe('待诊列表');
    const sent = await box.record({ durationSeconds: 10, seed: 11 });
    if (!sent.caseId) throw new Error('the relay opened no case for the recording');
    const row = reader.locator(`tr[data-case-id="${sent.caseId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.innerText()).toContain('待诊断');

    // ---- one click: the switch names the other language in that language ----------------------
    const toggle = reader.locator('[data-testid=language-switch]');
    expect(await toggle.innerText()).toBe('English');
    await toggle.click();
    await reader.locator('h1', { hasText: 'Worklist' }).waitFor();
    expect(await lang(reader)).toBe('en');
    expect(await toggle.innerText()).toBe('中文');
    await expect(reader.title()).resolves.toBe('Worklist · Telerelay');
    const header = (await reader.locator('.worklist thead').textContent()) ?? '';
    expect(header).toContain('Priority');
    expect(header).toContain('Due in');
    const english = await row.innerText();
    expect(english).toContain('Resting 12-lead ECG');
    expect(english).toContain('Awaiting review');
    // The switch redraws the page, the socket stays: no reload.
    expect(await sameDocument(reader)).toBe(true);

    // ---- a case in English ---------------------------------------------------------------------
    await row.getByRole('button', { name: /^Claim the .+ case from 石桥镇卫生院$/ }).click();
    await onCase(reader, sent.caseId);
    await reader.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
    await expect(reader.locator('[data-testid=sign]').innerText()).resolves.toBe('Sign diagnosis');
    await reader.getByLabel('Conclusion').waitFor();
    await expect(reader.locator('.ecg-caption').innerText()).resolves.toMatch(
      /^25 mm\/s · 10 mm\/mV · \d+ Hz · 12 leads · /,
    );
    await expect(reader.locator('.case-meta').innerText()).resolves.toMatch(/Received\s/);
    await reader.screenshot({ path: join(artifacts, 'reader-case-english.png') });

    // ---- reloaded, the page is still English for this user ------------------------------------
    await reader.reload();
    await reader.locator('[data-testid=sign]', { hasText: 'Sign diagnosis' }).waitFor();
    expect(await lang(reader)).toBe('en');
    await expect(reader.locator('[data-testid=back]').innerText()).resolves.toBe('← Worklist');

    // ---- a colleague on the same browser starts in Chinese; the reader comes back to English ----
    await reader.getByRole('button', { name: 'Log out' }).click();
    // The sign-in page keeps this browser's last language.
    await reader.locator('[data-testid=sign-in]', { hasText: 'Sign in' }).waitFor();
    await signInOn(reader, 'clinic1.staff');
    expect(await lang(reader)).toBe('zh-CN');
    await expect(reader.locator('h1').innerText()).resolves.toBe('病例列表');
    await expect(reader.locator('[data-testid=language-switch]').innerText()).resolves.toBe(
      'English',
    );
    await reader.getByRole('button', { name: '退出登录' }).click();
    await signInOn(reader, 'county1.reader');
    expect(await lang(reader)).toBe('en');
    await reader.locator('h1', { hasText: 'Worklist' }).waitFor();

    expect(pageProblems).toEqual([]);
  });
});
