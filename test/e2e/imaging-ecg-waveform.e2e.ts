import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseEcg, CaseSummary } from '#contracts';
import { makeInstance, syntheticUid } from '#dicom/testing';
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
