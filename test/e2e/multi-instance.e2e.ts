import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CaseEcg,
  CaseSummary,
  DeviceDiagnosis,
  DeviceSummary,
  DiagnosisDelivery,
} from '#contracts';
import { frameSamplePayload } from '#ecg';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { buildRecording } from '../../device-simulator/src/recording-builder.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { logEntries, readBlob, sha256Hex } from '../support/crash.js';
import { freePort, HaProxy, haproxyInstalled } from '../support/haproxy.js';
import { relayDatabase } from '../support/relay-databases.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { RawBox } from '../support/raw-box.js';
import { TestRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';

/** Why this file cannot run here; CI has PostgreSQL (TEST_DATABASE_URL) and haproxy. */
const missing = !process.env['TEST_DATABASE_URL']
  ? 'TEST_DATABASE_URL is not set (several instances need PostgreSQL; .ci/run starts one)'
  : !haproxyInstalled()
    ? 'haproxy is not installed (apt-get install haproxy; .ci/run installs it)'
    : undefined;
if (missing) console.warn(`multi-instance e2e skipped: ${missing}`);

/**
 * The deployment of docs/scaling.md, small: HAProxy in front of two relays on one
 * PostgreSQL and one Redis. Boxes reach the relays through HAProxy's TCP frontend, where
 * instance A is the server and B its backup, so every box lands on A until A dies; HTTP
 * is balanced over both.
 */
function haproxyConfig(ports: {
  mqtt: number;
  http: number;
  a: RelayProcess;
  b: RelayProcess;
}): string {
  return `global
  maxconn 2000
defaults
  timeout connect 2s
  timeout client 10m
  timeout server 10m
  timeout check 1s
frontend mqtt
  mode tcp
  bind 127.0.0.1:${ports.mqtt}
  default_backend relays_mqtt
backend relays_mqtt
  mode tcp
  option redispatch
  retries 2
  server a 127.0.0.1:${ports.a.mqttPort} check inter 200ms fall 1 rise 2 send-proxy-v2
  server b 127.0.0.1:${ports.b.mqttPort} check inter 200ms fall 1 rise 2 backup send-proxy-v2
frontend http
  mode http
  bind 127.0.0.1:${ports.http}
  default_backend relays_http
backend relays_http
  mode http
  balance roundrobin
  option httpchk GET /health
  server a 127.0.0.1:${ports.a.httpPort} check inter 200ms fall 1 rise 2
  server b 127.0.0.1:${ports.b.httpPort} check inter 200ms fall 1 rise 2
`;
}

/** `clinic-2` → `clinic2.staff`, the demo seed's staff user of that clinic. */
function staffOf(clinicId: string): string {
  return `${clinicId.replace('-', '')}.staff`;
}

describe.skipIf(missing !== undefined)(
  'two relay instances behind HAProxy on one PostgreSQL and one Redis',
  () => {
    let redis: TestRedis;
    let database: Awaited<ReturnType<typeof relayDatabase>>;
    let shared: string;
    let a: RelayProcess;
    let b: RelayProcess;
    let proxy: HaProxy;
    let mqttUrl: string;
    let httpUrl: string;
    let devices: DemoDevice[];
    const boxes: SimulatedBox[] = [];
    const raws: RawBox[] = [];
    const sockets: ConsoleSocket[] = [];

    beforeAll(async () => {
      redis = await TestRedis.start();
      database = await relayDatabase('PostgreSQL');
      shared = await mkdtemp(join(tmpdir(), 'telerelay-e2e-shared-'));
      const env = {
        ...database.env,
        CLUSTER: 'true',
        REDIS_URL: redis.url,
        AUTH_SECRET: randomBytes(48).toString('base64url'),
        // The blob directory every instance shares (a network file system in a deployment).
        BLOB_DIR: join(shared, 'blobs'),
        // HAProxy names each box's address in a PROXY header (docs/operations.md).
        MQTT_PROXY_PROTOCOL: 'true',
      };
      // One after the other: the first seeds the demo region, the second finds it seeded and
      // keeps the boxes' secrets, which the first wrote to its data directory.
      // A runs no workers: every job (analysis, delivery, deadlines, leases) runs on B, so
      // what reaches A's boxes and sockets was published on B.
      a = await RelayProcess.start({ ...env, ROLES: 'broker,api' });
      b = await RelayProcess.create(env);
      await copyFile(join(a.dataDir, 'demo-devices.json'), join(b.dataDir, 'demo-devices.json'));
      await b.launch();
      devices = await a.demoDevices();
      const ports = { mqtt: await freePort(), http: await freePort() };
      proxy = await HaProxy.start(haproxyConfig({ ...ports, a, b }), [ports.mqtt, ports.http]);
      mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
      httpUrl = `http://127.0.0.1:${ports.http}`;
    });

    afterAll(async () => {
      for (const socket of sockets) socket.disconnect();
      for (const box of boxes) await box.stop().catch(() => undefined);
      for (const raw of raws) await raw.kill().catch(() => undefined);
      await proxy?.stop();
      await a?.dispose();
      await b?.dispose();
      await database?.drop();
      await redis?.dispose();
      if (shared) await rm(shared, { recursive: true, force: true });
    });

    function deviceOf(clinicId: string, index = 0): DemoDevice {
      const device = devices.filter((candidate) => candidate.clinicId === clinicId)[index];
      if (!device) throw new Error(`no demo box ${index} in ${clinicId}`);
      return device;
    }

    /** A box as the simulator runs it, reaching the relays through HAProxy. */
    async function startBox(device: DemoDevice): Promise<SimulatedBox> {
      const box = new SimulatedBox({
        brokerUrl: mqttUrl,
        deviceId: device.deviceId,
        secret: device.secret,
        ackTimeoutMs: 2_000,
        reconnect: { minMs: 100, maxMs: 500 },
        retry: { minMs: 100, maxMs: 500 },
      });
      boxes.push(box);
      const connected = new Promise<void>((resolve) => box.once('connected', resolve));
      await box.start();
      await connected;
      return box;
    }

    /**
     * Which instances logged the box's connection since `from` (a mark per instance), once
     * `expected` has: its log line may come after the box has its SUBACK.
     */
    async function connectedOn(
      deviceId: string,
      from: { a: number; b: number },
      expected: RelayProcess,
    ): Promise<string[]> {
      const connects = (line: string) =>
        line.includes('"device connected"') && line.includes(`"deviceId":"${deviceId}"`);
      await expected.waitForLog(connects, expected === a ? from.a : from.b);
      return [
        ...(a.logs.slice(from.a).some(connects) ? ['A'] : []),
        ...(b.logs.slice(from.b).some(connects) ? ['B'] : []),
      ];
    }

    /** How many times, on both instances together, the relay recorded the box's PUBACK. */
    function receipts(deviceId: string, caseId: string): number {
      return [a, b]
        .flatMap((relay) => logEntries(relay, 'box received'))
        .filter((entry) => entry['deviceId'] === deviceId && entry['caseId'] === caseId).length;
    }

    it("names a box's own address behind HAProxy: a wrong secret from 127.0.0.9 is refused as from there", async () => {
      const mark = a.logs.length;
      const { port } = new URL(mqttUrl);
      const forger = new MqttClient(
        () =>
          createConnection({ host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.9' }),
        {
          protocolVersion: 4,
          clientId: deviceOf('clinic-4').deviceId,
          username: deviceOf('clinic-4').deviceId,
          password: 'not-its-secret',
          reconnectPeriod: 0,
        },
      );
      forger.on('error', () => undefined);
      const refusal = await a.waitForLog(
        (line) =>
          line.includes('"device refused at CONNECT"') &&
          line.includes(`"deviceId":"${deviceOf('clinic-4').deviceId}"`),
        mark,
      );
      forger.end(true);
      expect(JSON.parse(refusal)).toMatchObject({ remoteAddress: '127.0.0.9' });
    });

    it('shows a box held by A as connected to an administrator on B, who disables it at once', async () => {
      const device = deviceOf('clinic-3');
      const mark = { a: a.logs.length, b: b.logs.length };
      const box = await startBox(device);
      expect(await connectedOn(device.deviceId, mark, a)).toEqual(['A']);
      // Refused reconnects are the point here, not a failure of the box.
      box.on('error', () => undefined);

      const admin = await ConsoleClient.login(b.httpUrl, 'admin');
      const listed = await admin.get<DeviceSummary[]>('/api/devices');
      expect(listed.body.find((summary) => summary.id === device.deviceId)?.online).toBe(true);

      const disabled = await admin.patch<DeviceSummary>(`/api/admin/devices/${device.deviceId}`, {
        disabled: true,
      });
      expect(disabled.status).toBe(200);
      // A closes the connection B was asked about, and refuses the box's reconnect.
      const disconnects = (line: string) =>
        line.includes('"device disconnected"') && line.includes(`"deviceId":"${device.deviceId}"`);
      await a.waitForLog(disconnects, mark.a);
      await a.waitForLog(
        (line) =>
          line.includes('"device refused at CONNECT"') &&
          line.includes(`"deviceId":"${device.deviceId}"`) &&
          line.includes('device disabled'),
        mark.a,
      );
      await box.stop();
      expect(
        (await admin.patch(`/api/admin/devices/${device.deviceId}`, { disabled: false })).status,
      ).toBe(200);
    });

    it('carries cases, claims and diagnoses across instances, and loses nothing when A is killed', async () => {
      const start = { a: 0, b: 0 };
      // Clinic 1 records with one box (X) and is cut mid-recording with the other (R);
      // clinic 2's box (Y) is owed a diagnosis across the kill. County 1 reads all three.
      const [x, r, y] = [deviceOf('clinic-1', 0), deviceOf('clinic-1', 1), deviceOf('clinic-2')];

      // Readers on B, clinics on both: clinic 1's staff on A, clinic 2's on B.
      const reader = await ConsoleClient.login(b.httpUrl, 'county1.reader');
      const readerSocket = await reader.connectSocket();
      sockets.push(readerSocket);
      const clinicDiagnoses = new Map<string, DiagnosisDelivery[]>([
        ['clinic-1', []],
        ['clinic-2', []],
      ]);
      for (const [clinicId, relay] of [
        ['clinic-1', a],
        ['clinic-2', b],
      ] as const) {
        const staff = await ConsoleClient.login(relay.httpUrl, staffOf(clinicId));
        sockets.push(
          await staff.connectSocketCollecting('diagnosis.signed', clinicDiagnoses.get(clinicId)!),
        );
      }

      // The boxes connect through HAProxy and land on A.
      const boxX = await startBox(x);
      const boxY = await startBox(y);
      const boxDiagnoses = new Map<string, DeviceDiagnosis[]>([
        [x.deviceId, []],
        [y.deviceId, []],
      ]);
      boxX.on('diagnosis', (diagnosis) => boxDiagnoses.get(x.deviceId)!.push(diagnosis));
      boxY.on('diagnosis', (diagnosis) => boxDiagnoses.get(y.deviceId)!.push(diagnosis));
      expect(await connectedOn(x.deviceId, start, a)).toEqual(['A']);
      expect(await connectedOn(y.deviceId, start, a)).toEqual(['A']);

      /** The box records on A; the reader's worklist on B lists it (Socket.IO via Redis). */
      async function recordAndList(box: SimulatedBox, clinicId: string, seed: number) {
        const listed = nextEvent(
          readerSocket,
          'worklist.case-added',
          (summary) => summary.clinicId === clinicId,
          30_000,
        );
        const recorded = await box.record({ durationSeconds: 4, seed });
        expect(recorded.caseId).not.toBeNull();
        expect((await listed).id).toBe(recorded.caseId);
        return recorded.caseId!;
      }
      const claim = async (caseId: string) =>
        expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
      const sign = async (caseId: string, conclusion: string) =>
        expect((await reader.post(`/api/cases/${caseId}/sign`, { conclusion })).status).toBe(200);

      // Before the kill: a case from each clinic, claimed and signed on B; each diagnosis
      // reaches its clinic's socket (on A for clinic 1, on B for clinic 2) and its box on A.
      const caseX = await recordAndList(boxX, 'clinic-1', 101);
      const caseY1 = await recordAndList(boxY, 'clinic-2', 102);
      for (const caseId of [caseX, caseY1]) {
        await claim(caseId);
        await sign(caseId, 'Sinus rhythm.');
      }
      await waitFor(
        () =>
          boxDiagnoses.get(x.deviceId)!.some((d) => d.caseId === caseX) &&
          boxDiagnoses.get(y.deviceId)!.some((d) => d.caseId === caseY1),
        { what: 'both boxes have their diagnosis' },
      );
      await waitFor(
        () =>
          clinicDiagnoses.get('clinic-1')!.some((d) => d.diagnosis.caseId === caseX) &&
          clinicDiagnoses.get('clinic-2')!.some((d) => d.diagnosis.caseId === caseY1),
        { what: 'both clinics have their diagnosis' },
      );
      // Each box's PUBACK was recorded by A, the instance holding its connection.
      await waitFor(() => receipts(x.deviceId, caseX) === 1 && receipts(y.deviceId, caseY1) === 1, {
        what: 'both PUBACKs recorded',
      });
      // Every job ran on B, the instance with the worker role.
      for (const msg of ['ecg analysed', 'delivered to the clinic']) {
        expect(logEntries(a, msg), `${msg} on A`).toEqual([]);
        expect(logEntries(b, msg).length, `${msg} on B`).toBeGreaterThanOrEqual(2);
      }
      const caseY2 = await recordAndList(boxY, 'clinic-2', 103);
      await claim(caseY2);

      // Box R, driven by hand, is in the middle of a recording when A dies: chunks 0..11
      // acknowledged as stored, 12..15 on the air.
      const built = buildRecording({ durationSeconds: 10, seed: 104 });
      const { open, close, frames } = built.entry;
      const rawOnA = await RawBox.connect(mqttUrl, r);
      raws.push(rawOnA);
      expect(await connectedOn(r.deviceId, start, a)).toEqual(['A']);
      await rawOnA.publish('rec/open', JSON.stringify(open));
      await rawOnA.ack(open.recordingId);
      for (let sequence = 0; sequence < 12; sequence++) rawOnA.send('rec/chunk', frames[sequence]!);
      const acknowledged = await rawOnA.ack(open.recordingId, (ack) => ack.storedThrough === 11);
      expect(acknowledged.missing).toEqual([]);
      for (let sequence = 12; sequence < 16; sequence++)
        rawOnA.send('rec/chunk', frames[sequence]!);

      // kill -9 of instance A. The reader signs Y's second case on B at once, while Y is
      // still finding its way to B: that diagnosis is owed to a box with no connection.
      const afterKill = { a: a.logs.length, b: b.logs.length };
      const killedAt = performance.now();
      await a.kill();
      await sign(caseY2, 'Atrial fibrillation.');
      await rawOnA.kill();

      // Every box comes back through HAProxy, now on B.
      await waitFor(() => boxX.connected && boxY.connected, {
        what: 'boxes X and Y connected again',
      });
      let rawOnB: RawBox | undefined;
      await waitFor(
        async () => {
          rawOnB = await RawBox.connect(mqttUrl, r).catch(() => undefined);
          return rawOnB !== undefined;
        },
        { what: 'box R connected again' },
      );
      raws.push(rawOnB!);
      console.info(
        `multi-instance: boxes X, Y and R connected to B through HAProxy ${Math.round(performance.now() - killedAt)} ms after kill -9 of A`,
      );
      for (const device of [x, y, r])
        expect(await connectedOn(device.deviceId, afterKill, b)).toEqual(['B']);

      // Nothing acknowledged is lost: B holds chunks 0..11; R sends only what B still
      // lacks and the recording completes as one case, byte for byte what R recorded.
      await rawOnB!.publish('rec/open', JSON.stringify(open));
      const resumed = await rawOnB!.ack(open.recordingId);
      expect(resumed.complete).toBe(false);
      expect(resumed.storedThrough).toBeGreaterThanOrEqual(11);
      const lacking = [
        ...resumed.missing,
        ...[...frames.keys()].filter((sequence) => sequence > resumed.storedThrough),
      ];
      expect(lacking.every((sequence) => sequence > 11)).toBe(true);
      for (const sequence of lacking) rawOnB!.send('rec/chunk', frames[sequence]!);
      await rawOnB!.ack(open.recordingId, (ack) => ack.storedThrough === frames.length - 1);
      await rawOnB!.publish('rec/close', JSON.stringify(close));
      const complete = await rawOnB!.ack(open.recordingId, (ack) => ack.complete);
      const expected = Buffer.concat(frames.map((frame) => frameSamplePayload(frame!)));
      const blob = await readBlob(shared, built.sha256);
      expect(sha256Hex(blob)).toBe(built.sha256);
      expect(blob.equals(expected)).toBe(true);
      const clinic1 = await ConsoleClient.login(httpUrl, 'clinic1.staff');
      const worklist = await clinic1.get<CaseSummary[]>('/api/worklist');
      expect(worklist.status).toBe(200);
      const casesOfR = worklist.body.filter((item) => item.recordingId === open.recordingId);
      expect(casesOfR.map((item) => item.id)).toEqual([complete.caseId]);
      const ecg = await clinic1.get<CaseEcg>(`/api/cases/${complete.caseId}/ecg`);
      expect(Buffer.from(ecg.body.samples, 'base64').equals(expected)).toBe(true);

      // The diagnosis owed across the kill reaches Y on B, and clinic 2's socket on B;
      // Y shows it once (it de-duplicates QoS 1 copies, docs/protocol.md) and the relay
      // records Y's PUBACK for it once. Nothing Y had before comes back as new.
      await waitFor(() => boxDiagnoses.get(y.deviceId)!.some((d) => d.caseId === caseY2), {
        what: "Y's owed diagnosis",
      });
      await waitFor(() => receipts(y.deviceId, caseY2) >= 1, { what: "Y's PUBACK recorded" });
      await waitFor(
        () => clinicDiagnoses.get('clinic-2')!.some((d) => d.diagnosis.caseId === caseY2),
        { what: "clinic 2's owed diagnosis" },
      );
      expect(boxDiagnoses.get(y.deviceId)!.map((d) => d.caseId)).toEqual([caseY1, caseY2]);
      expect(boxDiagnoses.get(x.deviceId)!.map((d) => d.caseId)).toEqual([caseX]);
      for (const [deviceId, caseId] of [
        [x.deviceId, caseX],
        [y.deviceId, caseY1],
        [y.deviceId, caseY2],
      ] as const) {
        expect(receipts(deviceId, caseId), `${deviceId} receipts of ${caseId}`).toBe(1);
      }

      // The region answers through HAProxy with A gone.
      const health = (await (await fetch(`${httpUrl}/health`)).json()) as { status: string };
      expect(health.status).toBe('up');
    });
  },
);
