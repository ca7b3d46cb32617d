import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, CaseSummary, ImagingStudy } from '#contracts';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * A clinic's CT scanner sends to the relay as a modality does: DCMTK's echoscu and storescu
 * (Debian dcmtk) against the relay process's DICOM listener. The demo region gives clinic-1
 * the calling AE titles CLINIC1_CT and CLINIC1_DX; the relay is TELERELAY.
 */
const run = promisify(execFile);
interface ToolResult {
  ok: boolean;
  output: string;
}
const tool = (command: string, args: string[]): Promise<ToolResult> =>
  run(command, args).then(
    (r) => ({ ok: true, output: r.stdout + r.stderr }),
    (e: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: (e.stdout ?? '') + (e.stderr ?? ''),
    }),
  );

let relay: RelayProcess;
let dir: string;
let staff: ConsoleClient;
const SERIES_SIZE = 12;
const studyUid = syntheticUid();

const echoscu = (callingAe: string) =>
  tool('echoscu', [
    '-v',
    '-aet',
    callingAe,
    '-aec',
    'TELERELAY',
    '127.0.0.1',
    String(relay.dicomPort),
  ]);
const storescu = (callingAe: string, paths: string[]) =>
  tool('storescu', [
    '-v',
    '+sd', // a directory's files
    '-aet',
    callingAe,
    '-aec',
    'TELERELAY',
    '127.0.0.1',
    String(relay.dicomPort),
    ...paths,
  ]);
const successes = (result: ToolResult) =>
  result.output.match(/Received Store Response \(Success\)/g)?.length ?? 0;

beforeAll(async () => {
  relay = await RelayProcess.start();
  dir = await mkdtemp(join(tmpdir(), 'cstore-e2e-'));
  const series = syntheticUid();
  await mkdir(join(dir, 'series'));
  for (let n = 1; n <= SERIES_SIZE; n++) {
    const bytes = makeInstance({
      sopClass: 'CT',
      studyInstanceUid: studyUid,
      seriesInstanceUid: series,
      rows: 256,
      columns: 256,
      attributes: { InstanceNumber: n },
    });
    await writeFile(join(dir, 'series', `ct-${String(n).padStart(3, '0')}.dcm`), bytes);
  }
  staff = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
});

afterAll(async () => {
  await relay?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('C-STORE from a clinic CT scanner (DCMTK storescu) to the relay process', () => {
  it('answers C-ECHO from a calling AE title the clinic owns', async () => {
    const echo = await echoscu('CLINIC1_CT');
    expect(echo.ok, echo.output).toBe(true);
    expect(echo.output).toMatch(/Received Echo Response \(Success\)/);
  });

  it('stores a CT series: one study of the clinic, every instance once', async () => {
    const sent = await storescu('CLINIC1_CT', [join(dir, 'series')]);
    expect(sent.ok, sent.output).toBe(true);
    expect(successes(sent)).toBe(SERIES_SIZE);
    const studies = await staff.get<ImagingStudy[]>('/api/imaging/studies');
    const study = studies.body.find((s) => s.studyInstanceUid === studyUid);
    expect(study).toMatchObject({ instanceCount: SERIES_SIZE, seriesCount: 1, modalities: ['CT'] });
  });

  it('answers success again when the scanner sends the series twice, and keeps it once', async () => {
    const again = await storescu('CLINIC1_CT', [join(dir, 'series')]);
    expect(successes(again)).toBe(SERIES_SIZE);
    const studies = await staff.get<ImagingStudy[]>('/api/imaging/studies');
    expect(studies.body.find((s) => s.studyInstanceUid === studyUid)?.instanceCount).toBe(
      SERIES_SIZE,
    );
  });

  it('rejects an AE title no clinic owns at association, and audits it', async () => {
    const refused = await echoscu('UNKNOWN_CT');
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/Association Rejected/);
    expect(refused.output).toMatch(/Calling AE Title Not Recognized/i);
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    await waitFor(
      async () => {
        const page = await admin.get<AuditPage>(
          '/api/admin/audit?actor=ae:UNKNOWN_CT&action=dicom.associate',
        );
        return page.body.entries.some((entry) => entry.outcome === 'denied');
      },
      { what: 'the refused association in the audit trail' },
    );
  });

  it('answers a malformed instance with a failure status, and the relay stays up', async () => {
    const malformed = join(dir, 'no-study-uid.dcm');
    await writeFile(
      malformed,
      makeInstance({
        sopClass: 'CT',
        rows: 32,
        columns: 32,
        attributes: { StudyInstanceUID: undefined },
      }),
    );
    const sent = await storescu('CLINIC1_CT', [malformed]);
    expect(successes(sent)).toBe(0);
    expect(sent.output).toMatch(/Received Store Response \((Error|Failure|Refused)/);
    const echo = await echoscu('CLINIC1_CT');
    expect(echo.ok).toBe(true);
    expect((await fetch(`${relay.httpUrl}/health`)).status).toBe(200);
  });

  it('makes the series one imaging case on the county worklist once the clinic marks it complete', async () => {
    const completed = await staff.post<ImagingStudy>(`/api/imaging/studies/${studyUid}/complete`, {
      priority: 'routine',
    });
    expect(completed.status).toBe(200);
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    let cases: CaseSummary[] = [];
    await waitFor(
      async () => {
        cases = (await reader.get<CaseSummary[]>('/api/worklist')).body.filter(
          (c) => c.study?.studyInstanceUid === studyUid,
        );
        return cases.length > 0;
      },
      { what: 'the imaging case on the county worklist' },
    );
    expect(cases).toHaveLength(1);
    expect(cases[0]?.study).toMatchObject({ instanceCount: SERIES_SIZE, modalities: ['CT'] });
  });
});
