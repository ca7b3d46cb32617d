/**
 * `npm run screenshots`: the console's main pages, in Chinese, as the README shows them.
 * Starts a relay of its own in demo mode (temp data directory, free ports), lets demo boxes
 * record a few ECGs and a reader sign one, then signs in as each user in Chromium
 * (playwright-core, /usr/bin/chromium or CHROMIUM_PATH) and saves PNGs in docs/screenshots/.
 * A page that is missing or not in Chinese is not saved: the script names it and exits 1.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { EcgFinding } from '#ecg';
import { SimulatedBox } from '../device-simulator/src/box.js';
import { waitForRelay } from './relay-runtime.js';

/** SCREENSHOTS_DIR writes them elsewhere, for a look before committing. */
const OUT_DIR = resolve(process.env['SCREENSHOTS_DIR'] ?? 'docs/screenshots');
/** The laptops the clinics and county hospitals have. */
const VIEWPORT = { width: 1366, height: 768 };
const CHINESE = /[\u3400-\u9fff]/;

interface Shot {
  file: string;
  username: string;
  /** Brings the page to what the picture shows; throws `Missing` when the page is not there. */
  prepare(page: Page): Promise<void>;
  fullPage?: boolean;
}

/** A page this build does not have (yet): reported, not an error of the script. */
class Missing extends Error {}

interface DemoDevice {
  deviceId: string;
  secret: string;
  clinicId: string;
}

