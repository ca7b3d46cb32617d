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
  PatientHistory,
} from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { launchChromium } from '../support/browser.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * Consent by verification code against the relay as its own process (real Redis, PGlite,
 * Socket.IO, MQTT, Chromium). Patient P was registered at clinic 1 and has two ECGs there,
 * read at county 1. A reader of ANOTHER county (county 2) has no case of P's: without the
 * patient's code nothing of P's history is reachable; with it the earlier ECG is drawn
 * beside the current one; after the grant runs out, nothing again. Codes and grants are
 * made short by configuration (CONSENT_CODE_MINUTES, CONSENT_GRANT_MINUTES) so the test
 * watches them end on the relay's own clock.
 */

// Fictitious resident IDs (area 500101, GB 11643 check characters computed).
const PATIENT_P = '50010119500101001X';
const PATIENT_Q = '500101196001010022';
const UNREGISTERED = '500101197001010019';
const CODE_MINUTES = 0.5;
const GRANT_MINUTES = 1;

describe('consent by verification code: a reader of another county and a patient’s earlier ECG', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let artifacts: string;
  const contexts: BrowserContext[] = [];
  const sockets: ConsoleSocket[] = [];
  let clinic: ConsoleClient;
  let county1: ConsoleClient;
  let county2: ConsoleClient;
  let tertiary: ConsoleClient;
  /** Codes the demo notifier pushed to clinic 1's room (its staff's socket). */
  const notices: ConsentCodeNotice[] = [];
  let patientP: string;
  let patientQ: string;
  let priorCase: string;
  let currentCase: string;
  /** Everything the sockets of another county's reader and another county's clinic heard. */
  const overheard: string[] = [];
  const observers: ConsoleSocket[] = [];

  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'telerelay-consent-e2e-'));
    relay = await RelayProcess.start({
      CONSENT_CODE_MINUTES: String(CODE_MINUTES),
      CONSENT_GRANT_MINUTES: String(GRANT_MINUTES),
      // Nothing may move P's cases while the test runs.
      ECG_SLA_SECONDS: '3600',
      ECG_STAT_SLA_SECONDS: '3600',
    });
    browser = await launchChromium();
    const login = (user: string) => ConsoleClient.login(relay.httpUrl, user);
    clinic = await login('clinic1.staff');
    county1 = await login('county1.reader');
    county2 = await login('county2.reader');
    tertiary = await login('tertiary.reader');
    const clinicSocket = await clinic.connectSocketCollecting('consent.code', notices);
    sockets.push(clinicSocket);
    for (const user of ['county2.reader', 'clinic4.staff']) {
      const socket = await (await ConsoleClient.login(relay.httpUrl, user)).connectSocket();
      socket.onAny((event: string, payload: unknown) =>
        overheard.push(`${user} ${event} ${JSON.stringify(payload)}`),
      );
      sockets.push(socket);
      observers.push(socket);
    }

    // P's earlier ECG (read and signed at county 1) and the current one (waiting there).
    const readerSocket = await county1.connectSocket();
    sockets.push(readerSocket);
    const prior = await orderFor(PATIENT_P, '测试患者丙');
    patientP = prior.order.patient.id;
    priorCase = await recordFor(prior.order.orderNumber, 7, readerSocket);
    expect((await county1.post(`/api/cases/${priorCase}/claim`)).status).toBe(200);
    const signed = await county1.post(`/api/cases/${priorCase}/sign`, {
      conclusion: 'Sinus rhythm, normal ECG.',
    });
    expect(signed.status).toBe(200);
    const current = await orderFor(PATIENT_P, '测试患者丙');
    if (current.warning) {
      expect(
        (await clinic.post(`/api/records/orders/${current.order.orderNumber}/go-ahead`)).status,
      ).toBe(200);
    }
    currentCase = await recordFor(current.order.orderNumber, 11, readerSocket);
    patientQ = (await orderFor(PATIENT_Q, '测试患者丁')).order.patient.id;
  }, 240_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function orderFor(idNumber: string, name: string): Promise<CreatedExamOrder> {
    const created = await clinic.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'resident_id', idNumber, name },
      kind: 'ecg',
      indication: 'chest pain',
    });
    expect(created.status).toBe(201);
    return created.body;
  }

  /** Clinic 1's box records for the order; county 1's worklist lists the case. */
  async function recordFor(orderNumber: string, seed: number, readerSocket: ConsoleSocket) {
    const device = (await relay.demoDevices()).find((d) => d.clinicId === 'clinic-1')!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    try {
      const { caseId } = await box.record({ durationSeconds: 10, seed, orderNumber });
      if (!caseId) throw new Error('no case for the recording');
      await nextEvent(readerSocket, 'worklist.case-added', (summary) => summary.id === caseId);
      return caseId;
    } finally {
      await box.stop();
    }
  }

  async function ask(
    client: ConsoleClient,
    idNumber: string,
    purpose: string,
  ): Promise<{ status: number; body: ConsentTicket }> {
    return client.post<ConsentTicket>('/api/records/consent-requests', {
      documentType: 'resident_id',
      idNumber,
      purpose,
    });
  }

  /** The code the demo notifier showed clinic 1 for the request with this purpose. */
  async function codeFor(purpose: string): Promise<string> {
    await waitFor(() => notices.some((n) => n.purpose === purpose), {
      timeoutMs: 15_000,
      what: `a code for "${purpose}"`,
    });
    return notices.find((n) => n.purpose === purpose)!.code;
  }

  async function verify(client: ConsoleClient, requestId: string, code: string) {
    const response = await fetch(
      `${relay.httpUrl}/api/records/consent-requests/${requestId}/verify`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      },
    );
    return { status: response.status, text: await response.text() };
  }

  /** Every route of P's history, as this reader: status of each. */
  async function historyRoutes(client: ConsoleClient): Promise<Record<string, number>> {
    const paths = [
      `/api/records/patients/${patientP}/history`,
      `/api/records/cases/${currentCase}/history`,
      `/api/records/patients/${patientP}/cases/${priorCase}/ecg`,
      `/api/records/patients/${patientP}/cases/${currentCase}/ecg`,
      `/api/cases/${priorCase}`,
      `/api/cases/${priorCase}/ecg`,
      `/api/cases/${currentCase}`,
    ];
    const answers: Record<string, number> = {};
    for (const path of paths) answers[path] = (await client.get(path)).status;
    return answers;
  }

  const allRefused = (answers: Record<string, number>) =>
    Object.fromEntries(Object.keys(answers).map((path) => [path, 404]));

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('[data-link-state="live"]').waitFor();
    return page;
  }

  it('walks the whole flow: nothing without the code, the prior ECG beside the current one with it, nothing after expiry', async () => {
    // A code that will have expired by the end (asked first, entered last).
    const expiring = await ask(county2, PATIENT_P, 'expiring request');
    expect(expiring.status).toBe(201);
    const expiringCode = await codeFor('expiring request');

    // ---- without the code: no route reaches P's history --------------------------------
    const before = await historyRoutes(county2);
    expect(before).toEqual(allRefused(before));
    const qido = await fetch(`${relay.httpUrl}/dicomweb/studies`, {
      headers: { authorization: `Bearer ${county2.token}`, accept: 'application/dicom+json' },
    });
    expect([200, 204]).toContain(qido.status);
    const found = qido.status === 200 ? await qido.text() : '';
    expect(found).not.toContain(priorCase);

    // ---- the reader asks in the console; clinic 1's page shows the code -----------------
    const reader = await signIn('county2.reader');
    const clinicPage = await signIn('clinic1.staff');
    // The page speaks Chinese by default (issue 14): fields by their ids, buttons by their
    // Chinese names.
    await reader.locator('a[href="#/records/request"]').first().click();
    await reader.locator('#record-document-type').selectOption('resident_id');
    await reader.locator('#record-number').fill(PATIENT_P);
    await reader.locator('#record-purpose').fill('serial comparison, chest pain');
    await reader.getByRole('button', { name: '发送验证码给患者' }).click();
    const shown = clinicPage.locator('.consent-code');
    await shown.waitFor({ timeout: 15_000 });
    const code = await shown.getAttribute('data-code');
    expect(code).toMatch(/^[0-9]{6}$/);
    const noticeText = await shown.innerText();
    expect(noticeText).toContain('5001**********001X');
    expect(noticeText).not.toContain(PATIENT_P);
    expect(noticeText).toContain('serial comparison, chest pain');
    await clinicPage.screenshot({ path: join(artifacts, 'clinic-code.png') });

    await reader.getByRole('textbox', { name: '验证码' }).fill(code!);
    await reader.getByRole('button', { name: '打开记录' }).click();
    // ---- with it: the earlier ECG drawn beside the current one, both measurement sets ---
    const priorPaper = reader.locator(
      `.serial-ecg[data-serial="earlier"][data-case-id="${priorCase}"] canvas[data-rendered="true"]`,
    );
    const currentPaper = reader.locator(
      `.serial-ecg[data-serial="current"][data-case-id="${currentCase}"] canvas[data-rendered="true"]`,
    );
    await priorPaper.waitFor({ timeout: 30_000 });
    await currentPaper.waitFor({ timeout: 30_000 });
    const measures = await reader.locator('.serial-measures').innerText();
    for (const label of ['Heart rate', 'QRS', 'QTc', 'ST ']) expect(measures).toContain(label);
    expect(await reader.locator('.serial-ecg .measurement-values').count()).toBe(2);
    expect(await reader.locator('.prior-exams').innerText()).toContain('Sinus rhythm, normal ECG.');
    await reader.screenshot({ path: join(artifacts, 'serial-comparison.png'), fullPage: true });
    const during = await county2.get<PatientHistory>(`/api/records/patients/${patientP}/history`);
    expect(during.status).toBe(200);
    expect(during.body.exams.map((e) => e.caseId).sort()).toEqual([priorCase, currentCase].sort());
    // The worklist scope is unchanged: the grant opens the record, not county 1's cases.
    expect((await county2.get(`/api/cases/${priorCase}`)).status).toBe(404);

    // ---- clinic 1 shows the patient who has access --------------------------------------
    await clinicPage.goto(`${relay.httpUrl}/#/patients/${patientP}/grants`);
    const grantRow = clinicPage.locator('table.grants tbody tr');
    await grantRow.first().waitFor();
    const grantText = await grantRow.first().innerText();
    expect(grantText).toContain('张伟');
    expect(grantText).toContain('北岭区人民医院');
    expect(grantText).toContain('serial comparison, chest pain');

    // ---- county 1, which reads P's case, sees the earlier exam on the case page ----------
    const county1Page = await signIn('county1.reader');
    await county1Page.goto(`${relay.httpUrl}/#/case/${currentCase}`);
    const panel = county1Page.locator('.prior-exams-panel');
    await panel.locator(`tr[data-case-id="${priorCase}"]`).waitFor({ timeout: 15_000 });
    expect(await panel.innerText()).toContain('Sinus rhythm, normal ECG.');
    await panel.getByRole('link', { name: '与本次心电图对比' }).click();
    await county1Page
      .locator(
        `.serial-ecg[data-serial="current"][data-case-id="${currentCase}"] canvas[data-rendered="true"]`,
      )
      .waitFor({ timeout: 30_000 });

    // ---- after the grant runs out (the relay's clock): nothing again ---------------------
    await waitFor(
      async () => (await county2.get(`/api/records/patients/${patientP}/history`)).status === 404,
      { timeoutMs: GRANT_MINUTES * 60_000 + 30_000, intervalMs: 1000, what: 'the grant to end' },
    );
    const after = await historyRoutes(county2);
    expect(after).toEqual(allRefused(after));

    // ---- the code asked first has expired by now: refused like any wrong code -------------
    const wrongAnswer = await verify(county2, expiring.body.requestId, expiringCode);
    expect(wrongAnswer.status).toBe(403);
    expect(JSON.parse(wrongAnswer.text)).toMatchObject({ code: 'FORBIDDEN' });

    // ---- no socket of another county heard anything of P, and no log holds the number ----
    await Promise.all(
      observers.map(
        (socket) =>
          new Promise((resolve) =>
            socket.emit('stream.watch', {} as { deviceId: string }, resolve),
          ),
      ),
    );
    const heard = overheard.filter(
      (line) =>
        line.includes(patientP) ||
        line.includes(priorCase) ||
        line.includes(currentCase) ||
        line.includes('consent.code'),
    );
    expect(heard).toEqual([]);
    const logs = relay.logs.join('\n');
    expect(logs).toContain('demo: code for patient 5001**********001X');
    expect(logs).not.toContain(PATIENT_P);
  }, 300_000);

  it('answers a wrong number exactly like a wrong code, refuses a used code, locks after five wrong tries and refuses another patient’s code', async () => {
    // Wrong number vs wrong code: the same ticket shape, the same refusal, byte for byte.
    const unknown = await ask(tertiary, UNREGISTERED, 'unknown number');
    const known = await ask(tertiary, PATIENT_P, 'brute force');
    expect(unknown.status).toBe(201);
    expect(known.status).toBe(201);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort());
    const right = await codeFor('brute force');
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const onUnknown = await verify(tertiary, unknown.body.requestId, wrong);
    const onKnown = await verify(tertiary, known.body.requestId, wrong);
    expect(onUnknown).toEqual(onKnown);
    expect(onKnown.status).toBe(403);

    // Brute force: five wrong tries (one spent above), then even the right code is refused.
    for (let i = 0; i < 4; i += 1) {
      expect(await verify(tertiary, known.body.requestId, wrong)).toEqual(onKnown);
    }
    expect(await verify(tertiary, known.body.requestId, right)).toEqual(onKnown);
    expect((await tertiary.get(`/api/records/patients/${patientP}/history`)).status).toBe(404);
    // And that number is closed to this reader for the day.
    expect((await ask(tertiary, PATIENT_P, 'again after the lock')).status).toBe(429);

    // Another patient's code does not open the request; the right one does, once.
    const forQ = await ask(county1, PATIENT_Q, 'for Q');
    const codeQ = await codeFor('for Q');
    const forP = await ask(county1, PATIENT_P, 'for P by county 1');
    const codeP = await codeFor('for P by county 1');
    if (codeP !== codeQ) {
      expect(await verify(county1, forP.body.requestId, codeQ)).toEqual(onKnown);
    }
    // Another reader holding the request id and the code cannot use it.
    expect(await verify(county2, forQ.body.requestId, codeQ)).toEqual(onKnown);
    const granted = await verify(county1, forQ.body.requestId, codeQ);
    expect(granted.status).toBe(200);
    expect((JSON.parse(granted.text) as AccessGrant).patientId).toBe(patientQ);
    expect(await verify(county1, forQ.body.requestId, codeQ)).toEqual(onKnown);
  }, 120_000);
});
