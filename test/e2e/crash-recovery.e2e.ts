import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { ErrorWithSubackPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceTopic,
  type CaseEcg,
  type CaseSummary,
  type DeviceError,
  type RecordingOpen,
  type StoredAck,
} from '#contracts';
import { encodeChunkFrame, frameSamplePayload } from '#ecg';
import {
  SimulatedBox,
  type ResumedEvent,
  type StoredEvent,
} from '../../device-simulator/src/box.js';
import { FileOutboxStore } from '../../device-simulator/src/file-outbox.js';
import {
  buildRecording,
  type BuiltRecording,
} from '../../device-simulator/src/recording-builder.js';
import { ConsoleClient } from '../support/clients.js';
import {
  crashRelay,
  logEntries,
  readBlob,
  relaunchOnSamePorts,
  sha256Hex,
} from '../support/crash.js';
import { RawBox } from '../support/raw-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The samples exactly as the box sent them: every frame's payload, in sequence order. */
function sampleBytes(built: BuiltRecording): Buffer {
  return Buffer.concat(built.entry.frames.map((frame) => frameSamplePayload(frame!)));
}

/** `clinic-3` → `clinic3.staff`, the demo seed's staff user of that clinic. */
function staffOf(clinicId: string): string {
  return `${clinicId.replace('-', '')}.staff`;
}

/** Deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('crash recovery and hostile input against the relay process', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  async function flashDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-e2e-flash-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  function box(device: DemoDevice, store?: FileOutboxStore): SimulatedBox {
    const created = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
      ackTimeoutMs: 2_000,
      reconnect: { minMs: 100, maxMs: 1_000 },
      retry: { minMs: 100, maxMs: 1_000 },
      ...(store && { store }),
    });
    cleanups.push(() => created.stop());
    return created;
  }

  async function rawBox(device: DemoDevice): Promise<RawBox> {
    const raw = await RawBox.connect(relay.mqttUrl, device);
    cleanups.push(() => raw.kill());
    return raw;
  }

  /** Signs in (again after a relay restart: tokens may not survive it). */
  function staffClient(clinicId: string): Promise<ConsoleClient> {
    return ConsoleClient.login(relay.httpUrl, staffOf(clinicId));
  }

  /** The clinic's cases for the recording, as its staff sees them. */
  async function casesOf(
    clinicId: string,
    recordingId: string,
    staff?: ConsoleClient,
  ): Promise<CaseSummary[]> {
    staff ??= await staffClient(clinicId);
    const worklist = await staff.get<CaseSummary[]>('/api/worklist');
    expect(worklist.status).toBe(200);
    return worklist.body.filter((item) => item.recordingId === recordingId);
  }

  /** The stored blob and the ECG the API serves are the box's samples, byte for byte. */
  async function expectStoredExactly(
    built: BuiltRecording,
    caseId: string,
    clinicId: string,
  ): Promise<void> {
    const expected = sampleBytes(built);
    expect(sha256Hex(expected)).toBe(built.sha256);
    const blob = await readBlob(relay.dataDir, built.sha256);
    expect(blob.byteLength).toBe(built.entry.close.samplesPerLead * 12 * 2);
    expect(sha256Hex(blob)).toBe(built.sha256);
    expect(blob.equals(expected)).toBe(true);
    const staff = await staffClient(clinicId);
    const ecg = await staff.get<CaseEcg>(`/api/cases/${caseId}/ecg`);
    expect(ecg.status).toBe(200);
    expect(ecg.body.recordingId).toBe(built.entry.open.recordingId);
    expect(ecg.body.samplesPerLead).toBe(built.entry.close.samplesPerLead);
    expect(Buffer.from(ecg.body.samples, 'base64').equals(expected)).toBe(true);
  }

  describe.each([
    { crash: 'the relay process', redisToo: false },
    { crash: 'the relay and its Redis together (power cut)', redisToo: true },
  ])('kill -9 of $crash mid-recording', ({ redisToo }) => {
    it('loses nothing acknowledged: the box resumes, every recording gets exactly one case', async () => {
      const device = devices[redisToo ? 1 : 0]!;
      const dir = await flashDir();
      const flash = new FileOutboxStore(dir);

      // Before the crash, one recording goes through completely with the simulator's box.
      const before = box(device, flash);
      await before.start();
      const done = await before.record({ durationSeconds: 2, seed: redisToo ? 11 : 10 });
      expect(done.caseId).toMatch(UUID);
      await before.stop();

      // The box's firmware, played by hand for exact timing. Recording A: its open and
      // chunks 0..11 are acknowledged as stored; chunks 12..15 are on the air at the crash.
      const a = buildRecording({ durationSeconds: 10, seed: redisToo ? 21 : 20 });
      // Recording B: open, every chunk and the close all on the air at the crash.
      const b = buildRecording({ durationSeconds: 4, seed: redisToo ? 31 : 30 });
      await flash.add(a.entry);
      await flash.add(b.entry);
      const aId = a.entry.open.recordingId;
      const bId = b.entry.open.recordingId;
      expect(a.entry.close.chunkCount).toBe(20);

      const raw = await rawBox(device);
      await raw.publish('rec/open', JSON.stringify(a.entry.open));
      expect(await raw.ack(aId)).toMatchObject({ storedThrough: -1, complete: false });
      for (let sequence = 0; sequence < 12; sequence++)
        raw.send('rec/chunk', a.entry.frames[sequence]!);
      const acked = await raw.ack(aId, (ack) => ack.storedThrough === 11);
      expect(acked.missing).toEqual([]);
      // The box writes the relay's acknowledgement to its flash and may free those chunks.
      await flash.acknowledge(aId, acked.storedThrough);
      for (let sequence = 12; sequence < 16; sequence++)
        raw.send('rec/chunk', a.entry.frames[sequence]!);
      raw.send('rec/open', JSON.stringify(b.entry.open));
      for (const frame of b.entry.frames) raw.send('rec/chunk', frame!);
      raw.send('rec/close', JSON.stringify(b.entry.close));

      await crashRelay(relay, redisToo);
      await raw.kill();
      const logMark = relay.logs.length;
      await relaunchOnSamePorts(relay);
      // The crash was the one we meant: a surviving redis-server is stopped and reused, or
      // (power cut) there was none and Redis came back from its append-only file alone.
      const leftover = relay.logs
        .slice(logMark)
        .some((line) => line.includes('stopping a redis-server left over'));
      expect(leftover).toBe(!redisToo);

      // What the relay acknowledged before the crash is still there after it.
      const probe = await rawBox(device);
      await probe.publish('rec/open', JSON.stringify(a.entry.open));
      const afterCrash = await probe.ack(aId);
      expect(afterCrash.complete).toBe(false);
      expect(afterCrash.storedThrough).toBeGreaterThanOrEqual(11);
      await probe.kill();

      // The box restarts from its flash (a new process would do exactly this).
      const resumedStore = new FileOutboxStore(dir);
      const pending = await resumedStore.list();
      expect(pending.map((entry) => entry.open.recordingId)).toEqual([aId, bId]);
      expect(pending[0]?.storedThrough).toBe(11);
      expect(pending[0]?.frames.slice(0, 12).every((frame) => frame === null)).toBe(true);

      const after = box(device, resumedStore);
      const resumed: ResumedEvent[] = [];
      const stored = new Map<string, StoredEvent>();
      after.on('resumed', (event) => resumed.push(event));
      const bothStored = new Promise<void>((resolve) =>
        after.on('stored', (event) => {
          stored.set(event.recordingId, event);
          if (stored.size === 2) resolve();
        }),
      );
      const failures: unknown[] = [];
      after.on('failed', (event) => failures.push(event));
      await after.start();
      expect(resumed.map((event) => event.recordingId)).toEqual([aId, bId]);
      await bothStored;
      expect(failures).toEqual([]);
      await after.stop();
      expect(await readdir(dir)).toEqual([]);

      // Every recording complete, stored byte for byte, and each with exactly one case.
      const aCase = stored.get(aId)?.caseId;
      const bCase = stored.get(bId)?.caseId;
      expect(aCase).toMatch(UUID);
      expect(bCase).toMatch(UUID);
      await expectStoredExactly(a, aCase!, device.clinicId);
      await expectStoredExactly(b, bCase!, device.clinicId);
      for (const [recordingId, caseId] of [
        [done.recordingId, done.caseId],
        [aId, aCase],
        [bId, bCase],
      ] as const) {
        expect((await casesOf(device.clinicId, recordingId)).map((c) => c.id)).toEqual([caseId]);
      }
      const health = (await (await fetch(`${relay.httpUrl}/health`)).json()) as { status: string };
      expect(health.status).toBe('up');
    });
  });

  it('ignores reordered and duplicated chunks, keeps the last copy until the close, and ignores a forged copy of a stored one', async () => {
    const device = devices[2]!;
    const raw = await rawBox(device);
    const built = buildRecording({ durationSeconds: 10, seed: 40 });
    const { open, close, frames } = built.entry;
    const id = open.recordingId;
    const count = close.chunkCount;
    const all = Array.from({ length: count }, (_, s) => s);

    // Which sequences had been published when each reply arrived: the relay may never
    // acknowledge a chunk it cannot have received.
    const published = new Set<number>();
    const publishedAtReply: Set<number>[] = [];
    raw.client.on('message', () => publishedAtReply.push(new Set(published)));
    const sendChunk = (sequence: number, frame = frames[sequence]!) => {
      published.add(sequence);
      raw.send('rec/chunk', frame);
    };

    await raw.publish('rec/open', JSON.stringify(open));
    expect(await raw.ack(id)).toMatchObject({ storedThrough: -1, missing: [] });

    // First half in shuffled order, with three duplicates mixed in.
    const order = shuffled(all, 7);
    const firstHalf = order.slice(0, count / 2);
    const firstBatch = shuffled([...firstHalf, ...firstHalf.slice(0, 3)], 8);
    let mark = raw.replies.length;
    for (const sequence of firstBatch) sendChunk(sequence);
    const firstReplies = await raw.acknowledging(id, firstHalf, mark);
    expect(firstReplies.every((reply) => reply.channel === 'ack')).toBe(true);
    const firstAcks = firstReplies.map((reply) => reply.body as StoredAck);

    // Every chunk of the first half is held now. A copy of one of them with other samples (a
    // valid frame, CRC and all) replaces it until the close (issue 10: a box must be able
    // to correct a chunk) and is acknowledged like any chunk; the original, sent again in
    // the second batch, puts it back.
    const victim = firstHalf[0]!;
    const original = frames[victim]!;
    const sampleCount = original.readUInt16LE(26);
    const forged = encodeChunkFrame({
      recordingId: id,
      sequence: victim,
      firstSample: original.readUInt32LE(22),
      sampleCount,
      leadCount: 12,
      samples: new Int16Array(sampleCount * 12).fill(1234),
    });
    expect(forged.equals(original)).toBe(false);
    mark = raw.replies.length;
    sendChunk(victim, forged);
    const [forgedReply] = await raw.replyCount(1, mark);
    expect(forgedReply?.channel).toBe('ack');
    const maxBefore = Math.max(...firstAcks.map((ack) => ack.storedThrough));
    expect((forgedReply?.body as StoredAck).storedThrough).toBe(maxBefore);

    // The rest, shuffled, with duplicates of both halves; then a repeated open.
    const secondBatch = shuffled(
      [...order.slice(count / 2), ...order.slice(count / 2, count / 2 + 3), firstHalf[1]!, victim],
      9,
    );
    mark = raw.replies.length;
    for (const sequence of secondBatch) sendChunk(sequence);
    const secondReplies = await raw.acknowledging(id, all, mark);
    expect(secondReplies.every((reply) => reply.channel === 'ack')).toBe(true);
    mark = raw.replies.length;
    await raw.publish('rec/open', JSON.stringify(open));
    expect(await raw.ack(id, () => true, mark)).toEqual({
      recordingId: id,
      storedThrough: count - 1,
      missing: [],
      complete: false,
    });

    // Every ack was consistent with what had been sent when it arrived.
    expect(publishedAtReply).toHaveLength(raw.replies.length);
    const chunkAcks = raw.replies
      .filter((reply) => reply.channel === 'ack')
      .map((reply) => ({ ack: reply.body as StoredAck, sent: publishedAtReply[reply.index]! }));
    for (const { ack, sent } of chunkAcks) {
      expect(ack.recordingId).toBe(id);
      expect(ack.complete).toBe(false);
      expect(ack.storedThrough).toBeLessThan(count);
      for (let s = 0; s <= ack.storedThrough; s++) expect(sent.has(s)).toBe(true);
      for (const s of ack.missing) {
        expect(s).toBeGreaterThan(ack.storedThrough);
        expect(s).toBeLessThan(count);
      }
    }

    // Two closes at once: one case, the original samples (not the forged ones).
    mark = raw.replies.length;
    raw.send('rec/close', JSON.stringify(close));
    raw.send('rec/close', JSON.stringify(close));
    const closeReplies = await raw.replyCount(2, mark);
    const completes = closeReplies.map((reply) => reply.body as StoredAck);
    expect(completes.map((ack) => ack.complete)).toEqual([true, true]);
    const caseId = completes[0]!.caseId!;
    expect(caseId).toMatch(UUID);
    expect(completes[1]?.caseId).toBe(caseId);
    await expectStoredExactly(built, caseId, device.clinicId);

    // After completion, a late duplicate, the forged copy and a repeated close change nothing.
    mark = raw.replies.length;
    sendChunk(victim, forged);
    sendChunk(count - 1);
    raw.send('rec/close', JSON.stringify(close));
    const late = await raw.replyCount(3, mark);
    for (const reply of late) {
      expect(reply.channel).toBe('ack');
      expect(reply.body).toMatchObject({ recordingId: id, complete: true, caseId });
    }
    await expectStoredExactly(built, caseId, device.clinicId);
    expect((await casesOf(device.clinicId, id)).map((c) => c.id)).toEqual([caseId]);
  });

  it('refuses forged credentials, foreign and wildcard topics and a malformed frame while another box streams', async () => {
    const victim = devices[3]!;
    const attacker = devices[4]!;
    const logMark = relay.logs.length;
    const healthBefore = await ingestCounters();

    // The victim streams recordings for as long as the attacks last (and at least three).
    const streaming = box(victim);
    let disconnects = 0;
    streaming.on('disconnected', () => disconnects++);
    const connected = once(streaming, 'connected');
    await streaming.start();
    await connected;
    let attacksOver = false;
    const delivered: { recordingId: string; caseId: string | null; sha256: string }[] = [];
    const stream = (async () => {
      for (let seed = 50; !attacksOver || delivered.length < 3; seed++) {
        delivered.push(await streaming.record({ durationSeconds: 4, seed }));
      }
    })();
    // If an assertion below fails first, the cleanup stops the box and this rejects.
    stream.catch(() => undefined);

    // 1. A forged secret for the streaming box's own id: refused, and it does not kick the box.
    await expect(
      connectAs({ clientId: victim.deviceId, username: victim.deviceId, password: 'guessed' }),
    ).rejects.toMatchObject({ code: 4 });
    // 1b. Valid credentials of another box, but the streaming box's client id.
    await expect(
      connectAs({
        clientId: victim.deviceId,
        username: attacker.deviceId,
        password: attacker.secret,
      }),
    ).rejects.toMatchObject({ code: 4 });

    // 2. A legitimate box reaching into the streaming box's topics.
    const hostile = await connectAs({
      clientId: attacker.deviceId,
      username: attacker.deviceId,
      password: attacker.secret,
    });
    cleanups.push(() => hostile.endAsync(true));
    // A refused filter is answered with 0x80 in SUBACK (mqtt.js turns that into an error).
    const subscribed = await hostile
      .subscribeAsync(deviceTopic(victim.deviceId, 'ack'), { qos: 1 })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(subscribed).toBeInstanceOf(ErrorWithSubackPacket);
    expect((subscribed as ErrorWithSubackPacket).packet.granted).toEqual([128]);
    expect(hostile.connected).toBe(true);
    const foreignOpen: RecordingOpen = {
      ...buildRecording({ durationSeconds: 1, seed: 60 }).entry.open,
    };
    const foreignRefused = await publishIsRefused(
      hostile,
      deviceTopic(victim.deviceId, 'rec/open'),
      JSON.stringify(foreignOpen),
    );
    expect(foreignRefused).toBe(true);

    // 3. A wildcard publish.
    const wildcard = await connectAs({
      clientId: attacker.deviceId,
      username: attacker.deviceId,
      password: attacker.secret,
    });
    cleanups.push(() => wildcard.endAsync(true));
    const wildcardOpen = buildRecording({ durationSeconds: 1, seed: 61 }).entry.open;
    expect(
      await publishIsRefused(wildcard, 'telerelay/v1/+/rec/open', JSON.stringify(wildcardOpen)),
    ).toBe(true);

    // 4. A malformed frame on the attacker's own topic: refused with a reason, link kept.
    const own = await rawBox(attacker);
    const ownOpen = buildRecording({ durationSeconds: 1, seed: 62 }).entry;
    await own.publish('rec/open', JSON.stringify(ownOpen.open));
    await own.ack(ownOpen.open.recordingId);
    let mark = own.replies.length;
    await own.publish('rec/chunk', Buffer.concat([ownOpen.frames[0]!, Buffer.from([0, 0])]));
    const malformed = await own.next((reply) => reply.channel === 'error', mark);
    expect(malformed.body).toMatchObject({ code: 'MALFORMED_FRAME', retryable: false });
    mark = own.replies.length;
    await own.publish('rec/chunk', ownOpen.frames[0]!);
    expect(await own.ack(ownOpen.open.recordingId, () => true, mark)).toMatchObject({
      storedThrough: 0,
    });
    expect(own.client.connected).toBe(true);
    await own.kill();

    attacksOver = true;
    await stream;
    expect(disconnects).toBe(0);
    expect(delivered.length).toBeGreaterThanOrEqual(3);
    const staff = await staffClient(victim.clinicId);
    for (const sent of delivered) {
      expect(sent.caseId).toMatch(UUID);
      expect(sha256Hex(await readBlob(relay.dataDir, sent.sha256))).toBe(sent.sha256);
      expect((await casesOf(victim.clinicId, sent.recordingId, staff)).map((c) => c.id)).toEqual([
        sent.caseId,
      ]);
    }
    await streaming.stop();

    // Neither refused open reached the victim's staging: its chunks are unknown recordings.
    const asVictim = await rawBox(victim);
    for (const open of [foreignOpen, wildcardOpen]) {
      const probe = encodeChunkFrame({
        recordingId: open.recordingId,
        sequence: 0,
        firstSample: 0,
        sampleCount: 1,
        leadCount: 12,
        samples: new Int16Array(12),
      });
      mark = asVictim.replies.length;
      await asVictim.publish('rec/chunk', probe);
      const reply = await asVictim.next(() => true, mark);
      expect(reply).toMatchObject({
        channel: 'error',
        body: { code: 'UNKNOWN_RECORDING', recordingId: open.recordingId },
      });
    }
    await asVictim.kill();

    // Refusals the relay counts on /health/details.
    const healthAfter = await ingestCounters();
    expect(healthAfter.rejected['MALFORMED_FRAME'] ?? 0).toBe(
      (healthBefore.rejected['MALFORMED_FRAME'] ?? 0) + 1,
    );

    // No API exposes the audit log (audit_log rows are only in the database). The relay logs
    // every audit entry as it writes it, so the test waits for those lines instead.
    const connectDenied = [victim.deviceId, attacker.deviceId].map((id) =>
      auditLogged(
        (a) => a.action === 'mqtt.connect' && a.outcome === 'denied' && a.actor === `device:${id}`,
        logMark,
      ),
    );
    await Promise.all([
      ...connectDenied,
      auditLogged(
        (a) =>
          a.action === 'mqtt.subscribe' &&
          a.outcome === 'denied' &&
          a.actor === `device:${attacker.deviceId}` &&
          a.subject === deviceTopic(victim.deviceId, 'ack'),
        logMark,
      ),
      auditLogged(
        (a) =>
          a.action === 'mqtt.publish' &&
          a.outcome === 'denied' &&
          a.actor === `device:${attacker.deviceId}` &&
          a.subject === deviceTopic(victim.deviceId, 'rec/open'),
        logMark,
      ),
      auditLogged(
        (a) =>
          a.action === 'mqtt.rec/chunk' &&
          a.outcome === 'denied' &&
          a.actor === `device:${attacker.deviceId}` &&
          (a.detail as { code?: string } | undefined)?.code === 'MALFORMED_FRAME',
        logMark,
      ),
    ]);
    expect(logEntries(relay, 'device refused at CONNECT').length).toBeGreaterThanOrEqual(2);
  });

  // Relay bug (see the report): Aedes refuses a wildcard PUBLISH itself, before the relay's
  // authorizePublish hook runs, so the refusal is logged as a client error but never audited,
  // unlike every other refused publish. This test fails until the relay audits it.
  it('audits a refused wildcard publish like every other refused publish', async () => {
    const attacker = devices[5]!;
    const logMark = relay.logs.length;
    const client = await connectAs({
      clientId: attacker.deviceId,
      username: attacker.deviceId,
      password: attacker.secret,
    });
    cleanups.push(() => client.endAsync(true));
    expect(await publishIsRefused(client, 'telerelay/v1/+/rec/open', '{}')).toBe(true);
    await auditLogged(
      (a) =>
        a.action === 'mqtt.publish' &&
        a.outcome === 'denied' &&
        a.actor === `device:${attacker.deviceId}`,
      logMark,
      5_000,
    );
  });

  function connectAs(options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
    return mqtt.connectAsync(relay.mqttUrl, {
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 0,
      ...options,
    });
  }

  /** Waits for the relay's log line of an audit entry that matches. */
  function auditLogged(
    matches: (audit: Record<string, unknown>) => boolean,
    from: number,
    timeoutMs?: number,
  ): Promise<string> {
    return relay.waitForLog(
      (line) => {
        if (!line.includes('"msg":"audit ')) return false;
        const entry = JSON.parse(line) as { audit?: Record<string, unknown> };
        return entry.audit !== undefined && matches(entry.audit);
      },
      from,
      timeoutMs,
    );
  }

  /** Publishes QoS 1 and reports whether the broker dropped the link instead of a PUBACK. */
  async function publishIsRefused(
    client: mqtt.MqttClient,
    topic: string,
    payload: string,
  ): Promise<boolean> {
    const closed = new Promise<'closed'>((resolve) =>
      client.once('close', () => resolve('closed')),
    );
    const acked = client.publishAsync(topic, payload, { qos: 1 }).then(
      () => 'puback' as const,
      () => 'closed' as const,
    );
    return (await Promise.race([closed, acked])) === 'closed';
  }

  async function ingestCounters(): Promise<{
    rejected: Partial<Record<DeviceError['code'], number>>;
  }> {
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const health = await admin.get<{
      ingest: { rejected: Partial<Record<DeviceError['code'], number>> };
    }>('/health/details');
    return health.body.ingest;
  }
});
