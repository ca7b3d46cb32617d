import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary, ImagingStudy } from '#contracts';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { ConsoleClient } from '../support/clients.js';
import { multipartParts, stowBody, type DicomJson } from '../support/dicomweb.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * DICOMweb against the relay as its own process: a clinic stores a CT series and a chest
 * film by STOW-RS, finds them by QIDO-RS, reads them back by WADO-RS; another clinic and
 * the other county see nothing; the study becomes one case on its county's worklist.
 */

const MAX_INSTANCE_BYTES = 1024 * 1024;
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const BAD_DIR = join(process.cwd(), '..', 'shared', 'data', 'dicom-bad');
const ORTHANC = '/usr/sbin/Orthanc';
const ORTHANC_DICOMWEB = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

const seq = (json: DicomJson, tag: string) => (json[tag]?.Value ?? []) as DicomJson[];
const first = (json: DicomJson | undefined, tag: string) => json?.[tag]?.Value?.[0];

describe('DICOMweb: STOW-RS, QIDO-RS, WADO-RS and the imaging case', () => {
  let relay: RelayProcess;
  let clinic: ConsoleClient;
  let otherClinic: ConsoleClient;
  let reader: ConsoleClient;
  let otherReader: ConsoleClient;
  let admin: ConsoleClient;
  const ctStudy = syntheticUid();
  const ctSeries = syntheticUid();
  const crStudy = syntheticUid();
  const ctFiles = Array.from({ length: 5 }, (_, i) =>
    makeInstance({
      sopClass: 'CT',
      studyInstanceUid: ctStudy,
      seriesInstanceUid: ctSeries,
      rows: 64,
      columns: 64,
      patientId: 'E2E-CT-1',
      studyDate: '20261201',
      accessionNumber: 'ACC-E2E-CT',
      attributes: { InstanceNumber: i + 1 },
    }),
  );
  const crFile = makeInstance({
    sopClass: 'CR',
    studyInstanceUid: crStudy,
    rows: 128,
    columns: 96,
    patientId: 'E2E-CR-1',
    studyDate: '20261203',
  });

  beforeAll(async () => {
    relay = await RelayProcess.start({
      DICOM_MAX_INSTANCE_BYTES: String(MAX_INSTANCE_BYTES),
      DICOM_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES),
      DICOM_MIN_FREE_DISK_BYTES: '0',
      // Cases here are made by "complete"; the quiet time is the medium test's.
      IMAGING_QUIET_SECONDS: '3600',
    });
    const login = (name: string) => ConsoleClient.login(relay.httpUrl, name);
    [clinic, otherClinic, reader, otherReader, admin] = await Promise.all([
      login('clinic1.staff'),
      login('clinic4.staff'),
      login('county1.reader'),
      login('county2.reader'),
      login('admin'),
    ]);
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  async function stow(
    client: ConsoleClient,
    files: Uint8Array[],
    path = '/dicomweb/studies',
    partType?: string,
  ) {
    const { body, contentType } = stowBody(files, partType);
    const response = await fetch(`${relay.httpUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': contentType },
      body: new Uint8Array(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      json: (text ? JSON.parse(text) : {}) as DicomJson,
    };
  }

  async function get(client: ConsoleClient, path: string, accept?: string) {
    const response = await fetch(`${relay.httpUrl}${path}`, {
      headers: { authorization: `Bearer ${client.token}`, ...(accept ? { accept } : {}) },
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  }
  const json = <T = DicomJson[]>(answer: { bytes: Buffer }) =>
    JSON.parse(answer.bytes.toString()) as T;

  it('stores a CT series and a chest film in one STOW-RS request: 200, every instance referenced with its RetrieveURL', async () => {
    const answer = await stow(clinic, [...ctFiles, crFile]);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^application\/dicom\+json/);
    const referenced = seq(answer.json, '00081199');
    expect(referenced).toHaveLength(6);
    expect(answer.json['00081198']).toBeUndefined();
    for (const item of referenced) {
      expect(String(first(item, '00081190'))).toMatch(
        new RegExp(`^${relay.httpUrl}/dicomweb/studies/[0-9.]+/series/[0-9.]+/instances/[0-9.]+$`),
      );
    }
    // The same request again: already stored, still a success.
    expect((await stow(clinic, [crFile])).status).toBe(200);
  });

  it('answers 202 when some instances fail, 409 when none is stored, with a FailureReason and the reason in words', async () => {
    const conflicting = makeInstance({
      sopClass: 'CR',
      studyInstanceUid: crStudy,
      sopInstanceUid: first(
        seq((await stow(clinic, [crFile])).json, '00081199')[0],
        '00081155',
      ) as string,
      rows: 32,
      columns: 32,
    });
    const fresh = makeInstance({
      sopClass: 'CR',
      studyInstanceUid: crStudy,
      rows: 16,
      columns: 16,
    });
    const some = await stow(clinic, [fresh, conflicting]);
    expect(some.status).toBe(202);
    expect(seq(some.json, '00081199')).toHaveLength(1);
    const [failure] = seq(some.json, '00081198');
    expect(first(failure, '00081197')).toBe(0x0111);
    expect(String(first(failure, '0040A160'))).toMatch(/already stored/);

    const none = await stow(clinic, [new TextEncoder().encode('not a DICOM file at all')]);
    expect(none.status).toBe(409);
    expect(String(first(seq(none.json, '00081198')[0], '0040A160'))).toMatch(/DICM|DICOM/);

    // An instance of another study than the URL names is not stored there.
    const elsewhere = await stow(clinic, [fresh], `/dicomweb/studies/${ctStudy}`);
    expect(elsewhere.status).toBe(409);
    expect(first(seq(elsewhere.json, '00081198')[0], '00081197')).toBe(0xa900);

    // One part over DICOM_MAX_INSTANCE_BYTES fails alone; the part after it is stored.
    const large = makeInstance({ sopClass: 'CT', rows: 1024, columns: 1024 });
    expect(large.byteLength).toBeGreaterThan(MAX_INSTANCE_BYTES);
    const small = makeInstance({ sopClass: 'CT', rows: 16, columns: 16 });
    const mixed = await stow(clinic, [large, small]);
    expect(mixed.status).toBe(202);
    expect(first(seq(mixed.json, '00081198')[0], '00081197')).toBe(0xa700);
    expect(seq(mixed.json, '00081199')).toHaveLength(1);
  });

  it('refuses a wrong media type with 415 and a request declared larger than DICOM_MAX_REQUEST_BYTES with 413, before reading it', async () => {
    const json = await fetch(`${relay.httpUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinic.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    // Declares 1 GB and sends nothing: the answer comes from the headers alone.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${relay.httpUrl}/dicomweb/studies`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${clinic.token}`,
          'content-type': 'multipart/related; type="application/dicom"; boundary=x',
          'content-length': String(1024 ** 3),
        },
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
  });

  it('a request cut off mid-part stores the whole parts before it and nothing of the cut one, and leaves no scratch file', async () => {
    const studyUid = syntheticUid();
    const [whole, cut] = [0, 1].map(() =>
      makeInstance({ sopClass: 'CT', studyInstanceUid: studyUid, rows: 128, columns: 128 }),
    ) as [Uint8Array, Uint8Array];
    const { body, contentType } = stowBody([whole, cut]);
    const req = httpRequest(`${relay.httpUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${clinic.token}`,
        'content-type': contentType,
        'content-length': String(body.byteLength),
      },
    });
    req.on('error', () => undefined);
    // The first part, its closing boundary, and half of the second part; then the line drops.
    req.write(body.subarray(0, body.byteLength - Math.floor(cut.byteLength / 2)));
    const instancesOfStudy = async () => {
      const answer = await get(clinic, `/dicomweb/studies/${studyUid}/instances`);
      return answer.status === 200 ? json(answer).length : 0;
    };
    await waitFor(async () => (await instancesOfStudy()) === 1, { what: 'the whole part stored' });
    req.destroy();
    const scratch = join(relay.dataDir, 'blobs', 'scratch');
    await waitFor(async () => (await readdir(scratch)).length === 0, { what: 'scratch emptied' });
    expect(await instancesOfStudy()).toBe(1);
    expect((await fetch(`${relay.httpUrl}/health`)).status).toBe(200);
  });

  it('QIDO-RS finds the studies by PatientID, StudyDate range and ModalitiesInStudy, with counts, and their series and instances', async () => {
    const byModality = json(
      await get(clinic, '/dicomweb/studies?ModalitiesInStudy=CT&StudyDate=20261130-20261202'),
    );
    const ct = byModality.find((s) => first(s, '0020000D') === ctStudy);
    expect(ct).toBeDefined();
    expect(first(ct, '00201206')).toBe(1);
    expect(first(ct, '00201208')).toBe(5);
    expect(byModality.some((s) => first(s, '0020000D') === crStudy)).toBe(false);
    const byPatient = json(await get(clinic, '/dicomweb/studies?PatientID=E2E-CR-1'));
    expect(byPatient.map((s) => first(s, '0020000D'))).toEqual([crStudy]);
    const paged = json(await get(clinic, '/dicomweb/studies?limit=1&offset=0'));
    expect(paged).toHaveLength(1);
    const series = json(await get(clinic, `/dicomweb/studies/${ctStudy}/series`));
    expect(series.map((s) => first(s, '0020000E'))).toEqual([ctSeries]);
    expect(first(series[0], '00201209')).toBe(5);
    const instances = json(
      await get(
        clinic,
        `/dicomweb/studies/${ctStudy}/series/${ctSeries}/instances?includefield=all`,
      ),
    );
    expect(instances).toHaveLength(5);
    expect(first(instances[0], '00280010')).toBe(64);
  });

  it('WADO-RS: the instance byte for byte, metadata with a BulkDataURI for pixel data, frames as octets, a thumbnail as PNG', async () => {
    const crSeries = json(await get(clinic, `/dicomweb/studies/${crStudy}/series`));
    const retrieved = await get(clinic, `/dicomweb/studies/${crStudy}`);
    expect(retrieved.status).toBe(200);
    expect(retrieved.type).toMatch(/^multipart\/related; type="application\/dicom"/);
    const parts = multipartParts(retrieved.bytes, retrieved.type);
    expect(parts.some((p) => p.bytes.equals(Buffer.from(crFile)))).toBe(true);
    expect(crSeries.length).toBeGreaterThan(0);

    const metadata = json(
      await get(clinic, `/dicomweb/studies/${ctStudy}/series/${ctSeries}/metadata`),
    );
    expect(metadata).toHaveLength(5);
    const one = metadata[0]!;
    expect(first(one, '00280010')).toBe(64);
    expect(first(one, '00020010')).toBeDefined();
    const bulk = one['7FE00010']?.BulkDataURI;
    expect(bulk).toMatch(/\/frames\/1$/);
    const frames = await get(
      clinic,
      new URL(bulk!).pathname,
      'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    );
    expect(frames.status).toBe(200);
    expect(frames.type).toMatch(/^multipart\/related; type="application\/octet-stream"/);
    const [frame] = multipartParts(frames.bytes, frames.type);
    expect(frame?.bytes.byteLength).toBe(64 * 64 * 2);
    expect(new Set(frame!.bytes).size).toBeGreaterThan(1);

    const sop = first(one, '00080018') as string;
    const thumbnail = await get(
      clinic,
      `/dicomweb/studies/${ctStudy}/series/${ctSeries}/instances/${sop}/thumbnail`,
    );
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.type).toBe('image/png');
    expect(thumbnail.bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(
      (
        await get(
          clinic,
          `/dicomweb/studies/${ctStudy}/series/${ctSeries}/instances/${sop}/frames/9`,
        )
      ).status,
    ).toBe(404);
  });

  it('another clinic, the other county and the operators get nothing; the county reader sees the study once it is a case on its worklist', async () => {
    const path = `/dicomweb/studies/${ctStudy}/metadata`;
    expect((await get(otherClinic, path)).status).toBe(404);
    expect(json(await get(otherClinic, `/dicomweb/studies?StudyInstanceUID=${ctStudy}`))).toEqual(
      [],
    );
    expect((await get(reader, path)).status).toBe(404);
    expect((await get(admin, path)).status).toBe(403);
    const stranger = await otherClinic.post(`/api/imaging/studies/${ctStudy}/complete`, {});
    expect(stranger.status).toBe(404);

    const done = await clinic.post<ImagingStudy>(`/api/imaging/studies/${ctStudy}/complete`, {
      priority: 'urgent',
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: 'queued', instanceCount: 5, modalities: ['CT'] });
    let listed: CaseSummary | undefined;
    await waitFor(
      async () => {
        const worklist = await reader.get<CaseSummary[]>('/api/worklist');
        listed = worklist.body.find((c) => c.id === done.body.caseId);
        return listed !== undefined;
      },
      { what: 'the imaging case on the county worklist' },
    );
    expect(listed).toMatchObject({
      kind: 'imaging',
      examKind: 'imaging:CT',
      priority: 'urgent',
      status: 'awaiting_review',
      study: { studyInstanceUid: ctStudy, instanceCount: 5, seriesCount: 1, modalities: ['CT'] },
    });
    // Marked complete twice: still one case.
    const again = await clinic.post<ImagingStudy>(`/api/imaging/studies/${ctStudy}/complete`, {});
    expect(again.body.caseId).toBe(done.body.caseId);
    expect((await get(reader, path)).status).toBe(200);
    expect((await get(otherReader, path)).status).toBe(404);
    const mine = await clinic.get<ImagingStudy[]>('/api/imaging/studies');
    expect(mine.body.find((s) => s.studyInstanceUid === ctStudy)?.caseId).toBe(done.body.caseId);
    expect((await otherClinic.get<ImagingStudy[]>('/api/imaging/studies')).body).toEqual([]);
  });

  it.skipIf(!existsSync(BAD_DIR))(
    'reads ../shared/data/dicom-bad: every malformed file is refused with a reason, and the relay stays up',
    async () => {
      const files: string[] = [];
      const walk = async (dir: string) => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) await walk(path);
          else if (entry.name.endsWith('.dcm')) files.push(path);
        }
      };
      await walk(BAD_DIR);
      expect(files.length).toBeGreaterThan(0);
      const stored: string[] = [];
      for (const file of files) {
        const answer = await stow(clinic, [await readFile(file)]);
        const [failure] = seq(answer.json, '00081198');
        const refused = answer.status === 409 && String(first(failure, '0040A160') ?? '') !== '';
        if (!refused) {
          stored.push(`${file.slice(BAD_DIR.length)}: ${answer.status}`);
        }
      }
      expect(stored).toEqual([]);
      expect((await fetch(`${relay.httpUrl}/health`)).status).toBe(200);
    },
  );

  it("Orthanc's DICOMweb plugin, a client that is not ours, stores to the relay and queries it", async () => {
    expect(
      existsSync(ORTHANC) && existsSync(ORTHANC_DICOMWEB),
      'Debian orthanc and orthanc-dicomweb (.ci/run installs them)',
    ).toBe(true);
    const orthanc = await startOrthanc(relay.httpUrl, clinic.token);
    try {
      const studyUid = syntheticUid();
      const upload = await fetch(`${orthanc.url}/instances`, {
        method: 'POST',
        body: new Uint8Array(
          makeInstance({
            sopClass: 'CT',
            studyInstanceUid: studyUid,
            rows: 32,
            columns: 32,
            // Orthanc refuses an instance without PatientID.
            patientId: 'ORTHANC-1',
          }),
        ),
      });
      expect(upload.status).toBe(200);
      const { ID } = (await upload.json()) as { ID: string };
      const sent = await fetch(`${orthanc.url}/dicom-web/servers/relay/stow`, {
        method: 'POST',
        body: JSON.stringify({ Resources: [ID] }),
      });
      expect(sent.status).toBe(200);
      const found = await fetch(`${orthanc.url}/dicom-web/servers/relay/get`, {
        method: 'POST',
        // Orthanc takes the query keys apart from the path.
        body: JSON.stringify({ Uri: '/studies', Arguments: { StudyInstanceUID: studyUid } }),
      });
      expect(found.status).toBe(200);
      const studies = (await found.json()) as DicomJson[];
      expect(studies.map((s) => first(s, '0020000D'))).toEqual([studyUid]);
    } finally {
      await orthanc.stop();
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Orthanc with its own temporary storage and the relay as a DICOMweb server (docs/imaging.md). */
async function startOrthanc(relayUrl: string, token: string) {
  const dir = await mkdtemp(join(tmpdir(), 'telerelay-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const config = {
    Name: 'e2e',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    Plugins: [ORTHANC_DICOMWEB],
    DicomWeb: {
      Enable: true,
      Servers: {
        relay: { Url: `${relayUrl}/dicomweb/`, HttpHeaders: { Authorization: `Bearer ${token}` } },
      },
    },
  };
  await writeFile(join(dir, 'orthanc.json'), JSON.stringify(config));
  const child: ChildProcess = spawn(ORTHANC, [join(dir, 'orthanc.json')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitFor(async () => (await fetch(`${url}/system`).catch(() => undefined))?.ok === true, {
    timeoutMs: 30_000,
    what: 'Orthanc listening',
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
