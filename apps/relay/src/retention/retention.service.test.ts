import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditService } from '../audit/audit.service.js';
import { waitFor } from '../../../../test/support/wait.js';
import { TestClock } from '../common/testing/test-clock.js';
import { loadConfig } from '../config/config.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { JobQueues } from '../infra/queue/job-queues.js';
import { EmbeddedRedis } from '../infra/redis/embedded-redis.js';
import { RedisConnections } from '../infra/redis/redis-connections.js';
import type { RetentionPolicy, RetentionRepository } from './retention.repository.js';
import { RetentionService } from './retention.service.js';
import { TEST_PATIENT_KEYS } from '../config/testing/patient-keys.js';

const log = pino({ level: 'silent' });

describe('RetentionService (real Redis, BullMQ)', () => {
  let dataDir: string;
  let redis: EmbeddedRedis;
  let connections: RedisConnections;
  let queues: JobQueues;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-retention-queue-'));
    redis = await EmbeddedRedis.start({ bin: 'redis-server', dataDir, log });
    connections = new RedisConnections(redis.url);
    queues = new JobQueues(connections, log, new PrometheusMetrics(log), 'retention-test');
  }, 60_000);
  afterAll(async () => {
    await queues.close();
    await connections.closeAll();
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sweeps on its repeatable job as soon as it is scheduled, with the configured retention', async () => {
    const config = loadConfig({ ...TEST_PATIENT_KEYS, SESSION_RETENTION_DAYS: '9' });
    const sweeps: { now: Date; policy: RetentionPolicy }[] = [];
    const clock = new TestClock();
    let swept: () => void = () => undefined;
    const firstSweep = new Promise<void>((resolve) => (swept = resolve));
    const repository = {
      sweep: (now: Date, policy: RetentionPolicy) => {
        sweeps.push({ now, policy });
        swept();
        return Promise.resolve({
          sessions: 0,
          retiredRefreshTokens: 0,
          clinicEvents: 0,
        });
      },
    } as unknown as RetentionRepository;
    const auditCutoffs: Date[] = [];
    const audit = {
      prune: (cutoff: Date) => {
        auditCutoffs.push(cutoff);
        return Promise.resolve(0);
      },
    } as unknown as AuditService;
    const service = new RetentionService(repository, queues, clock, audit, config, log);
    await service.onApplicationBootstrap();

    await firstSweep;
    expect(sweeps[0]).toEqual({
      now: clock.now(),
      policy: expect.objectContaining({ sessionDays: 9, clinicEventDays: 30 }),
    });
    // The trail is cut by the audit domain, which keeps its hash chain verifiable.
    await waitFor(() => auditCutoffs.length > 0);
    expect(auditCutoffs[0]).toEqual(new Date(clock.now().getTime() - 5_480 * 86_400_000));
  });
});
