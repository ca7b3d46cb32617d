import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CaseDetail,
  CaseSummary,
  HospitalPolicyRequest,
  SupervisionChanged,
  SupervisionReport,
} from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { launchChromium } from '../support/browser.js';
import { ConsoleClient, type ConsoleSocket } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/** Over the policy minimum (5 s), short enough to pass while the test waits for it. */
const SHORT_DEADLINE = 8;
const LONG_DEADLINE = 3600;
const everyPriority = (seconds: number) => ({
  ecg: { stat: seconds, urgent: seconds, routine: seconds },
});

/**
 * The health authority's supervision against the relay as its own process: a scenario whose
 * figures the test knows, the dashboard in Chromium showing exactly those, and a case signed
 * while the page is open moving them without a reload.
 */
describe('supervision dashboard in a real browser: known figures, moving live', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let box: SimulatedBox;
  const contexts: BrowserContext[] = [];
  const sockets: ConsoleSocket[] = [];
  const pageProblems: string[] = [];
  let admin: ConsoleClient;
  let county: ConsoleClient;
  let authority: ConsoleClient;
  let countySocket: ConsoleSocket;
  /** Screenshots go to the temp directory, never into the repository. */
  let artifacts: string;

  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'telerelay-supervision-e2e-'));
    console.log(`supervision e2e screenshots: ${artifacts}`);
    relay = await RelayProcess.start();
    browser = await launchChromium();
    const device = (await relay.demoDevices()).find((d) => d.clinicId === 'clinic-1')!;
    box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    county = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    authority = await ConsoleClient.login(relay.httpUrl, 'health.authority');
    countySocket = await county.connectSocket();
    sockets.push(countySocket);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await box?.stop();
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function setCountyDeadline(seconds: number): Promise<void> {
    const policy: HospitalPolicyRequest = {
      deadlines: everyPriority(seconds),
      atDeadline: 'escalate',
    };
    const result = await admin.put('/api/admin/hospitals/county-1/policy', policy);
    expect(result.status).toBe(200);
  }

  /** The box records; resolves once the case is on county 1's worklist. */
  async function recordListed(seed: number): Promise<CaseDetail> {
    const listed: string[] = [];
    const onAdded = (summary: CaseSummary) => listed.push(summary.id);
    countySocket.on('worklist.case-added', onAdded);
    const { caseId } = await box.record({ durationSeconds: 4, seed });
    if (!caseId) throw new Error('the relay opened no case');
    await waitFor(() => listed.includes(caseId), { what: `case ${caseId} listed` });
    countySocket.off('worklist.case-added', onAdded);
    return (await county.get<CaseDetail>(`/api/cases/${caseId}`)).body;
  }

  async function claim(caseId: string): Promise<void> {
    expect((await county.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
  }

  async function sign(caseId: string): Promise<void> {
    const signed = await county.post(`/api/cases/${caseId}/sign`, {
      conclusion: 'Sinus rhythm.',
    });
    expect(signed.status).toBe(200);
  }

  const report = async () => {
    const answer = await authority.get<SupervisionReport>('/api/stats/supervision');
    expect(answer.status).toBe(200);
    return answer.body;
  };

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`${username}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`${username}: ${message.text()}`);
    });
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('header').waitFor();
    await page.evaluate(
      () => ((window as unknown as { sameDocument: boolean }).sameDocument = true),
    );
    return page;
  }

  const tile = (page: Page, key: string) =>
    page.locator(`[data-kpi="${key}"]`).getAttribute('data-value');
  const cell = (page: Page, facilityId: string, field: string) =>
    page
      .locator(`tr[data-facility-id="${facilityId}"] td[data-field="${field}"]`)
      .getAttribute('data-value');

  it('shows exactly the scenario’s figures, then moves them when a case is signed, without a reload', async () => {
    // ---- the scenario -----------------------------------------------------------------
    // B and C under a short deadline: B is claimed and signed after it (a breach); nobody
    // claims C, so the deadline escalates it to the tertiary hospital, where it stays open.
    await setCountyDeadline(SHORT_DEADLINE);
    const late = await recordListed(11);
    await claim(late.id);
    const escalated = await recordListed(12);
    await waitFor(
      async () =>
        (await authority.get<SupervisionReport>('/api/stats/supervision')).body.region.escalated ===
        1,
      { what: 'the unclaimed case escalated by its deadline' },
    );
    // Signed once its due time has passed (waiting on the clock, not a guessed pause).
    await waitFor(() => Date.now() > Date.parse(late.dueAt) + 500, {
      what: 'the claimed case past due',
    });
    await sign(late.id);
    // Under a long deadline: A signed in time, D returned for re-recording, E claimed.
    await setCountyDeadline(LONG_DEADLINE);
    const onTime = await recordListed(13);
    await claim(onTime.id);
    await sign(onTime.id);
    const returned = await recordListed(14);
    await claim(returned.id);
    expect(
      (await county.post(`/api/cases/${returned.id}/return`, { reason: 'Lead V3 off.' })).status,
    ).toBe(200);
    const open = await recordListed(15);
    await claim(open.id);
    // The box acknowledges both diagnoses (its PUBACK): the clinic has them.
    await waitFor(async () => (await report()).region.received === 2, {
      what: 'both diagnoses received by the clinic',
    });

    const known = await report();
    expect(known.region).toMatchObject({
      exams: 5,
      signed: 2,
      received: 2,
      breaches: 2, // B signed late, C open past due
      escalated: 1,
      overflowed: 0,
      returned: 1,
      waiting: 1, // C, at the tertiary hospital
      claimed: 1, // E
    });
    expect(known.lateCases).toEqual([
      expect.objectContaining({
        clinicId: 'clinic-1',
        hospitalId: 'tertiary-1',
        status: 'awaiting_review',
        dueAt: escalated.dueAt,
      }),
    ]);
    const p50 = known.region.turnaroundSeconds.p50;
    expect(p50).toBeGreaterThan(0);

    // ---- the dashboard ------------------------------------------------------------------
    const page = await signIn('health.authority');
    await page.locator('[data-link-state="live"]').waitFor();
    await page.locator('[data-kpi="exams"]').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('卫健委实时监控');
    const shown: Record<string, string | null> = {};
    for (const key of [
      'exams',
      'received',
      'breaches',
      'escalated',
      'overflowed',
      'returned',
      'waiting',
      'claimed',
      'turnaroundP50',
      'turnaroundP90',
    ]) {
      shown[key] = await tile(page, key);
    }
    expect(shown).toEqual({
      exams: '5',
      received: '2',
      breaches: '2',
      escalated: '1',
      overflowed: '0',
      returned: '1',
      waiting: '1',
      claimed: '1',
      turnaroundP50: String(p50),
      turnaroundP90: String(known.region.turnaroundSeconds.p90),
    });
    // The number on the tile is the one people read.
    await expect(page.locator('[data-kpi="breaches"] dd').textContent()).resolves.toBe('2');
    // Per facility: clinic 1 sent all five, county 1 and the tertiary hospital include them,
    // clinic 2 sent none.
    expect(await cell(page, 'clinic-1', 'exams')).toBe('5');
    expect(await cell(page, 'county-1', 'breaches')).toBe('2');
    expect(await cell(page, 'tertiary-1', 'escalated')).toBe('1');
    expect(await cell(page, 'clinic-2', 'exams')).toBe('0');
    // The late list: C, by its clinic, overdue, with no patient data on the page.
    const lateRows = page.locator('[data-testid="supervision-late"] tbody tr');
    await expect(lateRows.count()).resolves.toBe(1);
    await expect(lateRows.first().getAttribute('data-overdue')).resolves.toBe('yes');
    await expect(lateRows.first().innerText()).resolves.toContain('石桥镇卫生院');
    const pageText = await page.locator('main').innerText();
    for (const caseId of [late.id, escalated.id, onTime.id, returned.id, open.id]) {
      expect(pageText).not.toContain(caseId);
    }
    // The charts drew, each with its table.
    await page.locator('[data-charts-of]').waitFor();
    await expect(page.locator('.chart canvas').count()).resolves.toBeGreaterThanOrEqual(4);
    await expect(page.locator('.chart-table table, .chart-table ul').count()).resolves.toBe(4);

    await page.screenshot({ path: join(artifacts, 'supervision.zh-CN.png'), fullPage: true });

    // ---- live: E is signed while the page is open ----------------------------------------
    await sign(open.id);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-kpi="claimed"]')?.getAttribute('data-value') === '0' &&
        document.querySelector('[data-kpi="received"]')?.getAttribute('data-value') === '3',
      undefined,
      { timeout: 20_000 },
    );
    await expect(tile(page, 'breaches')).resolves.toBe('2');
    await expect(tile(page, 'exams')).resolves.toBe('5');
    await expect(
      page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
    ).resolves.toBe(true);

    // ---- English, one click away ---------------------------------------------------------
    await page.locator('[data-testid=language-switch]').click();
    await page.locator('[data-kpi="exams"]').waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe(
      'Health authority — live supervision',
    );
    await expect(tile(page, 'received')).resolves.toBe('3');

    // ---- another period, and the period's CSV from the page ------------------------------
    const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
      new Date(Date.now() - 86_400_000),
    );
    await page.locator('#supervision-from').fill(yesterday);
    await page.locator('#supervision-to').fill(yesterday);
    await page.locator('[data-testid=supervision-period] button[type=submit]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-kpi="exams"]')?.getAttribute('data-value') === '0',
    );
    await expect(tile(page, 'breaches')).resolves.toBe('0');
    await page.locator('[data-testid=supervision-today]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-kpi="exams"]')?.getAttribute('data-value') === '5',
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-testid=supervision-csv]').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^supervision-[\d-]{10}-[\d-]{10}\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    expect(csv).toContain(',clinic-1,clinic,石桥镇卫生院,county-1,5,');
    expect(pageProblems).toEqual([]);
  });

  it('exports the period as CSV, and the authority’s socket hears only facility ids', async () => {
    const events: SupervisionChanged[] = [];
    const heard: string[] = [];
    const socket = await authority.connectSocketCollecting('supervision.changed', events);
    sockets.push(socket);
    socket.onAny((event: string) => heard.push(event));
    const next = await recordListed(16);
    await waitFor(() => events.some((e) => e.facilityIds.includes('clinic-1')), {
      what: 'supervision.changed for clinic 1',
    });
    expect(new Set(heard)).toEqual(new Set(['supervision.changed']));
    for (const event of events) expect(Object.keys(event)).toEqual(['facilityIds']);
    expect(JSON.stringify(events)).not.toContain(next.id);

    const response = await fetch(`${relay.httpUrl}/api/stats/supervision.csv`, {
      headers: { authorization: `Bearer ${authority.token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text())
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    const header = lines[0]!.split(',');
    const clinic = lines.find((line) => line.includes(',clinic-1,'))!.split(',');
    expect(clinic[header.indexOf('exams')]).toBe('6');
    expect(clinic[header.indexOf('breaches')]).toBe('2');
    expect(clinic[header.indexOf('returned')]).toBe('1');
  });

  it('the administrator, pushed nothing, shows no connection badge rather than a false "offline"', async () => {
    const page = await signIn('admin');
    await page.locator('main h1').waitFor();
    await expect(page.locator('.link-state').count()).resolves.toBe(0);
    expect(pageProblems).toEqual([]);
  });
});
