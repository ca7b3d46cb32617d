import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseEcg, CaseSummary } from '#contracts';
import { defaultWaveform, makeInstance, syntheticUid } from '#dicom/testing';
import { synthesizeEcg } from '#ecg';
import { ConsoleClient } from '../support/clients.js';
import { stowBody, type DicomJson } from '../support/dicomweb.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * A hospital ECG cart's 12-lead ECG, sent as a DICOM waveform, is read like a box's recording:
 * an ECG case on the county worklist, analysed, its leads served to the paper viewer.
 */

const SHARED_ECG = join(
  process.cwd(),
  '..',
  'shared',
  'data',
  'dicom',
  'pydicom',
  'waveform_ecg.dcm',
);

describe('DICOM ECG waveforms become ECG cases', () => {
  let relay: RelayProcess;
  let clinic: ConsoleClient;
  let reader: ConsoleClient;

  beforeAll(async () => {
    relay = await RelayProcess.start({
      DICOM_MIN_FREE_DISK_BYTES: '0',
      IMAGING_QUIET_SECONDS: '3600',
    });
    [clinic, reader] = await Promise.all([
      ConsoleClient.login(relay.httpUrl, 'clinic1.staff'),
      ConsoleClient.login(relay.httpUrl, 'county1.reader'),
    ]);
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  /** DCMTK's storescu as the ECG cart, with a calling AE title of clinic-1 (demo region). */
  async function storescu(file: Uint8Array): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ecg-cstore-'));
    try {
      await writeFile(join(dir, 'ecg.dcm'), file);
      const args = ['-v', '-aet', 'CLINIC1_CT', '-aec', 'TELERELAY', '127.0.0.1'];
      const result = await promisify(execFile)('storescu', [
        ...args,
        String(relay.dicomPort),
        join(dir, 'ecg.dcm'),
      ]).then(
        (r) => r.stdout + r.stderr,
        (e: { stdout?: string; stderr?: string }) => (e.stdout ?? '') + (e.stderr ?? ''),
      );
      return result;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function stow(file: Uint8Array) {
    const { body, contentType } = stowBody([file]);
    const response = await fetch(`${relay.httpUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinic.token}`, 'content-type': contentType },
      body: new Uint8Array(body),
    });
    return { status: response.status, json: (await response.json()) as DicomJson };
  }

  /** The analysed ECG case of the clinic that is not one of `known`, once it is on the worklist. */
  async function newAnalysedEcgCase(known: Set<string>): Promise<CaseDetail> {
    let found: CaseDetail | undefined;
    await waitFor(
      async () => {
        const worklist = (await reader.get<CaseSummary[]>('/api/worklist')).body;
        const listed = worklist.find(
          (c) => c.kind === 'ecg' && c.clinicId === 'clinic-1' && !known.has(c.id),
        );
        if (!listed) return false;
        found = (await reader.get<CaseDetail>(`/api/cases/${listed.id}`)).body;
        return found.analysis !== null && found.analysis !== undefined;
      },
      { what: 'an analysed ECG case of clinic-1 on the county worklist', timeoutMs: 60_000 },
    );
    known.add(found!.id);
    return found!;
  }

  const seen = new Set<string>();

  it('a generated 12-lead ECG stored by STOW-RS is analysed on the county worklist, its samples served as sent; a re-send makes no second case', async () => {
    const ecg = synthesizeEcg({ durationSeconds: 10, finding: 'normal', seed: 31 });
    const file = makeInstance({
      sopClass: 'ECG12',
      studyInstanceUid: syntheticUid(),
      waveform: { leads: ecg.leads, sampleRateHz: ecg.sampleRateHz, samples: ecg.samples },
    });
    const stored = await stow(file);
    expect(stored.status).toBe(200);

    const detail = await newAnalysedEcgCase(seen);
    expect(detail).toMatchObject({ kind: 'ecg', clinicId: 'clinic-1' });
    expect(detail.analysis?.measurements.heartRateBpm).toBeGreaterThan(60);
    expect(detail.analysis?.measurements.heartRateBpm).toBeLessThan(85);

    const served = await reader.get<CaseEcg>(`/api/cases/${detail.id}/ecg`);
    expect(served.status).toBe(200);
    expect(served.body.leads).toEqual(ecg.leads);
    expect(served.body.sampleRateHz).toBe(500);
    expect(served.body.samplesPerLead).toBe(ecg.samplesPerLead);
    const bytes = Buffer.from(served.body.samples, 'base64');
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    // The cart's default sensitivity (2.5 µV) is the synthesizer's step: the same numbers.
    expect(served.body.microvoltsPerLsb).toBeCloseTo(ecg.microvoltsPerLsb);
    expect(Array.from(samples)).toEqual(Array.from(ecg.samples));

    expect((await stow(file)).status).toBe(200);
    const worklist = (await reader.get<CaseSummary[]>('/api/worklist')).body;
    expect(worklist.filter((c) => c.kind === 'ecg' && c.clinicId === 'clinic-1')).toHaveLength(1);
    // The cart's study never became an imaging case.
    expect(worklist.filter((c) => c.kind === 'imaging')).toEqual([]);
  });

  it('a General ECG sent by storescu (C-STORE) becomes an analysed ECG case; one the relay cannot analyse is refused with 0xA900', async () => {
    const ecg = synthesizeEcg({ durationSeconds: 10, finding: 'normal', seed: 32 });
    const rhythm = makeInstance({
      sopClass: 'ECG',
      waveform: {
        leads: ['II', 'V1', 'V5'],
        sampleRateHz: ecg.sampleRateHz,
        samples: ecg.samples.filter((_, i) => [1, 6, 10].includes(i % 12)),
      },
    });
    const sent = await storescu(rhythm);
    expect(sent, sent).toMatch(/Received Store Response \(Success\)/);
    const detail = await newAnalysedEcgCase(seen);
    expect(detail.examKind).toBe('rhythm-strip');
    expect((await reader.get<CaseEcg>(`/api/cases/${detail.id}/ecg`)).body.leads).toEqual([
      'II',
      'V1',
      'V5',
    ]);

    const tooSlow = makeInstance({
      sopClass: 'ECG12',
      waveform: { ...defaultWaveform(), sampleRateHz: 10 },
    });
    const refused = await storescu(tooSlow);
    expect(refused).not.toMatch(/Received Store Response \(Success\)/);
    // DCMTK names status 0xA900 by its PS3.4 meaning.
    expect(refused).toMatch(/Received Store Response \(Error: DataSetDoesNotMatchSOPClass\)/i);
  });

  it('reads ../shared/data/dicom/pydicom/waveform_ecg.dcm: stored by STOW-RS, analysed as an ECG case', async (context) => {
    if (!existsSync(SHARED_ECG)) {
      context.skip(`${SHARED_ECG} is absent (the shared data folder is not on this machine)`);
    }
    const stored = await stow(new Uint8Array(await readFile(SHARED_ECG)));
    expect(stored.status).toBe(200);
    const detail = await newAnalysedEcgCase(seen);
    expect(detail.kind).toBe('ecg');
    expect(detail.analysis?.measurements.heartRateBpm).toBeGreaterThan(30);
    const served = (await reader.get<CaseEcg>(`/api/cases/${detail.id}/ecg`)).body;
    expect(served.leads).toEqual(
      expect.arrayContaining(['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V6']),
    );
  });
});
