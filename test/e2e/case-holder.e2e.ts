import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminUser, CaseSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { launchChromium } from '../support/browser.js';

const NAMESAKE_PASSWORD = 'namesake-password';

/**
 * Whose case it is goes by user id: a hospital may well have two readers of the same name,
 * and only the one who claimed the case may sign it.
 */
describe('two readers of the same display name', () => {
  let relay: RelayProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let box: SimulatedBox;

  beforeAll(async () => {
    relay = await RelayProcess.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await box?.stop();
    for (const context of contexts) await context.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function openCase(username: string, password: string, caseId: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(password);
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('[data-link-state="live"]').waitFor();
    await page.goto(`${relay.httpUrl}/#/case/${caseId}`);
    return page;
  }

  it('only the reader who claimed the case is its holder: in the API and in the console', async () => {
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const holder = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const created = await admin.post<AdminUser>('/api/admin/users', {
      username: 'county1.namesake',
      displayName: holder.session.user.displayName,
      role: 'reader',
      facilityId: 'county-1',
      password: NAMESAKE_PASSWORD,
    });
    expect(created.status).toBe(201);
    const namesake = await ConsoleClient.login(
      relay.httpUrl,
      'county1.namesake',
      NAMESAKE_PASSWORD,
    );
    expect(namesake.session.user.displayName).toBe(holder.session.user.displayName);
    expect(namesake.session.user.id).not.toBe(holder.session.user.id);

    // ---- a clinic-1 box records; the first reader claims the case ------------------------------
    const device = (await relay.demoDevices()).find((d) => d.clinicId === 'clinic-1');
    if (!device) throw new Error('no demo box in clinic-1');
    box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    const sent = await box.record({ durationSeconds: 10, seed: 5 });
    if (!sent.caseId) throw new Error('the relay opened no case for the recording');
    const caseId = sent.caseId;
    await expect
      .poll(async () => (await holder.get<CaseSummary>(`/api/cases/${caseId}`)).body.status, {
        timeout: 15_000,
      })
      .toBe('awaiting_review');
    expect((await holder.post(`/api/cases/${caseId}/claim`)).status).toBe(200);

    // ---- the case names its holder by id, and the name only for showing --------------------
    for (const reader of [holder, namesake]) {
      const { body } = await reader.get<CaseSummary>(`/api/cases/${caseId}`);
      expect(body).toMatchObject({
        status: 'in_review',
        claimedById: holder.session.user.id,
        claimedByName: holder.session.user.displayName,
      });
    }

    // ---- the namesake's console shows the case as taken; the holder's shows the sign form -----
    const namesakePage = await openCase('county1.namesake', NAMESAKE_PASSWORD, caseId);
    // Chinese by default: 诊断中 (in review), with who holds it.
    await namesakePage.getByRole('heading', { name: '诊断中' }).waitFor();
    expect(await namesakePage.locator('.sign-form').count()).toBe(0);
    const holderPage = await openCase('county1.reader', DEMO_PASSWORD, caseId);
    await holderPage.locator('.sign-form').waitFor();
  });
});
