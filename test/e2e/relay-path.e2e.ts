import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceTopic,
  type CaseEcg,
  type CaseSummary,
  type DeviceDiagnosis,
  type DeviceError,
  type Diagnosis,
  type StoredAck,
} from '#contracts';
import { encodeChunkFrame } from '#ecg';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

describe('one ECG travels the whole way: box → relay → county reader → clinic and box', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  let county1: ConsoleClient;
  let county2: ConsoleClient;
  let clinic1: ConsoleClient;
  const sockets: ConsoleSocket[] = [];
  const boxes: SimulatedBox[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
    [county1, county2, clinic1] = await Promise.all([
      ConsoleClient.login(relay.httpUrl, 'county1.reader'),
      ConsoleClient.login(relay.httpUrl, 'county2.reader'),
      ConsoleClient.login(relay.httpUrl, 'clinic1.staff'),
    ]);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(boxes.map((box) => box.stop()));
    await relay?.dispose();
  });

  function boxOf(clinicId: string): SimulatedBox {
    const device = devices.find((candidate) => candidate.clinicId === clinicId);
    if (!device) throw new Error(`no demo box in ${clinicId}`);
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    boxes.push(box);
    return box;
  }

  it('stores the recording byte for byte, queues it for county 1, and brings the diagnosis back', async () => {
    const readerSocket = await county1.connectSocket();
    const clinicSocket = await clinic1.connectSocket();
    const otherCountySocket = await county2.connectSocket();
    sockets.push(readerSocket, clinicSocket, otherCountySocket);
    let leakedToOtherCounty = false;
    otherCountySocket.on('worklist.case-added', () => {
      leakedToOtherCounty = true;
    });

    const box = boxOf('clinic-1');
    await box.start();
    const caseAdded = nextEvent(readerSocket, 'worklist.case-added');
    // The box publishes a 10 s, 12-lead, 500 Hz recording and waits for the relay's own
    // "complete" acknowledgement (not the broker's PUBACK).
    const sent = await box.record({ durationSeconds: 10, finding: 'normal', seed: 7 });
    expect(sent.caseId).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await caseAdded;
    expect(listed).toMatchObject({
      id: sent.caseId,
      clinicId: 'clinic-1',
      hospitalId: 'county-1',
      status: 'awaiting_review',
    });

    // Byte-identical: the blob the relay stored hashes to what the box computed before sending.
    const blob = await readFile(
      join(relay.dataDir, 'blobs', sent.sha256.slice(0, 2), sent.sha256.slice(2, 4), sent.sha256),
    );
    expect(createHash('sha256').update(blob).digest('hex')).toBe(sent.sha256);
    expect(blob.byteLength).toBe(10 * 500 * 12 * 2);

    const ecg = await county1.get<CaseEcg>(`/api/cases/${sent.caseId}/ecg`);
    expect(ecg.body).toMatchObject({
      recordingId: sent.recordingId,
      sampleRateHz: 500,
      samplesPerLead: 5000,
    });
    expect(ecg.body.leads).toHaveLength(12);
    expect(createHash('sha256').update(Buffer.from(ecg.body.samples, 'base64')).digest('hex')).toBe(
      sent.sha256,
    );
    expect((await county2.get(`/api/cases/${sent.caseId}/ecg`)).status).toBe(404);

    const worklist = await county1.get<CaseSummary[]>('/api/worklist');
    expect(worklist.body.map((item) => item.id)).toContain(sent.caseId);

    // A reader of the other county neither sees nor claims the case.
    expect(
      (await county2.get<CaseSummary[]>('/api/worklist')).body.map((item) => item.id),
    ).not.toContain(sent.caseId);
    expect((await county2.get(`/api/cases/${sent.caseId}`)).status).toBe(404);
    expect((await county2.post(`/api/cases/${sent.caseId}/claim`)).status).toBe(404);
    // Clinic staff may look at their case but not claim it.
    expect((await clinic1.get<CaseSummary>(`/api/cases/${sent.caseId}`)).body.id).toBe(sent.caseId);
    expect((await clinic1.post(`/api/cases/${sent.caseId}/claim`)).status).toBe(403);

    const claimed = await county1.post<CaseSummary>(`/api/cases/${sent.caseId}/claim`);
    expect(claimed.status).toBe(200);
    expect(claimed.body.status).toBe('in_review');
    expect((await county1.post(`/api/cases/${sent.caseId}/claim`)).status).toBe(409);

    const toClinic = nextEvent(
      clinicSocket,
      'diagnosis.signed',
      (delivery) => delivery.diagnosis.caseId === sent.caseId,
    );
    const toBox = new Promise<DeviceDiagnosis>((resolve) => box.once('diagnosis', resolve));
    const signed = await county1.post<Diagnosis>(`/api/cases/${sent.caseId}/sign`, {
      conclusion: 'Sinus rhythm, 72/min. Normal ECG.',
      findings: ['sinus rhythm'],
    });
    expect(signed.status).toBe(200);

    const delivered = await toClinic;
    expect(delivered.diagnosis).toMatchObject({
      caseId: sent.caseId,
      conclusion: 'Sinus rhythm, 72/min. Normal ECG.',
      signedByName: '李明',
    });
    expect(delivered.eventId).toBeTruthy();
    const onBox = await toBox;
    expect(onBox).toMatchObject({
      caseId: sent.caseId,
      recordingId: sent.recordingId,
      conclusion: 'Sinus rhythm, 72/min. Normal ECG.',
    });
    expect(leakedToOtherCounty).toBe(false);
  });

  it('creates no second case when the box sends the same recording again', async () => {
    const box = boxOf('clinic-2');
    await box.start();
    const first = await box.record({ durationSeconds: 2, seed: 11 });
    const device = devices.find((candidate) => candidate.deviceId === box.deviceId)!;
    await box.stop();
    // Replay the close of the stored recording from a raw client, as a box would after a reboot.
    const raw = await mqtt.connectAsync(relay.mqttUrl, {
      clientId: `${device.deviceId}`,
      username: device.deviceId,
      password: device.secret,
      reconnectPeriod: 0,
    });
    await raw.subscribeAsync(deviceTopic(device.deviceId, 'ack'), { qos: 1 });
    const ack = new Promise<StoredAck>((resolve) =>
      raw.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()) as StoredAck)),
    );
    await raw.publishAsync(
      deviceTopic(device.deviceId, 'rec/close'),
      JSON.stringify({
        recordingId: first.recordingId,
        chunkCount: 4,
        samplesPerLead: 1000,
        sha256: first.sha256,
      }),
      { qos: 1 },
    );
    expect(await ack).toMatchObject({
      recordingId: first.recordingId,
      complete: true,
      caseId: first.caseId,
    });
    await raw.endAsync();
    const clinic2 = await ConsoleClient.login(relay.httpUrl, 'clinic2.staff');
    const cases = (await clinic2.get<CaseSummary[]>('/api/worklist')).body;
    expect(cases.filter((item) => item.recordingId === first.recordingId)).toHaveLength(1);
  });

  it('refuses a wrong device secret at CONNECT', async () => {
    const device = devices[0]!;
    const attempt = mqtt.connectAsync(relay.mqttUrl, {
      clientId: device.deviceId,
      username: device.deviceId,
      password: 'not-the-secret',
      reconnectPeriod: 0,
    });
    await expect(attempt).rejects.toMatchObject({ code: 4 });
  });

  it('rejects a chunk with a bad checksum with a reason to the box, and counts it', async () => {
    const device = devices[5]!;
    const raw = await mqtt.connectAsync(relay.mqttUrl, {
      clientId: device.deviceId,
      username: device.deviceId,
      password: device.secret,
      reconnectPeriod: 0,
    });
    await raw.subscribeAsync(
      [deviceTopic(device.deviceId, 'ack'), deviceTopic(device.deviceId, 'error')],
      { qos: 1 },
    );
    const replies: { topic: string; body: unknown }[] = [];
    const waitFor = (channel: string) =>
      new Promise<unknown>((resolve) => {
        const check = () => {
          const found = replies.find((reply) => reply.topic.endsWith(`/${channel}`));
          if (found) {
            replies.splice(replies.indexOf(found), 1);
            resolve(found.body);
          } else setTimeout(check, 20);
        };
        check();
      });
    raw.on('message', (topic, payload) =>
      replies.push({ topic, body: JSON.parse(payload.toString()) }),
    );

    const recordingId = crypto.randomUUID();
    await raw.publishAsync(
      deviceTopic(device.deviceId, 'rec/open'),
      JSON.stringify({
        recordingId,
        examKind: 'resting-12-lead',
        leads: ['I', 'II'],
        sampleRateHz: 500,
        microvoltsPerLsb: 2.5,
        startedAt: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    expect(await waitFor('ack')).toMatchObject({ recordingId, storedThrough: -1 });

    const frame = encodeChunkFrame({
      recordingId,
      sequence: 0,
      firstSample: 0,
      sampleCount: 10,
      leadCount: 2,
      samples: new Int16Array(20).fill(100),
    });
    frame[40] = (frame[40] ?? 0) ^ 0xff;
    await raw.publishAsync(deviceTopic(device.deviceId, 'rec/chunk'), frame, { qos: 1 });
    const error = (await waitFor('error')) as DeviceError;
    expect(error).toMatchObject({ code: 'CRC_MISMATCH', retryable: true });

    // A malformed open is refused too, and the relay keeps serving.
    await raw.publishAsync(deviceTopic(device.deviceId, 'rec/open'), '{"recordingId": 42}', {
      qos: 1,
    });
    expect(await waitFor('error')).toMatchObject({ code: 'INVALID_MESSAGE', retryable: false });
    await raw.endAsync();

    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const health = (
      await admin.get<{ status: string; ingest: { rejected: Record<string, number> } }>(
        '/health/details',
      )
    ).body;
    expect(health.status).toBe('up');
    expect(health.ingest.rejected['CRC_MISMATCH']).toBeGreaterThanOrEqual(1);
    expect(health.ingest.rejected['INVALID_MESSAGE']).toBeGreaterThanOrEqual(1);
  });
});
