import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AccessGrant,
  ConsentCodeNotice,
  ConsentTicket,
  CreatedExamOrder,
  PatientAccessPage,
} from '#contracts';
import { launchChromium } from '../support/browser.js';
import { ConsoleClient, type ConsoleSocket } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * "Who looked at my record" and withdrawing a consent, against the relay as its own process
 * in a real Chromium. Clinic 1 registers a patient; a reader of county 2 gets the patient's
 * code and reads the record many times; clinic 1's staff show the patient the access log a
 * page at a time (in Chinese, and in English after the switch), then revoke the grant from
 * the grants page, after which the reader reads nothing and the log shows the revocation.
 */

const PASSPORT = 'ACCESSLOG01';
const PURPOSE = '对比既往心电图';
/** Reads by the reader: with the registration, the request and the grant, two pages of 20. */
const READS = 24;
const PAGE_SIZE = 20;

describe('the access log and revoking a grant, in the clinic’s console', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let artifacts: string;
  const contexts: BrowserContext[] = [];
  const sockets: ConsoleSocket[] = [];
  const pageProblems: string[] = [];
  const notices: ConsentCodeNotice[] = [];
  let clinic: ConsoleClient;
  let reader: ConsoleClient;
  let patientId: string;
  let grant: AccessGrant;

  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'telerelay-access-log-e2e-'));
    relay = await RelayProcess.start();
    browser = await launchChromium();
    clinic = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    sockets.push(await clinic.connectSocketCollecting('consent.code', notices));

    const created = await clinic.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'passport', idNumber: PASSPORT, name: '查阅测试患者' },
      kind: 'ecg',
      indication: 'palpitations',
    });
    expect(created.status).toBe(201);
    patientId = created.body.order.patient.id;

    const ticket = await reader.post<ConsentTicket>('/api/records/consent-requests', {
      documentType: 'passport',
      idNumber: PASSPORT,
      purpose: PURPOSE,
    });
    expect(ticket.status).toBe(201);
    await waitFor(() => notices.some((notice) => notice.patientId === patientId), {
      timeoutMs: 15_000,
      what: 'the code on clinic 1’s page',
    });
    const code = notices.find((notice) => notice.patientId === patientId)!.code;
    const granted = await reader.post<AccessGrant>(
      `/api/records/consent-requests/${ticket.body.requestId}/verify`,
      { code },
    );
    expect(granted.status).toBe(200);
    grant = granted.body;
    for (let read = 0; read < READS; read += 1) {
      expect((await reader.get(`/api/records/patients/${patientId}/history`)).status).toBe(200);
    }
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`${username}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`${username}: ${message.text()}`);
    });
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('form.login-form button[type=submit]').click();
    await page.locator('[data-link-state="live"]').waitFor();
    return page;
  }

  const rows = (page: Page) => page.locator('table.access-log tbody tr');

  async function onPage(page: Page, number: number): Promise<void> {
    await page.locator(`[data-testid=access-log-page][data-page="${number}"]`).waitFor();
    await rows(page).first().waitFor();
  }

  async function shownTimes(page: Page): Promise<number[]> {
    const times = await page
      .locator('table.access-log tbody tr time')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('datetime') ?? ''));
    return times.map((iso) => Date.parse(iso));
  }

  it('shows the patient who looked at the record, newest first, a page at a time, in Chinese and in English', async () => {
    const page = await signIn('clinic1.staff');
    await page.goto(`${relay.httpUrl}/#/patients/${patientId}/grants`);
    await page.locator(`tr[data-grant-id="${grant.id}"][data-grant-state="live"]`).waitFor();
    await page.locator('[data-testid=access-log-link]').click();
    await page.waitForURL(/#\/patients\/[^/]+\/access-log$/);
    await onPage(page, 1);
    expect(await page.locator('h1').innerText()).toBe('查阅记录');
    expect(await page.title()).toContain('查阅记录');

    // Page 1: the newest twenty, the reader's reads, each with who, role, facility, why.
    expect(await rows(page).count()).toBe(PAGE_SIZE);
    const first = rows(page).first();
    expect(await first.getAttribute('data-action')).toBe('records.history.read');
    const firstText = await first.innerText();
    for (const words of ['张伟', '诊断医生', '北岭区人民医院', PURPOSE]) {
      expect(firstText).toContain(words);
    }
    expect(firstText).toContain('查看既往检查');
    expect(firstText).toContain('允许');
    const newest = await shownTimes(page);
    expect(newest).toEqual([...newest].sort((a, b) => b - a));
    expect(await page.locator('[data-testid=access-log-newer]').isDisabled()).toBe(true);
    await page.screenshot({ path: join(artifacts, 'access-log-page-1.png'), fullPage: true });

    // Page 2: the rest, down to the registration, nothing shown twice.
    await page.locator('[data-testid=access-log-older]').click();
    await onPage(page, 2);
    const older = await rows(page).evaluateAll((trs) =>
      trs.map((tr) => (tr as HTMLElement).dataset['action']),
    );
    expect(older).toEqual([
      ...Array<string>(READS - PAGE_SIZE).fill('records.history.read'),
      'consent.grant',
      'consent.request',
      'exam_order.create',
    ]);
    const olderTimes = await shownTimes(page);
    expect(Math.max(...olderTimes)).toBeLessThanOrEqual(Math.min(...newest));
    expect(await page.locator('[data-testid=access-log-older]').isDisabled()).toBe(true);
    const grantRow = await rows(page).nth(older.indexOf('consent.grant')).innerText();
    expect(grantRow).toContain('患者授权查阅（验证码正确）');
    expect(await rows(page).nth(older.indexOf('exam_order.create')).innerText()).toContain(
      '卫生院医务人员',
    );

    // Back to page 1: the clinic's own looks at the log are now at the top.
    await page.locator('[data-testid=access-log-newer]').click();
    await onPage(page, 1);
    expect(await rows(page).first().getAttribute('data-action')).toBe('records.access-log.read');
    expect(await rows(page).first().innerText()).toContain('查看查阅记录');

    // The same page in English, one click away.
    await page.locator('[data-testid=language-switch]').click();
    await page.locator('h1', { hasText: 'Who looked at this record' }).waitFor();
    await onPage(page, 1);
    const english = await page.locator('table.access-log').innerText();
    expect(english).toContain('Viewed this access log');
    expect(english).toContain('Reading doctor');
    expect(english).toContain('Viewed earlier exams');
    await page.screenshot({ path: join(artifacts, 'access-log-english.png'), fullPage: true });

    // Nobody else's clinic gets the log; the number is nowhere on the page or in the logs.
    const otherClinic = await ConsoleClient.login(relay.httpUrl, 'clinic2.staff');
    expect((await otherClinic.get(`/api/records/patients/${patientId}/access-log`)).status).toBe(
      404,
    );
    expect(await page.content()).not.toContain(PASSPORT);
    expect(pageProblems).toEqual([]);
  });

  it('revokes the grant from the grants page: the reader reads nothing after it, and the log shows it', async () => {
    expect((await reader.get(`/api/records/patients/${patientId}/history`)).status).toBe(200);
    const page = await signIn('clinic1.staff');
    await page.goto(`${relay.httpUrl}/#/patients/${patientId}/grants`);
    const row = page.locator(`tr[data-grant-id="${grant.id}"]`);
    await row.and(page.locator('[data-grant-state="live"]')).waitFor();
    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.accept();
    });
    await row.locator('[data-testid=revoke-grant]').click();
    await row.and(page.locator('[data-grant-state="revoked"]')).waitFor();
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain('张伟');
    expect(await row.locator('[data-testid=revoke-grant]').count()).toBe(0);

    // From now on the reader is where a reader without a grant is: no such patient.
    expect((await reader.get(`/api/records/patients/${patientId}/history`)).status).toBe(404);
    const grants = await clinic.get<AccessGrant[]>(`/api/records/patients/${patientId}/grants`);
    expect(grants.body.find((g) => g.id === grant.id)?.revokedAt).not.toBeNull();
    // Another clinic cannot revoke it (nor see that it exists); revoking again changes nothing.
    const otherClinic = await ConsoleClient.login(relay.httpUrl, 'clinic2.staff');
    const path = `/api/records/patients/${patientId}/grants/${grant.id}/revoke`;
    expect((await otherClinic.post(path)).status).toBe(404);
    expect((await reader.post(path)).status).toBe(403);
    const again = await clinic.post<AccessGrant>(path);
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(grants.body.find((g) => g.id === grant.id)?.revokedAt);

    // The revocation is in the patient's access log, by the clinic, with the grant's purpose.
    await page.locator('[data-testid=access-log-link]').click();
    await onPage(page, 1);
    const revoked = rows(page).and(page.locator('[data-action="consent.revoke"]'));
    expect(await revoked.count()).toBe(1);
    const revokedText = await revoked.innerText();
    expect(revokedText).toContain('撤销查阅授权');
    expect(revokedText).toContain(clinic.session.user.displayName);
    expect(revokedText).toContain(PURPOSE);
    const log = await clinic.get<PatientAccessPage>(
      `/api/records/patients/${patientId}/access-log?limit=500`,
    );
    // The reader's refused reads after the revocation are audited as refusals, not as reads.
    expect(log.body.entries.filter((e) => e.action === 'records.history.read')).toHaveLength(
      READS + 1,
    );
    expect(pageProblems).toEqual([]);
  });
});
