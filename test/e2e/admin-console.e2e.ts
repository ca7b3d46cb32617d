import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, CaseSummary, DeviceSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConnectionRefusedError } from '../../device-simulator/src/errors.js';
import { launchChromium } from '../support/browser.js';
import { ConsoleClient } from '../support/clients.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

const BOX_ID = 'e2e-admin-box-1';

describe('administrator in a real browser: a box registered with its secret shown once, then disabled', () => {
  let relay: RelayProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let artifacts: string;
  const boxes: SimulatedBox[] = [];
  /** Uncaught errors and console errors; the test expects none but the one 409 it provokes. */
  const pageProblems: string[] = [];
  const conflicts: string[] = [];

  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'telerelay-admin-e2e-'));
    console.log(`admin e2e screenshots: ${artifacts}`);
    relay = await RelayProcess.start();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: relay.httpUrl,
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // Chromium logs every 4xx answer; the registration refused on purpose below is one.
      if (/status of 409/.test(message.text())) conflicts.push(message.text());
      else pageProblems.push(message.text());
    });
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.stop()));
    await context?.close();
    await browser?.close();
    await relay?.dispose();
  });

  async function signInAsAdmin(): Promise<void> {
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('form.login-form button[type=submit]').click();
    await page.locator('[data-admin-page]').first().waitFor();
  }

  /** Clicks the page's refresh until the box's row shows what is expected. */
  async function refreshUntil(selector: string, what: string): Promise<void> {
    await waitFor(
      async () => {
        await page.locator('[data-testid=boxes-refresh]').click();
        return (await page.locator(selector).count()) > 0;
      },
      { timeoutMs: 20_000, intervalMs: 300, what },
    );
  }

  it('registers a box, which connects with the secret shown once and reaches the county worklist; disabled, it is refused', async () => {
    await signInAsAdmin();
    // Chinese by default, the administrator's navigation in place of "Nothing to read here".
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await expect(page.locator('nav.admin-nav').innerText()).resolves.toContain('心电采集盒');

    // ---- register a box at clinic 1 ------------------------------------------------------
    await page.locator('[data-testid=admin-nav-boxes]').click();
    await page.locator('#box-clinic option[value="clinic-1"]').waitFor({ state: 'attached' });
    await page.locator('#box-id').fill(BOX_ID);
    await page.locator('#box-clinic').selectOption('clinic-1');
    await page.locator('[data-testid=box-register-form] button[type=submit]').click();
    const card = page.locator(`[data-testid=device-secret-card][data-device-id="${BOX_ID}"]`);
    await card.waitFor();
    const secret = (await page.locator('[data-testid=device-secret]').innerText()).trim();
    // 256 random bits, base64url (docs/architecture.md, "Box secrets are keys").
    expect(secret).toMatch(/^[\w-]{43}$/);
    await expect(card.innerText()).resolves.toContain('密钥只显示这一次');
    await page.locator('[data-testid=device-secret-copy]').click();
    await waitFor(
      async () => (await page.evaluate(() => navigator.clipboard.readText())) === secret,
      { timeoutMs: 5_000, what: 'the secret on the clipboard' },
    );
    await page.screenshot({ path: join(artifacts, 'admin-box-registered.png') });

    const row = page.locator(`tr[data-device-id="${BOX_ID}"]`);
    await row.waitFor();
    await expect(row.getAttribute('data-state')).resolves.toBe('offline');
    await expect(row.locator('[data-field=last-seen]').innerText()).resolves.toBe('从未连接');

    // The relay never answers the secret again.
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const listed = await admin.get<DeviceSummary[]>('/api/devices');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.find((device) => device.id === BOX_ID)).toMatchObject({
      clinicId: 'clinic-1',
      disabled: false,
      online: false,
    });

    // ---- the box connects with that secret; its recording reaches county 1 -------------
    const refusals: Error[] = [];
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: BOX_ID,
      secret,
      reconnect: { minMs: 100, maxMs: 300 },
    });
    box.on('error', (error: Error) => refusals.push(error));
    boxes.push(box);
    await box.start();
    const sent = await box.record({ durationSeconds: 10, seed: 11 });
    if (!sent.caseId) throw new Error('the relay opened no case for the recording');
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    // The case is listed once the automatic analysis has run.
    let inWorklist: CaseSummary | undefined;
    await waitFor(
      async () => {
        const worklist = await reader.get<CaseSummary[]>('/api/worklist');
        inWorklist = worklist.body.find((item) => item.id === sent.caseId);
        return inWorklist?.status === 'awaiting_review';
      },
      { timeoutMs: 20_000, what: "the box's case on county 1's worklist" },
    );
    expect(inWorklist).toMatchObject({ clinicId: 'clinic-1', hospitalId: 'county-1' });

    // The administrator sees it online, with its firmware and its newest recording.
    await refreshUntil(
      `tr[data-device-id="${BOX_ID}"][data-online="true"]`,
      'the box shown online',
    );
    await expect(row.locator('[data-field=firmware]').innerText()).resolves.toBe('sim-1.0');
    await expect(row.locator('[data-field=last-recording]').innerText()).resolves.toMatch(
      /^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d$/,
    );
    await expect(row.innerText()).resolves.toContain('在线');

    // ---- shown once: after the notice is closed and the page reloaded, it is nowhere -----
    await page.locator('[data-testid=device-secret-dismiss]').click();
    await expect(card.count()).resolves.toBe(0);
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);

    // ---- registering the same id again: the 409 in plain words ---------------------------
    await page.locator('#box-id').fill(BOX_ID);
    await page.locator('[data-testid=box-register-form] button[type=submit]').click();
    const refusal = page.locator('[data-testid=box-register-form] [role=alert]');
    await refusal.waitFor();
    await expect(refusal.innerText()).resolves.toBe(
      `编号为 ${BOX_ID} 的采集盒已经登记过。采集盒编号不能重复；如需新密钥，请用新编号登记，并停用旧的。`,
    );
    expect(conflicts).toHaveLength(1);

    // ---- disabled in the browser: disconnected now, its next connect refused -------------
    page.once('dialog', (dialog) => void dialog.accept());
    await row.locator('button[data-action=disable]').click();
    await page.locator(`tr[data-device-id="${BOX_ID}"][data-state="disabled"]`).waitFor();
    await expect(row.innerText()).resolves.toContain('已停用');
    // The box itself reconnects (it was disconnected) and is refused.
    await waitFor(() => refusals.some((error) => error instanceof ConnectionRefusedError), {
      timeoutMs: 20_000,
      what: "the box's own reconnect refused",
    });
    await box.stop();
    // And any connect with the right secret is refused too: CONNACK 4, as for a wrong secret
    // (the gate does not tell a caller why; the audit trail does, below).
    await expect(
      mqtt.connectAsync(relay.mqttUrl, {
        protocolVersion: 4,
        clientId: BOX_ID,
        username: BOX_ID,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      }),
    ).rejects.toMatchObject({ code: 4 });

    // ---- moving clinic 1 to county 2 would strand its open case: the 409 in plain words ---
    await page.locator('[data-testid=admin-nav-facilities]').click();
    await page
      .locator('[data-testid=facility-tree] li[data-facility-id="clinic-1"] > button')
      .click();
    await page.locator('#facility-edit-parent').selectOption('county-2');
    await page.locator('[data-testid=facility-edit-form] button[type=submit]').click();
    const moveRefusal = page.locator('[data-testid=facility-edit-form] [role=alert]');
    await moveRefusal.waitFor();
    await expect(moveRefusal.innerText()).resolves.toBe(
      '无法把 clinic-1 移到 county-2 之下：它下面还有 1 例未完成的病例，正由移动后不再是其上级的医院处理。请先签发、退回或上转这些病例，再移动。',
    );
    expect(conflicts).toHaveLength(2);
    // Nothing moved.
    const facilities =
      await admin.get<{ id: string; parentId: string | null }[]>('/api/admin/facilities');
    expect(facilities.body.find((f) => f.id === 'clinic-1')?.parentId).toBe('county-1');
    await expect(
      page
        .locator(
          '[data-testid=facility-tree] li[data-facility-id="county-1"] li[data-facility-id="clinic-1"]',
        )
        .count(),
    ).resolves.toBe(1);
    await page.screenshot({ path: join(artifacts, 'admin-facilities.png') });

    // ---- users: create one, reset its password; the new password signs in ----------------
    await page.locator('[data-testid=admin-nav-users]').click();
    await page.locator('[data-testid=users-table] tr[data-username="county1.reader"]').waitFor();
    await page.locator('#user-username').fill('clinic1.nurse2');
    await page.locator('#user-display-name').fill('护士 二');
    await page.locator('#user-role').selectOption('clinic_staff');
    await page.locator('#user-facility').selectOption('clinic-1');
    await page.locator('#user-password').fill('first-password-1');
    await page.locator('[data-testid=user-create-form] button[type=submit]').click();
    const nurse = page.locator('[data-testid=users-table] tr[data-username="clinic1.nurse2"]');
    await nurse.waitFor();
    // The reset asks in a dialog of the page, with a password field: too short is held back.
    await nurse.locator('button[data-action=reset-password]').click();
    const resetDialog = page.locator('[data-testid=password-dialog]');
    const newPassword = resetDialog.locator('input#new-password');
    await expect(newPassword.getAttribute('type')).resolves.toBe('password');
    await expect(newPassword.getAttribute('autocomplete')).resolves.toBe('new-password');
    await newPassword.fill('short');
    await resetDialog.locator('button[type=submit]').click();
    await expect(
      newPassword.evaluate((input: HTMLInputElement) => input.validity.tooShort),
    ).resolves.toBe(true);
    await expect(resetDialog.isVisible()).resolves.toBe(true);
    await newPassword.fill('second-password-2');
    await resetDialog.locator('button[type=submit]').click();
    await page.locator('.form-message.done', { hasText: '护士 二 的密码已重置' }).waitFor();
    await ConsoleClient.login(relay.httpUrl, 'clinic1.nurse2', 'second-password-2');

    // ---- a county hospital's deadline: ECG STAT to 90 s, escalating --------------------------
    await page.locator('[data-testid=admin-nav-policies]').click();
    const statEcg = page.locator('[data-testid=policy-form] [data-testid=deadline-ecg-stat]');
    await statEcg.waitFor();
    // The first county hospital is shown first.
    await expect(page.locator('#policy-hospital').inputValue()).resolves.toBe('county-1');
    await statEcg.fill('90');
    await page.locator('#policy-action').selectOption('escalate');
    await page.locator('[data-testid=policy-form] button[type=submit]').click();
    await waitFor(
      async () =>
        (
          await admin.get<{ overrides: { ecg?: { stat?: number } } }>(
            '/api/admin/hospitals/county-1/policy',
          )
        ).body.overrides.ecg?.stat === 90,
      { timeoutMs: 10_000, what: "county 1's ECG STAT deadline saved as 90 s" },
    );

    // ---- the audit trail, filtered in the browser: the refusals, with their reason -------
    await page.locator('[data-testid=admin-nav-audit]').click();
    await page.locator('#audit-actor').fill(`device:${BOX_ID}`);
    await page.locator('#audit-action').fill('mqtt.connect');
    await page.locator('#audit-outcome').selectOption('denied');
    await page.locator('[data-testid=audit-filters] button[type=submit]').click();
    const denied = page.locator('[data-testid=audit-table] tbody tr[data-outcome=denied]');
    // The unfiltered trail, drawn first, holds denied rows too: wait for the filtered answer.
    const rows = page.locator('[data-testid=audit-table] tbody tr');
    await waitFor(
      async () => (await denied.count()) >= 2 && (await rows.count()) === (await denied.count()),
      { timeoutMs: 10_000, what: 'only the refused connects (at least two) in the filtered trail' },
    );
    const shown = await page
      .locator('[data-testid=audit-table] tbody tr')
      .evaluateAll((rows) => rows.map((tr) => (tr as HTMLElement).innerText));
    expect(shown.length).toBe(await denied.count());
    for (const text of shown) {
      expect(text).toContain(`device:${BOX_ID}`);
      expect(text).toContain('mqtt.connect');
      expect(text).toContain('拒绝');
      expect(text).toContain('device disabled');
    }
    // The same filter finds nothing for another box: the filter, not the trail, decided.
    await page.locator('#audit-actor').fill('device:clinic-6-box-none');
    await page.locator('[data-testid=audit-filters] button[type=submit]').click();
    await page.locator('[data-testid=audit-table] td.empty').waitFor();
    await page.screenshot({ path: join(artifacts, 'admin-audit.png') });

    // ---- English one click away -----------------------------------------------------------
    await page.locator('[data-testid=language-switch]').click();
    await page.locator('[data-admin-page=audit] h1').waitFor();
    await expect(page.locator('[data-admin-page=audit] h1').innerText()).resolves.toBe(
      'Audit trail',
    );
    await page.locator('[data-testid=admin-nav-boxes]').click();
    await expect(page.locator(`tr[data-device-id="${BOX_ID}"]`).innerText()).resolves.toContain(
      'Disabled',
    );

    expect(pageProblems).toEqual([]);
  });

  it('disables a clinic: its nurse is signed out at once and its box refused; a county with clinics in use stays, the reason in plain words; enabled again, the nurse signs in', async () => {
    // The administrator left the first test in English; this one reads the Chinese page.
    if ((await page.locator('html').getAttribute('lang')) !== 'zh-CN') {
      await page.locator('[data-testid=language-switch]').click();
    }
    await page.locator('html[lang="zh-CN"]').waitFor({ state: 'attached' });

    // ---- clinic 3's nurse signed in, and one of its boxes connected --------------------
    const nurseContext = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const nurse = await nurseContext.newPage();
    await nurse.goto(relay.httpUrl);
    await nurse.locator('#username').fill('clinic3.staff');
    await nurse.locator('#password').fill(DEMO_PASSWORD);
    await nurse.locator('form.login-form button[type=submit]').click();
    await nurse.locator('[data-link-state="live"]').waitFor();
    const demoBox = (await relay.demoDevices()).find((device) => device.clinicId === 'clinic-3');
    if (!demoBox) throw new Error('the demo region has no box at clinic-3');
    const refusals: Error[] = [];
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: demoBox.deviceId,
      secret: demoBox.secret,
      reconnect: { minMs: 100, maxMs: 300 },
    });
    box.on('error', (error: Error) => refusals.push(error));
    boxes.push(box);
    await box.start();

    // ---- the county cannot go while its clinics are in use --------------------------------
    await page.locator('[data-testid=admin-nav-facilities]').click();
    const treeItem = (id: string) =>
      page.locator(`[data-testid=facility-tree] li[data-facility-id="${id}"] > button`);
    await treeItem('county-1').click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('button[data-action=disable]').click();
    const stateAlert = page.locator('[data-testid=facility-state] ~ [role=alert]');
    await stateAlert.waitFor();
    // Two reasons: clinic 1's case from the first test is open, and its clinics are in use.
    const [openCases, inUse] = (await stateAlert.innerText()).split('\n');
    expect(openCases).toBe(
      '南山区人民医院（county-1）还有 1 例未完成的病例。请先签发、退回或上转这些病例，再停用。',
    );
    expect(inUse).toMatch(/^南山区人民医院（county-1）之下的.+仍在使用。/);
    const countyRefusal = inUse ?? '';
    for (const clinic of ['clinic-1', 'clinic-2', 'clinic-3']) {
      expect(countyRefusal).toContain(`（${clinic}）`);
    }
    // The open case keeps clinic 1 too.
    await treeItem('clinic-1').click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('button[data-action=disable]').click();
    await expect(stateAlert.innerText()).resolves.toBe(
      '石桥镇卫生院（clinic-1）还有 1 例未完成的病例。请先签发、退回或上转这些病例，再停用。',
    );

    // ---- clinic 3 disabled: signed out, box off the broker --------------------------------
    await treeItem('clinic-3').click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('button[data-action=disable]').click();
    await page.locator('[data-testid=facility-state][data-disabled=true]').waitFor();
    await page
      .locator('[data-testid=facility-tree] li[data-facility-id="clinic-3"][data-disabled=true]')
      .waitFor();
    await expect(treeItem('clinic-3').innerText()).resolves.toContain('已停用');
    // The nurse's console is back at the sign-in form, saying the session ended.
    await nurse.locator('form.login-form [role=alert]:not([hidden])').waitFor({ timeout: 15_000 });
    await waitFor(() => refusals.some((error) => error instanceof ConnectionRefusedError), {
      timeoutMs: 20_000,
      what: "the disabled clinic's box refused at its reconnect",
    });
    await box.stop();
    const signIn = () =>
      fetch(`${relay.httpUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'clinic3.staff', password: DEMO_PASSWORD }),
      });
    expect((await signIn()).status).toBe(401);
    await page.screenshot({ path: join(artifacts, 'admin-facility-disabled.png') });

    // ---- enabled again: the nurse signs in --------------------------------------------------
    await page.locator('button[data-action=enable]').click();
    await page.locator('[data-testid=facility-state][data-disabled=false]').waitFor();
    expect((await signIn()).status).toBe(200);
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    for (const action of ['admin.facility.disable', 'admin.facility.enable']) {
      const audit = await admin.get<AuditPage>(`/api/admin/audit?action=${action}`);
      expect(audit.body.entries.map((entry) => entry.subject)).toEqual(['facility:clinic-3']);
    }
    const [disabling] = (
      await admin.get<AuditPage>('/api/admin/audit?action=admin.facility.disable')
    ).body.entries;
    expect(disabling?.detail).toMatchObject({ sessionsEnded: 1, boxesDisconnected: 1 });
    await nurseContext.close();
  });
});
