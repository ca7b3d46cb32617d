import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceError, RecordingOpen, StoredAck } from '#contracts';
import { encodeChunkFrame } from '#ecg';
import type { AuditEntry, AuditService } from '../audit/audit.service.js';
import type { DeviceMessage } from '../infra/broker/mqtt-broker.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { EmbeddedRedis } from '../infra/redis/embedded-redis.js';
import { RedisRecordingStagingStore } from '../infra/redis/recording-staging.store.js';
import type { CasesRepository } from '../worklist/cases.repository.js';
import type { DeviceGateService } from '../devices/device-gate.service.js';
import type { DevicesRepository } from '../devices/devices.repository.js';
import { IngestService, type DeviceReply } from './ingest.service.js';
import type { RecordingArchive } from './recording-archive.js';
import { RecordingStaging, type StagedRecording, type StagingLimits } from './recording-staging.js';
import type { ExamOrdersService } from '../records/exam-orders.service.js';

const LEADS = ['I', 'II'];
const SAMPLES_PER_CHUNK = 4;

/** A two-lead recording of `chunks` full chunks; `variant` changes the samples. */
function recording(chunks: number, variant = 0) {
  const recordingId = randomUUID();
  const samplesPerLead = chunks * SAMPLES_PER_CHUNK;
  const samples = Int16Array.from({ length: samplesPerLead * LEADS.length }, (_, i) => i + variant);
  const frames = Array.from({ length: chunks }, (_, sequence) =>
    frame(recordingId, sequence, sequence * SAMPLES_PER_CHUNK, samples),
  );
  const bytes = Buffer.from(samples.buffer);
  return {
    recordingId,
    frames,
    bytes,
    close: {
      recordingId,
      chunkCount: chunks,
      samplesPerLead,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
  };
}

/** Chunk `sequence` claiming to start at `firstSample`, cut from `samples` at that sample. */
function frame(
  recordingId: string,
  sequence: number,
  firstSample: number,
  samples: Int16Array,
): Buffer {
  const from = firstSample * LEADS.length;
  return encodeChunkFrame({
    recordingId,
    sequence,
    firstSample,
    sampleCount: SAMPLES_PER_CHUNK,
    leadCount: LEADS.length,
    samples: samples.subarray(from, from + SAMPLES_PER_CHUNK * LEADS.length),
  });
}

function openMessage(recordingId: string, extra: Partial<RecordingOpen> = {}): RecordingOpen {
  return {
    recordingId,
    examKind: 'rhythm-strip',
    leads: LEADS,
    sampleRateHz: 500,
    microvoltsPerLsb: 2.5,
    startedAt: '2026-11-27T08:00:00.000Z',
    ...extra,
  };
}

const ack = (reply: DeviceReply | null): StoredAck => {
  expect(reply?.channel).toBe('ack');
  return reply!.body as StoredAck;
};
const error = (reply: DeviceReply | null): DeviceError => {
  expect(reply?.channel).toBe('error');
  return reply!.body as DeviceError;
};

describe('IngestService with Redis staging', () => {
  let redis: EmbeddedRedis;
  let client: Redis;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-ingest-'));
    redis = await EmbeddedRedis.start({
      bin: 'redis-server',
      dataDir,
      log: pino({ level: 'silent' }),
    });
    client = new Redis(redis.url);
  });

  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * The service on real Redis staging (its own key prefix), with the database side faked:
   * `archived` holds what was handed to the archive, `dbCases` what the database knows.
   */
  function relay(
    options: { limits?: StagingLimits; now?: () => number; dbCases?: Map<string, DbCase> } = {},
  ) {
    const staging = new RecordingStaging(
      new RedisRecordingStagingStore([client], `test:${randomUUID()}`, options.now),
      options.limits,
    );
    const archived = new Map<string, { staged: StagedRecording; samples: Buffer }>();
    const audits: AuditEntry[] = [];
    const dbCases = options.dbCases ?? new Map<string, DbCase>();
    const metrics = new PrometheusMetrics(pino({ level: 'silent' }));
    const service = new IngestService(
      staging,
      {
        find: async () => undefined,
        markSeen: async () => undefined,
      } as unknown as DevicesRepository,
      { caseOfRecording: async (id: string) => dbCases.get(id) } as unknown as CasesRepository,
      {
        archive: async (staged: StagedRecording, samples: Buffer) => {
          archived.set(staged.recordingId, { staged, samples });
          return `case-of-${staged.recordingId}`;
        },
      } as unknown as RecordingArchive,
      { clinicOf: () => 'clinic-1' } as unknown as DeviceGateService,
      { recordLater: (entry: AuditEntry) => audits.push(entry) } as unknown as AuditService,
      pino({ level: 'silent' }),
      // The staging store and the service read one time, the test's when it gives one.
      { now: () => new Date((options.now ?? Date.now)()) },
      // The records side: clinic-1 has one open ECG order, ABCD2345.
      {
        ecgOrderOf: async (clinicId: string, orderNumber: string) =>
          clinicId === 'clinic-1' && orderNumber.replace('-', '').toUpperCase() === 'ABCD2345'
            ? { id: 'order-1' }
            : undefined,
      } as unknown as ExamOrdersService,
      metrics,
    );
    const send = (deviceId: string, channel: DeviceMessage['channel'], payload: Buffer | object) =>
      service.receive({
        deviceId,
        channel,
        payload: Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
      } as DeviceMessage);
    return { service, staging, archived, audits, send, metrics };
  }

  /** One sample of the exposition, e.g. `telerelay_refusals_total{edge="mqtt",code="X"}`. */
  async function sample(metrics: PrometheusMetrics, series: string): Promise<number | undefined> {
    const { body } = await metrics.exposition();
    const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  it('counts what it stores and what it refuses in the metrics exposition', async () => {
    const { send, metrics } = relay();
    const r = recording(3);
    expect(await sample(metrics, 'telerelay_ingest_chunks_stored_total')).toBe(0);
    await send('box-a', 'rec/open', openMessage(r.recordingId));
    for (const f of r.frames) await send('box-a', 'rec/chunk', f);
    // A chunk of a recording never opened is refused, and counted by its code.
    await send('box-a', 'rec/chunk', recording(1).frames[0]!);
    await send('box-a', 'rec/close', r.close);
    expect(await sample(metrics, 'telerelay_ingest_recordings_opened_total')).toBe(1);
    expect(await sample(metrics, 'telerelay_ingest_chunks_stored_total')).toBe(3);
    expect(await sample(metrics, 'telerelay_ingest_recordings_stored_total')).toBe(1);
    expect(
      await sample(metrics, 'telerelay_refusals_total{edge="mqtt",code="UNKNOWN_RECORDING"}'),
    ).toBe(1);
    // prom-client's process metrics are exposed beside the relay's own.
    expect(await sample(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  describe('a box that sends open, chunks and close in one go, as the simulator does', () => {
    it('gets its close answered complete once the chunks sent before it are stored, not with them missing', async () => {
      const { send, archived } = relay();
      const r = recording(6);
      // All handed over before any is answered, as Aedes hands over the packets of one read.
      const opened = send('box-a', 'rec/open', openMessage(r.recordingId));
      const chunks = r.frames.map((f) => send('box-a', 'rec/chunk', f));
      const closed = send('box-a', 'rec/close', r.close);
      expect(ack(await closed)).toMatchObject({
        complete: true,
        missing: [],
        caseId: `case-of-${r.recordingId}`,
      });
      await Promise.all([opened, ...chunks]);
      expect(archived.get(r.recordingId)?.samples.length).toBeGreaterThan(0);
    });
  });

  describe('a box that calibrates each lead separately', () => {
    it('has its recording kept on the finest lead scale, and one scale per lead is required', async () => {
      const { send, archived } = relay();
      const r = recording(2);
      // Lead I at 2.5 µV per LSB, lead II at 1.25: lead I's values are doubled on 1.25 µV.
      await send(
        'box-a',
        'rec/open',
        openMessage(r.recordingId, { leadMicrovoltsPerLsb: [2.5, 1.25] }),
      );
      for (const f of r.frames) await send('box-a', 'rec/chunk', f);
      expect(ack(await send('box-a', 'rec/close', r.close))).toMatchObject({ complete: true });
      const kept = archived.get(r.recordingId)!;
      expect(kept.staged.microvoltsPerLsb).toBe(1.25);
      const sent = new Int16Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength / 2);
      sent.forEach((value, i) => {
        expect(kept.samples.readInt16LE(2 * i)).toBe(i % 2 === 0 ? 2 * value : value);
      });

      const other = recording(1);
      const refused = error(
        await send(
          'box-a',
          'rec/open',
          openMessage(other.recordingId, { leadMicrovoltsPerLsb: [2.5] }),
        ),
      );
      expect(refused.code).toBe('INVALID_MESSAGE');
      expect(refused.message).toMatch(/leadMicrovoltsPerLsb/);
    });
  });

  describe('a stored recording answers only its own box, with its own checksum', () => {
    it('refuses another box that opens or closes the id, without the case id', async () => {
      const { send, audits } = relay();
      const r = recording(2);
      await send('box-a', 'rec/open', openMessage(r.recordingId));
      for (const f of r.frames) await send('box-a', 'rec/chunk', f);
      expect(ack(await send('box-a', 'rec/close', r.close))).toMatchObject({
        complete: true,
        caseId: `case-of-${r.recordingId}`,
      });

      const reopened = error(await send('box-b', 'rec/open', openMessage(r.recordingId)));
      const closed = error(
        await send('box-b', 'rec/close', { ...r.close, sha256: 'ab'.repeat(32), chunkCount: 7 }),
      );
      const chunked = error(await send('box-b', 'rec/chunk', r.frames[0]!));
      for (const refused of [reopened, closed, chunked]) {
        expect(refused).toEqual({
          code: 'INVALID_MESSAGE',
          message: 'recording id already in use',
          retryable: false,
          recordingId: r.recordingId,
        });
        expect(JSON.stringify(refused)).not.toContain('case-of-');
      }
      expect(audits.filter((a) => a.actor === 'device:box-b')).toHaveLength(3);
      expect(audits.every((a) => a.outcome === 'denied')).toBe(true);

      // Its own box still hears it is complete, but not for a close with other samples.
      expect(ack(await send('box-a', 'rec/open', openMessage(r.recordingId)))).toMatchObject({
        complete: true,
      });
      expect(ack(await send('box-a', 'rec/close', r.close)).caseId).toBe(
        `case-of-${r.recordingId}`,
      );
      expect(
        error(await send('box-a', 'rec/close', { ...r.close, sha256: 'cd'.repeat(32) })).code,
      ).toBe('INVALID_MESSAGE');
    });

    it('checks the box and checksum the database holds once Redis has no note', async () => {
      const r = recording(1);
      const dbCases = new Map([
        [
          r.recordingId,
          { caseId: 'old-case', chunkCount: 1, deviceId: 'box-a', sha256: r.close.sha256 },
        ],
      ]);
      const { send } = relay({ dbCases });
      expect(error(await send('box-b', 'rec/close', r.close)).message).toBe(
        'recording id already in use',
      );
      expect(ack(await send('box-a', 'rec/close', r.close)).caseId).toBe('old-case');
      expect(
        error(await send('box-a', 'rec/close', { ...r.close, sha256: 'ef'.repeat(32) })).code,
      ).toBe('INVALID_MESSAGE');
    });
  });

  describe('a bad chunk does not make its recording undeliverable', () => {
    it.each([
      { declared: 'declaring samplesPerChunk', extra: { samplesPerChunk: SAMPLES_PER_CHUNK } },
      { declared: 'without samplesPerChunk', extra: {} },
    ])('refuses a misplaced chunk before acknowledging it, $declared', async ({ extra }) => {
      const { send, archived } = relay();
      const r = recording(3);
      await send('box-a', 'rec/open', openMessage(r.recordingId, extra));
      expect(ack(await send('box-a', 'rec/chunk', r.frames[0]!)).storedThrough).toBe(0);
      const samples = new Int16Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length / 2);
      const misplaced = frame(r.recordingId, 1, 0, samples);
      expect(error(await send('box-a', 'rec/chunk', misplaced))).toMatchObject({
        code: 'FRAME_MISMATCH',
        retryable: false,
        sequence: 1,
      });
      expect(ack(await send('box-a', 'rec/chunk', r.frames[1]!)).storedThrough).toBe(1);
      expect(ack(await send('box-a', 'rec/chunk', r.frames[2]!)).storedThrough).toBe(2);
      expect(ack(await send('box-a', 'rec/close', r.close)).complete).toBe(true);
      expect(archived.get(r.recordingId)?.samples.equals(r.bytes)).toBe(true);
    });

    it('lets a chunk sent again with other samples replace the one held', async () => {
      const { send, archived } = relay();
      const r = recording(2);
      const other = recording(2, 1000);
      const wrongChunk0 = Buffer.from(other.frames[0]!);
      // Same recording id and position, other samples (and so another CRC).
      const wrong = frame(
        r.recordingId,
        0,
        0,
        new Int16Array(other.bytes.buffer, other.bytes.byteOffset, other.bytes.length / 2),
      );
      expect(wrong.equals(wrongChunk0)).toBe(false);
      await send('box-a', 'rec/open', openMessage(r.recordingId));
      await send('box-a', 'rec/chunk', wrong);
      const before = ack(await send('box-a', 'rec/chunk', r.frames[0]!));
      expect(before).toMatchObject({ storedThrough: 0, missing: [] });
      await send('box-a', 'rec/chunk', r.frames[1]!);
      expect(ack(await send('box-a', 'rec/close', r.close)).complete).toBe(true);
      expect(archived.get(r.recordingId)?.samples.equals(r.bytes)).toBe(true);
    });

    it('refuses a close that does not match for good for a box that does not declare samplesPerChunk', async () => {
      const { send } = relay();
      const r = recording(1);
      await send('box-a', 'rec/open', openMessage(r.recordingId));
      await send('box-a', 'rec/chunk', r.frames[0]!);
      const refused = error(
        await send('box-a', 'rec/close', { ...r.close, sha256: 'ab'.repeat(32) }),
      );
      expect(refused).toMatchObject({ code: 'CHECKSUM_MISMATCH', retryable: false });
      expect(ack(await send('box-a', 'rec/open', openMessage(r.recordingId))).storedThrough).toBe(
        0,
      );
    });

    it('answers a close that does not match with a retryable error and starts the recording again', async () => {
      const { send, archived } = relay();
      const declared = { samplesPerChunk: SAMPLES_PER_CHUNK };
      const r = recording(2);
      const other = recording(2, 1000);
      const wrong = frame(
        r.recordingId,
        1,
        SAMPLES_PER_CHUNK,
        new Int16Array(other.bytes.buffer, other.bytes.byteOffset, other.bytes.length / 2),
      );
      await send('box-a', 'rec/open', openMessage(r.recordingId, declared));
      await send('box-a', 'rec/chunk', r.frames[0]!);
      expect(ack(await send('box-a', 'rec/chunk', wrong)).storedThrough).toBe(1);
      expect(error(await send('box-a', 'rec/close', r.close))).toMatchObject({
        code: 'CHECKSUM_MISMATCH',
        retryable: true,
        recordingId: r.recordingId,
      });
      // The recording is still open, with nothing held: the box sends every chunk again.
      expect(
        ack(await send('box-a', 'rec/open', openMessage(r.recordingId, declared))),
      ).toMatchObject({
        storedThrough: -1,
        complete: false,
      });
      for (const f of r.frames) await send('box-a', 'rec/chunk', f);
      expect(ack(await send('box-a', 'rec/close', r.close)).complete).toBe(true);
      expect(archived.get(r.recordingId)?.samples.equals(r.bytes)).toBe(true);
    });
  });

  describe('an order number on the open', () => {
    it("is taken when it names an open order of the box's clinic, in any case and with a dash", async () => {
      const { send } = relay();
      const opened = await send(
        'box-a',
        'rec/open',
        openMessage(randomUUID(), { orderNumber: 'abcd-2345' }),
      );
      expect(ack(opened).storedThrough).toBe(-1);
    });

    it('refuses an unknown order number at once, not retryable, and nothing is staged', async () => {
      const { send, staging } = relay();
      const id = randomUUID();
      const refused = error(
        await send('box-a', 'rec/open', openMessage(id, { orderNumber: 'ZZZZ-2345' })),
      );
      expect(refused).toMatchObject({ code: 'UNKNOWN_ORDER', retryable: false, recordingId: id });
      expect(await staging.openCount('box-a')).toBe(0);
      // A malformed number is refused by the schema, like any bad field.
      const malformed = error(
        await send('box-a', 'rec/open', openMessage(randomUUID(), { orderNumber: 'O0O0-1111' })),
      );
      expect(malformed.code).toBe('INVALID_MESSAGE');
    });
  });

  describe('open recordings per box are capped', () => {
    const limits = { maxOpenPerBox: 3, openTtlSeconds: 600 };

    it('lets parallel opens of one box take at most the cap, and refuses the rest as retryable', async () => {
      const { send, staging } = relay({ limits });
      const ids = Array.from({ length: 20 }, () => randomUUID());
      const replies = await Promise.all(
        ids.map((id) => send('box-a', 'rec/open', openMessage(id))),
      );
      expect(replies.filter((reply) => reply?.channel === 'ack')).toHaveLength(3);
      const refused = replies.filter((reply) => reply?.channel === 'error').map(error);
      expect(refused).toHaveLength(17);
      expect(refused[0]).toMatchObject({ code: 'LIMIT_EXCEEDED', retryable: true });
      expect(await staging.openCount('box-a')).toBe(3);
      // Another box is not affected.
      expect(ack(await send('box-b', 'rec/open', openMessage(randomUUID()))).storedThrough).toBe(
        -1,
      );
    });

    it('frees a place when a recording is stored, and when an abandoned one expires', async () => {
      let now = 1_000_000;
      const { send } = relay({ limits, now: () => now });
      const done = recording(1);
      await send('box-a', 'rec/open', openMessage(done.recordingId));
      await send('box-a', 'rec/open', openMessage(randomUUID()));
      await send('box-a', 'rec/open', openMessage(randomUUID()));
      expect(error(await send('box-a', 'rec/open', openMessage(randomUUID()))).code).toBe(
        'LIMIT_EXCEEDED',
      );
      // A repeated open of a recording already open is not a new one.
      expect(ack(await send('box-a', 'rec/open', openMessage(done.recordingId))).complete).toBe(
        false,
      );

      await send('box-a', 'rec/chunk', done.frames[0]!);
      expect(ack(await send('box-a', 'rec/close', done.close)).complete).toBe(true);
      expect(ack(await send('box-a', 'rec/open', openMessage(randomUUID()))).storedThrough).toBe(
        -1,
      );
      expect(error(await send('box-a', 'rec/open', openMessage(randomUUID()))).code).toBe(
        'LIMIT_EXCEEDED',
      );

      now += limits.openTtlSeconds * 1000 + 1;
      expect(ack(await send('box-a', 'rec/open', openMessage(randomUUID()))).storedThrough).toBe(
        -1,
      );
    });

    it('reports the cap and the expiry', () => {
      expect(relay({ limits }).service.limits).toEqual(limits);
    });
  });
});

interface DbCase {
  caseId: string;
  chunkCount: number;
  deviceId: string;
  sha256: string;
}
