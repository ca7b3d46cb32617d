import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, type CaseSummary, type LiveSamples, type WatchResult } from '#contracts';
import { encodeChunkFrame, synthesizeEcg } from '#ecg';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

const RATE = 250;
const FRAME_SAMPLES = 10; // 40 ms at 250 Hz
const LEADS = ['I', 'II', 'V5'];

/** A box in monitoring mode, driven by hand: 3 leads at 250 Hz, one frame per 40 ms. */
async function streamingBox(relay: RelayProcess, device: DemoDevice) {
  const client: MqttClient = await mqtt.connectAsync(relay.mqttUrl, {
    clientId: device.deviceId,
    username: device.deviceId,
    password: device.secret,
    reconnectPeriod: 0,
  });
  const streamId = crypto.randomUUID();
  const ecg = synthesizeEcg({ durationSeconds: 30, sampleRateHz: RATE, seed: 41 });
  const picks = LEADS.map((lead) => ecg.leads.indexOf(lead));
  await client.publishAsync(
    deviceTopic(device.deviceId, 'stream/open'),
    JSON.stringify({
      streamId,
      leads: LEADS,
      sampleRateHz: RATE,
      microvoltsPerLsb: ecg.microvoltsPerLsb,
      startedAt: new Date().toISOString(),
    }),
    { qos: 1 },
  );
  let sequence = 0;
  const sendFrame = () => {
    const first = sequence * FRAME_SAMPLES;
    const samples = new Int16Array(FRAME_SAMPLES * LEADS.length);
    for (let i = 0; i < FRAME_SAMPLES; i += 1) {
      picks.forEach(
        (lead, j) =>
          (samples[i * LEADS.length + j] = ecg.samples[(first + i) * ecg.leads.length + lead] ?? 0),
      );
    }
    const frame = encodeChunkFrame({
      recordingId: streamId,
      sequence,
      firstSample: first,
      sampleCount: FRAME_SAMPLES,
      leadCount: LEADS.length,
      samples,
    });
    client.publish(deviceTopic(device.deviceId, 'stream/frame'), frame, { qos: 0 });
    sequence += 1;
  };
  const timer = setInterval(sendFrame, 40);
  return {
    streamId,
    get sent() {
      return sequence;
    },
    async stop() {
      clearInterval(timer);
      await client.publishAsync(
        deviceTopic(device.deviceId, 'stream/close'),
        JSON.stringify({ streamId }),
        { qos: 1 },
      );
      await client.endAsync();
    },
  };
}

function watch(socket: ConsoleSocket, deviceId: string): Promise<WatchResult> {
  return new Promise((resolve) => socket.emit('stream.watch', { deviceId }, resolve));
}

describe('live monitoring streams', () => {
  let relay: RelayProcess;
  let device: DemoDevice;
  let box: Awaited<ReturnType<typeof streamingBox>>;
  const sockets: ConsoleSocket[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    device = (await relay.demoDevices()).find((candidate) => candidate.clinicId === 'clinic-1')!;
    box = await streamingBox(relay, device);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await box?.stop();
    await relay?.dispose();
  });

  it('delivers the samples to a reader of the county in near real time, in order', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const socket = await reader.connectSocket();
    sockets.push(socket);
    const result = await watch(socket, device.deviceId);
    expect(result).toMatchObject({
      ok: true,
      stream: { streamId: box.streamId, leads: LEADS, sampleRateHz: RATE },
    });

    const received: LiveSamples[] = [];
    socket.on('stream.samples', (samples) => received.push(samples));
    await nextEvent(socket, 'stream.samples', () => received.length >= 25, 10_000);
    const firsts = received.map((frame) => frame.firstSample);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(received.every((frame) => frame.samples.length === FRAME_SAMPLES * LEADS.length)).toBe(
      true,
    );
    // 25 frames of 40 ms: about a second of ECG arrived about a second after asking.
    expect(firsts.at(-1)! - firsts[0]!).toBeGreaterThanOrEqual(24 * FRAME_SAMPLES);
  });

  it('refuses watchers outside the box’s clinic and county', async () => {
    for (const username of ['county2.reader', 'clinic2.staff']) {
      const other = await ConsoleClient.login(relay.httpUrl, username);
      const socket = await other.connectSocket();
      sockets.push(socket);
      expect(await watch(socket, device.deviceId)).toEqual({ ok: false, error: 'No such device' });
    }
  });

  it('turns the last seconds of the stream into a stored rhythm strip and a case', async () => {
    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    // Wait until at least 4 s have streamed.
    while (box.sent < 100) await new Promise((resolve) => setTimeout(resolve, 100));
    const stored = await clinic.post<{ caseId: string; recordingId: string; seconds: number }>(
      `/api/devices/${device.deviceId}/stream/snapshot`,
      { seconds: 4 },
    );
    expect(stored.status).toBe(201);
    expect(stored.body.seconds).toBeGreaterThanOrEqual(2);
    const summary = (await clinic.get<CaseSummary>(`/api/cases/${stored.body.caseId}`)).body;
    expect(summary).toMatchObject({
      examKind: 'rhythm-strip',
      recordingId: stored.body.recordingId,
      clinicId: 'clinic-1',
    });

    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const ecg = (
      await reader.get<{ leads: string[]; sampleRateHz: number }>(
        `/api/cases/${stored.body.caseId}/ecg`,
      )
    ).body;
    expect(ecg).toMatchObject({ leads: LEADS, sampleRateHz: RATE });

    const outsider = await ConsoleClient.login(relay.httpUrl, 'clinic2.staff');
    expect(
      (await outsider.post(`/api/devices/${device.deviceId}/stream/snapshot`, { seconds: 4 }))
        .status,
    ).toBe(404);
  });
});
