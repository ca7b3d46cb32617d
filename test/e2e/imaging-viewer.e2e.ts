import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagingStudy } from '#contracts';
import { ACCEPTED_TRANSFER_SYNTAXES } from '#dicom';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { ConsoleClient } from '../support/clients.js';
import { stowBody } from '../support/dicomweb.js';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { launchChromium } from '../support/browser.js';

/** Kept after the run (CI collects test-results/): what the reader saw. */
const ARTIFACTS = join('test-results', 'imaging-viewer');

const DATA_DIR = join(process.cwd(), '..', 'shared', 'data', 'dicom');

/**
 * Public files of ../shared/data/dicom, of SOP classes the relay accepts (CT, MR, CR,
 * secondary capture), covering its transfer syntaxes. `sameAs`: the same image stored
 * losslessly in another syntax, which must look exactly like it on screen.
 */
const SYNTAX_FILES: { file: string; sameAs?: string }[] = [
  { file: 'dicomParser/CT1_UNC.explicit_little_endian.dcm' },
  {
    file: 'dicomParser/CT1_UNC.explicit_big_endian.dcm',
    sameAs: 'dicomParser/CT1_UNC.explicit_little_endian.dcm',
  },
  {
    file: 'dicomParser/CT1_UNC.implicit_little_endian.dcm',
    sameAs: 'dicomParser/CT1_UNC.explicit_little_endian.dcm',
  },
  {
    file: 'dicomParser/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm',
    sameAs: 'dicomParser/CT1_UNC.explicit_little_endian.dcm',
  },
  { file: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/MR_small_implicit.dcm', sameAs: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/MR_small_bigendian.dcm', sameAs: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/MR_small_RLE.dcm', sameAs: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/MR_small_jpeg_ls_lossless.dcm', sameAs: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/MR_small_jp2klossless.dcm', sameAs: 'pydicom/MR_small.dcm' },
  { file: 'pydicom/CT_small.dcm' },
  { file: 'dicomParser/image_dfl.dcm' },
  { file: 'pydicom/SC_rgb_rle_2frame.dcm' },
  { file: 'pydicom/SC_rgb_jpeg_dcmtk.dcm' },
  { file: 'pydicom/JPGExtended.dcm' },
  { file: 'pydicom-data/JPEG-LL.dcm' },
  { file: 'pydicom/JPEG2000.dcm' },
  { file: 'pydicom/JPEGLSNearLossless_08.dcm' },
  { file: 'pydicom-data/HTJ2KLossless_08_RGB.dcm' },
];

/**
 * Several of those files are one image saved in different syntaxes under the same UIDs, which
 * the relay rightly takes as one instance sent twice with different content. Each copy gets
 * UIDs of its own, in memory: the last two digits of each UID are replaced by the file's
 * number (same length, so every element length stays right). Deflated data sets are left as
 * they are (their UIDs are compressed, and already their own).
 */
function withOwnUids(bytes: Buffer, index: number): Buffer {
  const dataSet = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  if (dataSet.string('x00020010') === '1.2.840.10008.1.2.1.99') return bytes;
  let out = bytes;
  for (const tag of ['x00080018', 'x0020000d', 'x0020000e']) {
    const uid = dataSet.string(tag);
    if (!uid || uid.length < 4) continue;
    const fresh = `${uid.slice(0, -2)}${10 + index}`;
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = out.indexOf(uid); at !== -1; at = out.indexOf(uid, at + uid.length)) {
      parts.push(out.subarray(from, at), Buffer.from(fresh));
      from = at + uid.length;
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

const SLICES = 24;
const SIZE = 128;
const CONCLUSION = 'No focal lung lesion. Mediastinum normal.';

/**
 * A CT slice of a water-filled disc in air, with a bright "bone" ring whose radius grows with
 * the slice index, so that every slice shows something different. Stored values are
 * HU + 1024 (RescaleIntercept −1024, as the generator writes for CT).
 */
function ctSlice(index: number): Uint8Array {
  const pixels = new Uint16Array(SIZE * SIZE);
  const ring = 12 + index * 2;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const r = Math.hypot(x - SIZE / 2, y - SIZE / 2);
      const hu = r < 56 ? (Math.abs(r - ring) < 2.5 ? 1200 : (x + y) % 7) : -1000;
      pixels[y * SIZE + x] = hu + 1024;
    }
  }
  return new Uint8Array(pixels.buffer);
}

function ctSeries(): { name: string; buffer: Buffer }[] {
  const studyInstanceUid = syntheticUid();
  const seriesInstanceUid = syntheticUid();
  return Array.from({ length: SLICES }, (_, index) => ({
    // Shuffled names: the viewer orders by position, not by the order files arrive.
    name: `CT/IM${String((index * 7) % SLICES).padStart(4, '0')}-${index}.dcm`,
    buffer: Buffer.from(
      makeInstance({
        sopClass: 'CT',
        studyInstanceUid,
        seriesInstanceUid,
        rows: SIZE,
        columns: SIZE,
        pixelData: ctSlice(index),
        windowCenter: 40,
        windowWidth: 400,
        patientName: 'Imaging^Test',
        attributes: {
          StudyDescription: 'Chest CT',
          SeriesDescription: 'Axial 5 mm',
          InstanceNumber: index + 1,
          ImagePositionPatient: [-64, -64, index * 5],
          ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
          PixelSpacing: [0.7, 0.7],
          SliceThickness: 5,
        },
      }),
    ),
  }));
}

function chestXray(): { name: string; buffer: Buffer } {
  return {
    name: 'CR/chest.dcm',
    buffer: Buffer.from(
      makeInstance({
        sopClass: 'CR',
        rows: 256,
        columns: 256,
        attributes: { StudyDescription: 'Chest PA', BodyPartExamined: 'CHEST' },
      }),
    ),
  };
}

/**
 * Statistics of what a canvas shows, read in the page: grey mean and variance, and a coarse
 * 8 × 8 grid of mean values to tell two images apart. Drawn into a 2D copy first, so it works
 * whether cornerstone drew with WebGL or on the CPU.
 */
function canvasStats(viewport: Locator) {
  return viewport
    .locator('canvas')
    .first()
    .evaluate((element) => {
      const canvas = element as HTMLCanvasElement;
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const context = copy.getContext('2d')!;
      context.drawImage(canvas, 0, 0);
      const data = context.getImageData(0, 0, copy.width, copy.height).data;
      const grid = new Array<number>(64).fill(0);
      const counts = new Array<number>(64).fill(0);
      let sum = 0;
      let squares = 0;
      for (let y = 0; y < copy.height; y++) {
        for (let x = 0; x < copy.width; x++) {
          const grey = data[(y * copy.width + x) * 4]!;
          sum += grey;
          squares += grey * grey;
          const cell = Math.floor((y * 8) / copy.height) * 8 + Math.floor((x * 8) / copy.width);
          grid[cell]! += grey;
          counts[cell]!++;
        }
      }
      const n = copy.width * copy.height;
      return {
        width: copy.width,
        height: copy.height,
        mean: sum / n,
        variance: squares / n - (sum / n) ** 2,
        grid: grid.map((total, index) => total / Math.max(counts[index]!, 1)),
      };
    });
}

/** Largest difference between two grids of cell means (0–255). */
const gridDistance = (a: number[], b: number[]) =>
  Math.max(...a.map((value, index) => Math.abs(value - b[index]!)));

describe('imaging in a real browser: the clinic uploads a CT and an X-ray, a county reader reads the CT in the DICOM viewer and signs, the clinic sees it live', () => {
  let relay: RelayProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  /** The script files each page fetched, to show which pages load the viewer's chunk. */
  const scripts = new Map<Page, string[]>();

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // The case is made by the clinic's click, not by the quiet period.
    relay = await RelayProcess.start({ IMAGING_QUIET_SECONDS: '3600' });
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
    const fetched: string[] = [];
    scripts.set(page, fetched);
    page.on('request', (request) => {
      if (request.resourceType() === 'script') fetched.push(new URL(request.url()).pathname);
    });
    await page.goto(relay.httpUrl);
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('[data-testid=sign-in]').click();
    await page.locator('[data-link-state="live"]').waitFor();
    await page.locator('.counts[data-loaded="true"]').waitFor();
    await page.evaluate(
      () => ((window as unknown as { sameDocument: boolean }).sameDocument = true),
    );
    return page;
  }

  it('uploads through the upload page, shows the CT in the viewer, scrolls, windows, signs, and the diagnosis reaches the clinic', async () => {
    const ct = ctSeries();
    const cr = chestXray();
    const notDicom = { name: 'notes.txt', buffer: Buffer.from('not an image, just notes\n') };

    // ---- the clinic uploads a CT series, a chest X-ray and a stray file ------------------------
    const clinic = await signIn('clinic1.staff');
    // The page speaks Chinese by default (issue 14): controls are found by stable attributes,
    // and where words are checked they are the Chinese ones.
    await clinic.locator('a[href="#/upload"]').click();
    await clinic.getByRole('heading', { name: '上传影像' }).waitFor();
    // The cases page and the upload page never load the DICOM viewer's chunk.
    expect(scripts.get(clinic)!.filter((path) => path.includes('study-viewer'))).toEqual([]);
    await clinic.locator('#upload-files').setInputFiles(
      [...ct, cr, notDicom].map(({ name, buffer }) => ({
        name: name.split('/').pop()!,
        mimeType: 'application/dicom',
        buffer,
      })),
    );
    const ctCard = clinic.locator('.upload-card[data-study-uid]', { hasText: 'Chest CT' });
    const crCard = clinic.locator('.upload-card[data-study-uid]', { hasText: 'Chest PA' });
    const strayCard = clinic.locator('.upload-card[data-study-uid=""]');
    await ctCard.and(clinic.locator(`[data-stored="${SLICES}"]`)).waitFor({ timeout: 60_000 });
    await crCard.and(clinic.locator('[data-stored="1"]')).waitFor({ timeout: 30_000 });
    await strayCard.and(clinic.locator('[data-refused="1"]')).waitFor({ timeout: 30_000 });
    expect(await ctCard.getAttribute('data-refused')).toBe('0');
    expect(
      await ctCard.locator('progress').evaluate((bar) => (bar as HTMLProgressElement).position),
    ).toBe(1);
    expect(await ctCard.locator('.upload-counts').innerText()).toContain(
      `已发送 ${SLICES}/${SLICES} 个文件`,
    );
    // The refusal names the file and says why.
    const refusal = await strayCard.locator('.refusals li').innerText();
    expect(refusal).toMatch(/^notes\.txt：\S.+/);
    await clinic.screenshot({ path: join(ARTIFACTS, 'clinic-upload.png'), fullPage: true });

    // ---- the clinic's studies; the CT is marked complete as STAT, the X-ray as routine ---------
    const ctStudyUid = (await ctCard.getAttribute('data-study-uid'))!;
    const ctRow = clinic.locator(`tr[data-study-uid="${ctStudyUid}"]`);
    await ctRow.and(clinic.locator('[data-state="receiving"]')).waitFor();
    expect(await ctRow.innerText()).toContain(`${SLICES} 张（1 个序列）`);
    await ctRow.getByRole('combobox').selectOption('stat');
    await ctRow.getByRole('button', { name: /^标记完成/ }).click();
    await ctRow.and(clinic.locator('[data-state="queued"]')).waitFor({ timeout: 15_000 });
    const caseLink = ctRow.getByRole('link', { name: '查看病例' });
    const caseId = decodeURIComponent(
      (await caseLink.getAttribute('href'))!.replace('#/case/', ''),
    );
    const crRow = clinic.locator(
      `tr[data-study-uid="${(await crCard.getAttribute('data-study-uid'))!}"]`,
    );
    await crRow.getByRole('button', { name: /^标记完成/ }).click();
    await crRow.and(clinic.locator('[data-state="queued"]')).waitFor({ timeout: 15_000 });

    // The clinic goes back to its cases (no reload): the CT case is listed there.
    await clinic.locator('.upload-view a.back').click();
    const clinicCaseRow = clinic.locator(`tr[data-case-id="${caseId}"]`);
    await clinicCaseRow.waitFor({ timeout: 15_000 });
    expect(await clinicCaseRow.innerText()).toContain('CT');

    // ---- a county 1 reader claims it; the viewer shows the CT ---------------------------------
    const reader = await signIn('county1.reader');
    const row = reader.locator(`tr[data-case-id="${caseId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.innerText()).toContain('危急');
    await row.locator('[data-testid=claim]').click();
    await reader.waitForFunction((id) => window.location.hash === `#/case/${id}`, caseId);
    const viewport = reader.locator('.imaging-viewport');
    await reader.locator('.imaging-viewport[data-rendered="true"]').waitFor({ timeout: 60_000 });
    // The reader's worklist did not load it either; the imaging case did.
    expect(scripts.get(reader)!.filter((path) => path.includes('study-viewer'))).toHaveLength(1);
    await reader
      .locator('.imaging-progress', { hasText: `已加载 ${SLICES} 张图像` })
      .waitFor({ timeout: 60_000 });
    expect(await viewport.getAttribute('data-image-count')).toBe(String(SLICES));
    // The series' thumbnail came from the relay.
    const thumbnail = reader.locator('.imaging-series img:not([hidden])').first();
    await thumbnail.waitFor({ timeout: 15_000 });
    await reader.waitForFunction(
      () => (document.querySelector('.imaging-series img') as HTMLImageElement | null)?.complete,
    );
    expect(
      await thumbnail.evaluate((image) => (image as HTMLImageElement).naturalWidth),
    ).toBeGreaterThan(0);

    const first = await canvasStats(viewport);
    await reader.screenshot({ path: join(ARTIFACTS, 'reader-viewer.png') });
    await viewport.screenshot({ path: join(ARTIFACTS, 'reader-viewport.png') });
    // An image, not a blank canvas: black air, grey water and the bright ring.
    expect(first.width).toBeGreaterThan(200);
    expect(first.variance).toBeGreaterThan(200);

    // ---- scroll: keys, wheel and slider move through the series and the picture changes --------
    const index = async () => Number(await viewport.getAttribute('data-image-index'));
    const start = await index();
    await viewport.focus();
    await viewport.press('ArrowDown');
    await reader.waitForFunction(
      ([before]) =>
        document.querySelector('.imaging-viewport')?.getAttribute('data-image-index') !== before,
      [String(start)] as const,
    );
    expect(await index()).toBe(start + 1);
    await viewport.press('End');
    await reader.waitForFunction(
      ([count]) =>
        document.querySelector('.imaging-viewport')?.getAttribute('data-image-index') === count,
      [String(SLICES)] as const,
    );
    const last = await canvasStats(viewport);
    expect(gridDistance(first.grid, last.grid)).toBeGreaterThan(10);
    expect(last.variance).toBeGreaterThan(200);
    await viewport.screenshot({ path: join(ARTIFACTS, 'reader-viewport-last.png') });
    const box = (await viewport.boundingBox())!;
    await reader.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await reader.mouse.wheel(0, -300);
    await reader.waitForFunction(
      ([count]) =>
        document.querySelector('.imaging-viewport')?.getAttribute('data-image-index') !== count,
      [String(SLICES)] as const,
    );
    expect(await index()).toBeLessThan(SLICES);
    await reader.locator('.imaging-slider').fill('1');
    await reader.waitForFunction(
      () => document.querySelector('.imaging-viewport')?.getAttribute('data-image-index') === '1',
    );
    expect(await reader.locator('.imaging-index').innerText()).toBe(`第 1 / ${SLICES} 张`);

    // ---- window presets: the image's own window, then bone --------------------------------------
    expect(await reader.locator('.imaging-window').getAttribute('data-window')).toBe('400/40');
    const ownWindow = await canvasStats(viewport);
    // The presets carry the names radiologists use: 肺窗 / 纵隔窗 / 骨窗.
    expect(await reader.locator('.imaging-presets button').allInnerTexts()).toEqual([
      '原始窗',
      '肺窗',
      '纵隔窗',
      '骨窗',
    ]);
    await reader.locator('button[data-preset="bone"]').click();
    await reader.locator('.imaging-window[data-window="2000/500"]').waitFor();
    const bone = await canvasStats(viewport);
    // Water (0 HU) is mid-grey in a 400/40 window and near black in bone's 2000/500.
    expect(ownWindow.mean - bone.mean).toBeGreaterThan(8);
    await viewport.screenshot({ path: join(ARTIFACTS, 'reader-viewport-bone.png') });
    await reader.getByRole('button', { name: '肺窗' }).click();
    await reader.locator('.imaging-window[data-window="1500/-600"]').waitFor();

    // ---- measure a length across the image: in millimetres, from PixelSpacing 0.7 mm ----------
    // The water disc is 112 pixels (78.4 mm) across: where its edges are on screen gives the
    // scale, whatever zoom the viewer fitted the image with (lung window: water bright, air dark).
    const disc = await viewport
      .locator('canvas')
      .first()
      .evaluate((element) => {
        const canvas = element as HTMLCanvasElement;
        const copy = document.createElement('canvas');
        copy.width = canvas.width;
        copy.height = canvas.height;
        const context = copy.getContext('2d')!;
        context.drawImage(canvas, 0, 0);
        const row = context.getImageData(0, Math.floor(copy.height / 2), copy.width, 1).data;
        const bright: number[] = [];
        for (let x = 0; x < copy.width; x++) if (row[x * 4]! > 150) bright.push(x);
        const cssPerCanvasPixel = canvas.getBoundingClientRect().width / canvas.width;
        return (bright[bright.length - 1]! - bright[0]! + 1) * cssPerCanvasPixel;
      });
    await reader.getByRole('button', { name: '测距', exact: true }).click();
    const area = (await viewport.boundingBox())!;
    const from = { x: area.x + area.width * 0.3, y: area.y + area.height * 0.5 };
    const to = { x: area.x + area.width * 0.7, y: area.y + area.height * 0.5 };
    await reader.mouse.move(from.x, from.y);
    await reader.mouse.down();
    await reader.mouse.move(to.x, to.y, { steps: 10 });
    await reader.mouse.up();
    const label = viewport.locator('svg text', { hasText: /mm/ }).first();
    await label.waitFor();
    const expected = ((to.x - from.x) / disc) * 112 * 0.7;
    // The label follows the drag a frame later: read it until it settles.
    await expect
      .poll(async () => {
        const millimetres = Number(/([\d.]+)\s*mm/.exec((await label.textContent()) ?? '')?.[1]);
        return Math.abs(millimetres - expected) / expected;
      })
      .toBeLessThan(0.03);
    await viewport.screenshot({ path: join(ARTIFACTS, 'reader-viewport-length.png') });

    // ---- sign; the clinic's cases page shows the diagnosis without a reload --------------------
    await reader.getByLabel('诊断结论').fill(CONCLUSION);
    await reader.getByRole('button', { name: '签发诊断' }).click();
    await reader.locator('.panel .diagnosis .conclusion', { hasText: CONCLUSION }).waitFor();
    await clinicCaseRow
      .locator('.conclusion', { hasText: CONCLUSION })
      .waitFor({ timeout: 15_000 });
    expect(
      await clinic.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
    ).toBe(true);
    await clinic.screenshot({ path: join(ARTIFACTS, 'clinic-cases.png') });

    expect(pageErrors).toEqual([]);
  });

  it.skipIf(!existsSync(DATA_DIR))(
    'reads ../shared/data/dicom: an image of every transfer syntax there that the relay stores is decoded and shown in the browser',
    async () => {
      const clinicApi = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
      const shown: { file: string; sameAs?: string; syntax: string; caseId: string }[] = [];
      for (const [index, { file, sameAs }] of SYNTAX_FILES.entries()) {
        const path = join(DATA_DIR, file);
        if (!existsSync(path)) continue;
        const bytes = withOwnUids(await readFile(path), index);
        const dataSet = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
        const syntax = dataSet.string('x00020010')!;
        const { body, contentType } = stowBody([bytes]);
        const stored = await fetch(`${relay.httpUrl}/dicomweb/studies`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${clinicApi.token}`,
            'content-type': contentType,
            accept: 'application/dicom+json',
          },
          body: new Uint8Array(body),
        });
        // The relay's choice of what to take is tested with it; here, what it takes must show.
        if (stored.status !== 200) continue;
        const study = dataSet.string('x0020000d')!;
        const done = await clinicApi.post<ImagingStudy>(
          `/api/imaging/studies/${encodeURIComponent(study)}/complete`,
          {},
        );
        expect(done.status).toBe(200);
        shown.push({ file, sameAs, syntax, caseId: done.body.caseId! });
      }
      // Every accepted syntax this folder has an image of, and nothing the relay refuses.
      const syntaxes = new Set(shown.map((item) => item.syntax));
      expect([...syntaxes].every((uid) => uid in ACCEPTED_TRANSFER_SYNTAXES)).toBe(true);
      expect(syntaxes.size).toBeGreaterThanOrEqual(10);

      // The clinic opens each case: the viewer decodes the image (WASM codecs in the workers).
      const clinic = await signIn('clinic1.staff');
      const failures: string[] = [];
      const grids = new Map<string, number[]>();
      for (const item of shown) {
        await clinic.evaluate((hash) => (window.location.hash = hash), `#/case/${item.caseId}`);
        const viewport = clinic.locator('.imaging-viewport');
        try {
          await clinic
            .locator('.imaging-progress', { hasText: /已加载 \d+ 张图像/ })
            .waitFor({ timeout: 30_000 });
          await clinic.locator('.imaging-viewport[data-rendered="true"]').waitFor();
        } catch {
          failures.push(`${item.file} (${item.syntax}): not shown`);
          continue;
        }
        const progress = await clinic.locator('.imaging-progress').innerText();
        const stats = await canvasStats(viewport);
        const name = item.file.replace(/[/.]/g, '_');
        await viewport.screenshot({ path: join(ARTIFACTS, `syntax-${name}.png`) });
        if (progress.includes('无法解码') || stats.variance < 50) {
          failures.push(
            `${item.file} (${item.syntax}): ${progress}, variance ${stats.variance.toFixed(0)}`,
          );
        }
        grids.set(item.file, stats.grid);
        const reference = item.sameAs ? grids.get(item.sameAs) : undefined;
        if (reference && gridDistance(reference, stats.grid) > 2) {
          failures.push(
            `${item.file} (${item.syntax}) does not look like ${item.sameAs}: cells differ by up to ${gridDistance(reference, stats.grid).toFixed(0)} grey levels`,
          );
        }
      }
      const decoded = shown.map((item) => `${item.file} (${item.syntax})`).join(', ');
      expect(failures, `decoded in the browser: ${decoded}`).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
  );
});
