import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';

/** Kept after the run (CI collects test-results/): what the clinic and the reader saw. */
const ARTIFACTS = join('test-results', 'ecg-upload');

/** A Mortara cart's 12-lead DICOM ECG with its own measurements and statements. */
const DICOM_ECG = join(
  process.cwd(),
  '..',
  'shared',
  'data',
  'ecg-other',
  'dicom-waveform',
  'waveform_ecg.dcm',
);
const SCP_ECG = join(
  process.cwd(),
  '..',
  'shared',
  'data',
  'ecg-other',
  'scp-ecg',
  'ecgtoolkit-Example.scp',
);

describe.skipIf(!existsSync(DICOM_ECG))(
  `ECG files in a real browser (needs ${DICOM_ECG}; skipped when ../shared/data is absent): the clinic uploads a hospital cart's ECG, a county reader opens its case and sees the cart's measurements beside the relay's`,
  () => {
    let relay: RelayProcess;
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      await mkdir(ARTIFACTS, { recursive: true });
      relay = await RelayProcess.start({ DICOM_MIN_FREE_DISK_BYTES: '0' });
      browser = await launchChromium();
    });

    afterAll(async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      await relay?.dispose();
    });

    async function signIn(username: string): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${username}: ${error.message}`));
      await page.goto(relay.httpUrl);
      await page.locator('#username').fill(username);
      await page.locator('#password').fill(DEMO_PASSWORD);
      await page.locator('[data-testid=sign-in]').click();
      await page.locator('[data-link-state="live"]').waitFor();
      await page.locator('.counts[data-loaded="true"]').waitFor();
      return page;
    }

    it('uploads the files on the ECG upload page, the case reaches the county worklist, and the reader compares the two columns', async () => {
      const files = [
        {
          name: 'waveform_ecg.dcm',
          mimeType: 'application/dicom',
          buffer: await readFile(DICOM_ECG),
        },
        ...(existsSync(SCP_ECG)
          ? [{ name: 'example.scp', mimeType: '', buffer: await readFile(SCP_ECG) }]
          : []),
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an ECG, notes\n') },
      ];

      // ---- the clinic uploads a cart's DICOM ECG, an SCP-ECG file and a stray file -----------
      const clinic = await signIn('clinic1.staff');
      await clinic.locator('a[href="#/ecg-upload"]').click();
      await clinic.getByRole('heading', { name: '上传心电文件' }).waitFor();
      await clinic.locator('#ecg-files').setInputFiles(files);
      const dicomCard = clinic.locator('.ecg-file-card[data-file="waveform_ecg.dcm"]');
      const strayCard = clinic.locator('.ecg-file-card[data-file="notes.txt"]');
      await dicomCard.and(clinic.locator('[data-state="created"]')).waitFor({ timeout: 60_000 });
      await strayCard.and(clinic.locator('[data-state="refused"]')).waitFor({ timeout: 30_000 });
      expect(await dicomCard.locator('.upload-counts').innerText()).toBe(
        'DICOM · 12 个导联 · 1000 Hz',
      );
      expect(
        await dicomCard
          .locator('progress')
          .evaluate((bar) => (bar as HTMLProgressElement).position),
      ).toBe(1);
      // The refusal in plain words: what it means, then the relay's own reason.
      expect(await strayCard.getAttribute('data-status')).toBe('415');
      expect(await strayCard.locator('[data-testid=refusal]').innerText()).toMatch(
        /^不是平台能读取的心电文件.*（.+）$/,
      );
      if (files.length === 3) {
        await clinic
          .locator('.ecg-file-card[data-file="example.scp"][data-state="created"]')
          .waitFor({ timeout: 30_000 });
      }
      const caseId = (await dicomCard.getAttribute('data-case-id'))!;
      expect(await dicomCard.getByRole('link', { name: '查看病例' }).getAttribute('href')).toBe(
        `#/case/${caseId}`,
      );
      await clinic.screenshot({ path: join(ARTIFACTS, 'clinic-upload.png'), fullPage: true });

      // The same file again: the same case, said so.
      await clinic.locator('#ecg-files').setInputFiles([files[0]!]);
      const again = clinic.locator('.ecg-file-card[data-state="already-received"]');
      await again.waitFor({ timeout: 30_000 });
      expect(await again.getAttribute('data-case-id')).toBe(caseId);

      // ---- a county 1 reader claims it once analysed and opens it ------------------------------
      const reader = await signIn('county1.reader');
      const row = reader.locator(`tr[data-case-id="${caseId}"][data-status="awaiting_review"]`);
      await row.waitFor({ timeout: 60_000 });
      await row.locator('[data-testid=claim]').click();
      await reader.waitForFunction((id) => window.location.hash === `#/case/${id}`, caseId);
      // The paper viewer draws the cart's twelve leads, like a box's recording.
      const paper = reader.locator('.case-ecg canvas.ecg-canvas[data-rendered="true"]');
      await paper.waitFor({ timeout: 30_000 });
      expect(await paper.getAttribute('aria-label')).toMatch(/^12 导联心电图/);

      const table = reader.locator('[data-testid=device-measurements]');
      await table.waitFor({ timeout: 30_000 });
      expect(await table.locator('thead').innerText()).toMatch(/本平台自动测量\s+设备测量/);
      const value = (measure: string, column: 'relay' | 'device') =>
        table.locator(`tr[data-measure="${measure}"] td[data-column="${column}"]`).innerText();
      // The cart's figures as its file gives them (dcmdump): PR 161, QRS 75, QT 368, QTc 370.
      expect(await value('prMs', 'device')).toBe('161 ms');
      expect(await value('qrsMs', 'device')).toBe('75 ms');
      expect(await value('qtMs', 'device')).toBe('368 ms');
      expect(await value('qtcMs', 'device')).toBe('370 ms');
      expect(await value('qrsAxisDeg', 'device')).toBe('52 °');
      expect(await value('pAxisDeg', 'device')).toBe('74 °');
      // The relay's own analysis in the column beside: a heart rate near the cart's 61/min.
      const relayRate = Number((await value('heartRateBpm', 'relay')).split(' ')[0]);
      expect(relayRate).toBeGreaterThan(50);
      expect(relayRate).toBeLessThan(75);
      expect(await value('heartRateBpm', 'device')).toBe('61 次/分');
      expect(await reader.locator('[data-testid=device-statements] li').allInnerTexts()).toEqual([
        'RITMO SINUSALE',
        'ECG NORMALE',
      ]);
      await reader.screenshot({ path: join(ARTIFACTS, 'reader-case.png'), fullPage: true });

      // English one click away: the column is labelled "Device".
      await reader.locator('[data-testid=language-switch]').click();
      await table.locator('thead', { hasText: 'Device' }).waitFor({ timeout: 10_000 });

      expect(pageErrors).toEqual([]);
    }, 240_000);
  },
);
