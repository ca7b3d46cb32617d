import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { buildRecording } from '../../device-simulator/src/recording-builder.js';
import { ConsoleClient, nextEvent } from '../support/clients.js';
import { logEntries } from '../support/crash.js';
import { RawBox } from '../support/raw-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

const METRICS_TOKEN = randomBytes(24).toString('base64url');
const GRACE_MS = 8_000;

/** The exposition's samples by series, e.g. `telerelay_refusals_total{edge="rest",code="X"}`. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('operations: metrics, correlated logs and a graceful stop of the relay process', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start({
      METRICS_TOKEN,
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
    devices = await relay.demoDevices();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  async function scrape(token = METRICS_TOKEN): Promise<Map<string, number>> {
    const response = await fetch(`${relay.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parseExposition(await response.text());
  }

  const at = (samples: Map<string, number>, series: string) => samples.get(series) ?? 0;

  it('refuses /metrics without its token, and its counters follow a box recording and a reader signing', async () => {
    // Without the token, or with another, nothing is told; each refusal is counted.
    const anonymous = await fetch(`${relay.httpUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('telerelay_');
    const wrong = await fetch(`${relay.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
    });
    expect(wrong.status).toBe(401);

    const before = await scrape();
    expect(at(before, 'telerelay_refusals_total{edge="rest",code="UNAUTHENTICATED"}')).toBe(2);
    expect(at(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // A box of clinic 2 (county 1) records; the county reader sees it listed.
    const device = devices.find((candidate) => candidate.clinicId === 'clinic-2')!;
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const readerSocket = await reader.connectSocket();
    cleanups.push(async () => readerSocket.disconnect());
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    cleanups.push(() => box.stop());
    await box.start();
    const listed = nextEvent(readerSocket, 'worklist.case-added', (s) => s.clinicId === 'clinic-2');
    const recorded = await box.record({ durationSeconds: 4, seed: 72 });
    const caseId = recorded.caseId!;
    expect((await listed).id).toBe(caseId);

    const afterRecording = await scrape();
    const moved = (series: string) => at(afterRecording, series) - at(before, series);
    expect(moved('telerelay_ingest_recordings_opened_total')).toBe(1);
    expect(moved('telerelay_ingest_recordings_stored_total')).toBe(1);
    const chunks = moved('telerelay_ingest_chunks_stored_total');
    expect(chunks).toBeGreaterThan(0);
    expect(moved('telerelay_ingest_messages_received_total{channel="rec/chunk"}')).toBe(chunks);
    expect(moved('telerelay_stored_acks_sent_total')).toBeGreaterThan(0);
    // Every close is answered (the simulator may close again while its last acks are on the air).
    const closes = moved('telerelay_ingest_messages_received_total{channel="rec/close"}');
    expect(closes).toBeGreaterThanOrEqual(1);
    expect(moved('telerelay_ingest_reply_seconds_count{channel="rec/close"}')).toBe(closes);
    expect(at(afterRecording, 'telerelay_boxes_connected')).toBeGreaterThanOrEqual(1);
    expect(at(afterRecording, 'telerelay_sockets_connected')).toBeGreaterThanOrEqual(1);
    expect(moved('telerelay_queue_wait_seconds_count{queue="ecg-analysis"}')).toBe(1);
    expect(
      afterRecording.has('telerelay_queue_jobs{queue="clinic-delivery",state="waiting"}'),
    ).toBe(true);

    // The reader claims and signs, naming the request; the box, still connected, receives the
    // diagnosis and acknowledges it.
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const requestId = `e2e-sign-${randomUUID()}`;
    const signed = await fetch(`${relay.httpUrl}/api/cases/${caseId}/sign`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${reader.token}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ conclusion: 'Sinus rhythm.' }),
    });
    expect(signed.status).toBe(200);
    expect(signed.headers.get('x-request-id')).toBe(requestId);
    let afterSign = await scrape();
    await waitFor(
      async () => {
        afterSign = await scrape();
        return (
          at(afterSign, 'telerelay_delivery_lag_seconds_count{to="box",kind="diagnosis.signed"}') >
          at(before, 'telerelay_delivery_lag_seconds_count{to="box",kind="diagnosis.signed"}')
        );
      },
      { what: "the box's receipt of the diagnosis in /metrics" },
    );
    expect(
      at(afterSign, 'telerelay_queue_wait_seconds_count{queue="clinic-delivery"}') -
        at(before, 'telerelay_queue_wait_seconds_count{queue="clinic-delivery"}'),
    ).toBe(1);

    // One grep follows each cause: the recording id from the box's close to the analysis job
    // it queued, the sign request's id to the delivery job it queued.
    const stored = logEntries(relay, 'recording stored').find((e) => e['caseId'] === caseId);
    expect(stored?.['correlationId']).toBe(recorded.recordingId);
    await relay.waitForLog(
      (line) => line.includes('"ecg analysed"') && line.includes(caseId),
      0,
      30_000,
    );
    const analysed = logEntries(relay, 'ecg analysed').find((e) => e['caseId'] === caseId);
    expect(analysed?.['correlationId']).toBe(recorded.recordingId);
    await relay.waitForLog(
      (line) => line.includes('"delivered to the clinic"') && line.includes(caseId),
      0,
      30_000,
    );
    const delivered = logEntries(relay, 'delivered to the clinic').find(
      (e) => e['caseId'] === caseId,
    );
    expect(delivered?.['correlationId']).toBe(requestId);

    // A request id that could forge a log line is replaced, not echoed.
    const forged = await fetch(`${relay.httpUrl}/health`, {
      headers: { 'x-request-id': 'x"}\\n{"msg":"forged' },
    });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('on SIGTERM mid-recording, exits 0 within the grace and keeps everything the box was told was stored', async () => {
    const device = devices.find((candidate) => candidate.clinicId === 'clinic-5')!;
    const built = buildRecording({ durationSeconds: 10, seed: 402 });
    const recordingId = built.entry.open.recordingId;
    const frames = built.entry.frames;
    expect(frames.length).toBe(20);

    const raw = await RawBox.connect(relay.mqttUrl, device);
    cleanups.push(() => raw.kill());
    await raw.publish('rec/open', JSON.stringify(built.entry.open));
    await raw.ack(recordingId, (ack) => ack.storedThrough === -1);
    for (let sequence = 0; sequence < 8; sequence++) raw.send('rec/chunk', frames[sequence]!);
    await raw.ack(recordingId, (ack) => ack.storedThrough === 7);
    // More chunks on the air as the operator stops the relay.
    for (let sequence = 8; sequence < 14; sequence++) raw.send('rec/chunk', frames[sequence]!);
    const started = performance.now();
    const exit = await relay.stop();
    const tookMs = performance.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(GRACE_MS);
    expect(logEntries(relay, 'relay stopped').at(-1)).toMatchObject({ drained: true });
    // Everything the box heard "stored" before the connection closed.
    const told = Math.max(
      ...raw.replies.flatMap((reply) =>
        reply.channel === 'ack' && reply.body.recordingId === recordingId
          ? [reply.body.storedThrough]
          : [],
      ),
    );
    expect(told).toBeGreaterThanOrEqual(7);
    await raw.kill();

    // The relay comes back on its data directory; the box reopens and is told at least as much.
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });
    const again = await RawBox.connect(relay.mqttUrl, device);
    cleanups.push(() => again.kill());
    await again.publish('rec/open', JSON.stringify(built.entry.open));
    const resumed = await again.ack(recordingId);
    expect(resumed.storedThrough).toBeGreaterThanOrEqual(told);
    expect(resumed.missing).toEqual([]);
    // It sends what it was not told about, closes, and the recording is complete.
    for (let sequence = resumed.storedThrough + 1; sequence < frames.length; sequence++)
      again.send('rec/chunk', frames[sequence]!);
    await again.ack(recordingId, (ack) => ack.storedThrough === frames.length - 1);
    await again.publish('rec/close', JSON.stringify(built.entry.close));
    const complete = await again.ack(recordingId, (ack) => ack.complete);
    expect(complete.caseId).toMatch(/^[0-9a-f-]{36}$/);
    const staff = await ConsoleClient.login(relay.httpUrl, 'clinic5.staff');
    const worklist = await staff.get<CaseSummary[]>('/api/worklist');
    expect(worklist.body.filter((item) => item.recordingId === recordingId)).toHaveLength(1);
  });
});
