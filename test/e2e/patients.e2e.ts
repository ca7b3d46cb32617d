import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CreatedExamOrder, Diagnosis, RegionStats } from '#contracts';
import { analyzeEcg, borderlineAnteriorSt } from '#ecg';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { launchChromium } from '../support/browser.js';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * Patients end to end (docs/patients.md): the clinic registers the exam in the console, the
 * box records with the order number, the reader's case shows the patient masked, the ECG
 * analysis used the patient's sex, the printed report carries name and masked ID, and the
 * same exam again within the window warns and is counted for the health authority.
 */

// Fictitious resident IDs (area 500101, born 1 January 1900; GB 11643 check characters
// computed): order code 012 is a woman's, 011 a man's.
const WOMAN_ID = '500101190001010121';
const MAN_ID = '500101190001010113';
const WOMAN_MASKED = '5001**********0121';

describe('patients: a registered exam from the clinic console to the printed report', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let box: SimulatedBox;
  let reader: ConsoleClient;
  let clinicApi: ConsoleClient;
  const contexts: BrowserContext[] = [];
  const pageProblems: string[] = [];
  const signal = borderlineAnteriorSt();

  beforeAll(async () => {
    relay = await RelayProcess.start({ ECG_SLA_SECONDS: '3600', ECG_STAT_SLA_SECONDS: '3600' });
    browser = await launchChromium();
    const device = (await relay.demoDevices()).find((d) => d.clinicId === 'clinic-1')!;
    box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    clinicApi = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
  });

  afterAll(async () => {
    await box?.stop();
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`${username}: ${error.message}`));
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('.counts[data-loaded="true"]').waitFor();
    return page;
  }

  /** The case once its analysis has put it on the reader's worklist. */
  async function analysedCase(caseId: string): Promise<CaseDetail> {
    let detail: CaseDetail | undefined;
    await waitFor(
      async () => {
        const answer = await reader.get<CaseDetail>(`/api/cases/${caseId}`);
        detail = answer.status === 200 ? answer.body : undefined;
        return detail?.status === 'awaiting_review';
      },
      { what: `case ${caseId} analysed`, timeoutMs: 60_000, intervalMs: 250 },
    );
    return detail!;
  }

  it('registers the exam in the console, records it with the order number, shows the patient masked, uses her sex, prints her, and warns of the repeat', async () => {
    // The test's own ECG is what it says: STEMI for a woman only (libs/ecg, same code).
    expect(analyzeEcg(signal).flags.map((f) => f.code)).not.toContain('STEMI');
    expect(
      analyzeEcg(signal, { patient: { sex: 'female', ageYears: 60 } }).flags.map((f) => f.code),
    ).toContain('STEMI');

    // ---- the clinic registers the exam ------------------------------------------------
    const clinic = await signIn('clinic1.staff');
    // The page speaks Chinese by default (issue 14): fields by their names, words in Chinese.
    await clinic.locator('a[href="#/orders"]').click();
    await clinic.locator('#orders-title', { hasText: '登记检查' }).waitFor();
    await clinic.locator('input[name="idNumber"]').fill('500101190001010122');
    await clinic.locator('[data-id-feedback][data-valid="false"]').waitFor();
    expect(await clinic.locator('[data-id-feedback]').innerText()).toMatch(/校验位/);
    await clinic.locator('input[name="idNumber"]').fill(WOMAN_ID);
    await clinic.locator('[data-id-feedback][data-valid="true"]').waitFor();
    expect(await clinic.locator('[data-id-feedback]').innerText()).toContain('女');
    await clinic.locator('input[name="name"]').fill('测试患者甲');
    await clinic.locator('textarea[name="indication"]').fill('chest pain for two hours');
    await clinic.getByRole('button', { name: '登记检查' }).click();
    const shown = clinic.locator('.order-result .order-number');
    await shown.waitFor();
    const orderNumber = (await shown.getAttribute('data-order-number'))!;
    expect(await shown.innerText()).toBe(`${orderNumber.slice(0, 4)}-${orderNumber.slice(4)}`);
    expect(await clinic.locator('.order-result .patient').innerText()).toContain(WOMAN_MASKED);
    await clinic.locator(`.open-orders tr[data-order-number="${orderNumber}"]`).waitFor();
    expect(await clinic.content()).not.toContain(WOMAN_ID);

    // ---- the box records with the order number the operator typed ---------------------
    const typed = `${orderNumber.slice(0, 4).toLowerCase()}-${orderNumber.slice(4)}`;
    const { caseId } = await box.record({ signal, orderNumber: typed });
    const detail = await analysedCase(caseId!);
    expect(detail.patient).toMatchObject({
      name: '测试患者甲',
      sex: 'female',
      birthDate: '1900-01-01',
      maskedIdentifier: WOMAN_MASKED,
      documentType: 'resident_id',
    });
    expect(JSON.stringify(detail)).not.toContain(WOMAN_ID);
    // Her sex lowered the V2–V3 threshold: STEMI, so STAT.
    expect(detail.analysis?.flags.map((f) => f.code)).toContain('STEMI');
    expect(detail.priority).toBe('stat');
    const open = await clinicApi.get<{ orderNumber: string }[]>('/api/records/orders');
    expect(open.body.map((o) => o.orderNumber)).not.toContain(orderNumber);

    // The same ECG of a man of 126: the 0.2 mV threshold, no STEMI.
    const man = await clinicApi.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'resident_id', idNumber: MAN_ID, name: '测试患者乙' },
      kind: 'ecg',
      indication: 'control',
    });
    expect(man.status).toBe(201);
    const control = await box.record({ signal, orderNumber: man.body.order.orderNumber });
    const manCase = await analysedCase(control.caseId!);
    expect(manCase.patient?.sex).toBe('male');
    expect(manCase.analysis?.flags.map((f) => f.code)).not.toContain('STEMI');

    // A recording without an order still makes a case, without a patient.
    const plain = await box.record({ finding: 'normal', durationSeconds: 10, seed: 5 });
    expect((await analysedCase(plain.caseId!)).patient).toBeNull();

    // ---- the reader signs; the clinic's case view and printed report show the patient ----
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const signed = await reader.post<Diagnosis>(`/api/cases/${caseId}/sign`, {
      conclusion: 'Anterior ST elevation: STEMI.',
    });
    expect(signed.status).toBe(200);
    await clinic.goto(`${relay.httpUrl}/#/case/${caseId}`);
    const patientField = clinic.locator('.case-meta .patient');
    await patientField.waitFor();
    expect(await patientField.innerText()).toContain(`测试患者甲 · ${WOMAN_MASKED} · 女`);
    await clinic.getByRole('button', { name: '打印报告' }).waitFor();
    await clinic.evaluate(() => {
      window.print = () => undefined;
    });
    await clinic.getByRole('button', { name: '打印报告' }).click();
    const report = await clinic.locator('#print-root .report .report-patient').innerText();
    expect(report).toContain('测试患者甲');
    expect(report).toContain(WOMAN_MASKED);
    expect(report).not.toContain(WOMAN_ID);

    // ---- the same exam again within the window: warned, goes ahead, counted ----------------
    await clinic.goto(`${relay.httpUrl}/#/orders`);
    await clinic.locator('input[name="idNumber"]').fill(WOMAN_ID);
    await clinic.locator('input[name="name"]').fill('测试患者甲');
    await clinic.locator('textarea[name="indication"]').fill('follow-up');
    await clinic.getByRole('button', { name: '登记检查' }).click();
    const warning = clinic.locator('.repeat-warning');
    await warning.waitFor();
    const warned = await warning.innerText();
    expect(warned).toContain('心电图 · 石桥镇卫生院');
    expect(warned).toMatch(/验证码/);
    expect(await clinic.locator('.order-result .order-number').count()).toBe(0);
    await clinic.getByRole('button', { name: '继续检查' }).click();
    await clinic.locator('.order-result .order-number').waitFor();

    // ---- English is one click away: the order page redrawn in English, remembered ---------
    await clinic.locator('[data-testid=language-switch]').click();
    await clinic.locator('#orders-title', { hasText: 'Register an exam' }).waitFor();
    expect(await clinic.locator('.order-form').innerText()).toContain('ID number');
    expect(await clinic.locator('#open-orders-title').innerText()).toBe('Open orders');
    await clinic.locator('input[name="idNumber"]').fill('500101190001010122');
    await clinic.locator('[data-id-feedback][data-valid="false"]').waitFor();
    expect(await clinic.locator('[data-id-feedback]').innerText()).toMatch(/check character/);
    await clinic.reload();
    await clinic.locator('#orders-title', { hasText: 'Register an exam' }).waitFor();

    const authority = await ConsoleClient.login(relay.httpUrl, 'health.authority');
    const stats = await authority.get<RegionStats>('/api/stats');
    const clinic1 = stats.body.facilities.find((f) => f.id === 'clinic-1');
    expect(clinic1).toMatchObject({ repeatExamWarnings: 1, repeatExamsWentAhead: 1 });
    expect(stats.body.facilities.find((f) => f.id === 'county-1')).toMatchObject({
      repeatExamWarnings: 1,
    });

    // Nothing of the numbers in clear in what the relay logged.
    const logged = relay.logs.join('\n');
    for (const id of [WOMAN_ID, MAN_ID]) expect(logged).not.toContain(id);
    expect(pageProblems).toEqual([]);
  });
});