interface Recorded {
  caseId: string;
  clinicId: string;
  finding: EcgFinding;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-screenshots-'));
  const password = randomBytes(12).toString('hex');
  const relay = spawn(process.execPath, ['dist/apps/relay/src/main.js'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: '0',
      MQTT_PORT: '0',
      DICOM_PORT: '0',
      HOST: '127.0.0.1',
      DEMO: 'true',
      DEMO_PASSWORD: password,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const boxes: SimulatedBox[] = [];
  let browser: Browser | undefined;
  try {
    const { httpPort, mqttPort } = await waitForRelay(relay, dataDir);
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const devices = (
      JSON.parse(await readFile(join(dataDir, 'demo-devices.json'), 'utf8')) as {
        devices: DemoDevice[];
      }
    ).devices;

    // ---- a morning's work: four ECGs from three clinics, one of them signed --------------
    const plan: { clinicId: string; index: number; finding: EcgFinding }[] = [
      { clinicId: 'clinic-1', index: 0, finding: 'normal' },
      { clinicId: 'clinic-2', index: 0, finding: 'anterior-stemi' },
      { clinicId: 'clinic-3', index: 0, finding: 'atrial-fibrillation' },
      { clinicId: 'clinic-1', index: 1, finding: 'sinus-bradycardia' },
    ];
    const recorded: Recorded[] = [];
    for (const [seed, { clinicId, index, finding }] of plan.entries()) {
      const device = devices.filter((candidate) => candidate.clinicId === clinicId)[index];
      if (!device) throw new Error(`the demo region has no box ${index} in ${clinicId}`);
      const box = new SimulatedBox({
        brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
        deviceId: device.deviceId,
        secret: device.secret,
      });
      boxes.push(box);
      await box.start();
      const sent = await box.record({ durationSeconds: 10, finding, seed: seed + 3 });
      if (!sent.caseId) throw new Error(`the relay opened no case for ${device.deviceId}`);
      recorded.push({ caseId: sent.caseId, clinicId, finding });
    }
    const normal = recorded.find((item) => item.finding === 'normal')!;
    const stemi = recorded.find((item) => item.finding === 'anterior-stemi')!;
    await signAsReader(baseUrl, password, normal.caseId);

    browser = await chromium.launch({
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    const shots: Shot[] = [
      {
        file: 'reader-worklist.png',
        username: 'county1.reader',
        async prepare(page) {
          await page.locator('[data-link-state="live"]').waitFor();
          await page.locator(`tr[data-case-id="${stemi.caseId}"]`).waitFor();
        },
      },
      {
        file: 'ecg-viewer.png',
        username: 'county1.reader',
        fullPage: true,
        async prepare(page) {
          await page.locator(`tr[data-case-id="${stemi.caseId}"] td.action button`).click();
          await page.locator('canvas.ecg-canvas[data-rendered="true"]').waitFor();
          await page.locator('#conclusion').fill('急性前壁 ST 段抬高型心肌梗死，请立即转诊。');
          await page.locator('#main h1').focus();
        },
      },
      {
        file: 'clinic-page.png',
        username: 'clinic1.staff',
        async prepare(page) {
          await page.locator('[data-link-state="live"]').waitFor();
          await page.locator(`tr[data-case-id="${normal.caseId}"] .conclusion`).waitFor();
        },
      },
      { file: 'supervision.png', username: 'health.authority', prepare: landingPage },
      { file: 'admin.png', username: 'admin', prepare: landingPage },
    ];

    await mkdir(OUT_DIR, { recursive: true });
    const notSaved: string[] = [];
    for (const shot of shots) {
      const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN' });
      try {
        const page = await context.newPage();
        await signIn(page, baseUrl, shot.username, password);
        if (await page.locator('[data-testid="nothing-to-read"]').count()) {
          throw new Missing(`${shot.username} still lands on "Nothing to read here"`);
        }
        await shot.prepare(page);
        await settle(page);
        const heading = (await page.locator('#main h1').first().textContent()) ?? '';
        const lang = await page.evaluate(() => document.documentElement.lang);
        if (lang !== 'zh-CN' || !CHINESE.test(heading)) {
          throw new Missing(`the page is not in Chinese (lang ${lang}, heading "${heading}")`);
        }
        await page.screenshot({ path: join(OUT_DIR, shot.file), fullPage: shot.fullPage });
        console.log(`saved ${join(OUT_DIR, shot.file)}`);
      } catch (failure) {
        if (!(failure instanceof Missing)) throw failure;
        notSaved.push(shot.file);
        console.error(`not saved: ${shot.file}: ${failure.message}`);
      } finally {
        await context.close();
      }
    }
    if (notSaved.length > 0) {
      console.error(
        `${notSaved.length} screenshot(s) not saved; run again on a build with those pages.`,
      );
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(boxes.map((box) => box.stop()));
    await browser?.close();
    if (relay.exitCode === null) {
      const exited = new Promise((done) => relay.once('exit', done));
      relay.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The role's own landing page: the supervision dashboard, the admin pages. */
async function landingPage(page: Page): Promise<void> {
  await page.locator('#main h1').first().waitFor();
}

async function signIn(page: Page, baseUrl: string, username: string, password: string) {
  await page.goto(baseUrl);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form.login-form button[type="submit"]').click();
  await page.locator('header.topbar').waitFor();
  await page.locator('#main h1').first().waitFor();
}

/** Fonts loaded, requests done, the live badge decided, charts drawn. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[data-link-state="connecting"]'));
  // The charts draw without animation (supervision-charts.ts), on the frame after setOption:
  // every chart has its canvas, then one more frame has been painted.
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>('[_echarts_instance_]')].every(
      (chart) => chart.querySelector('canvas') !== null,
    ),
  );
  await page.evaluate(
    () =>
      new Promise<void>((painted) =>
        requestAnimationFrame(() => requestAnimationFrame(() => painted())),
      ),
  );
}

/** county1.reader claims and signs the case through the REST API, in Chinese. */
async function signAsReader(baseUrl: string, password: string, caseId: string): Promise<void> {
  const call = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { accessToken?: string };
  };
  const { accessToken } = await call('/api/auth/login', { username: 'county1.reader', password });
  const cases = `/api/cases/${encodeURIComponent(caseId)}`;
  await call(`${cases}/claim`, {}, accessToken);
  await call(
    `${cases}/sign`,
    { conclusion: '窦性心律，正常心电图。', findings: ['窦性心律'] },
    accessToken,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `screenshots failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
