import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DEVICE_ERROR_CODES } from '#contracts';
import { Clock } from '../common/clock.js';
import { CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { IngestService } from '../ingest/ingest.service.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import { Database } from '../infra/database/database.js';
import { JobQueues, type QueueCounts } from '../infra/queue/job-queues.js';
import { RedisProbe } from '../infra/redis/redis-probe.js';

const ComponentSchema = z.object({
  status: z.enum(['up', 'down']),
  error: z.string().optional(),
});
type Component = z.infer<typeof ComponentSchema>;

const QueueCountsSchema = z.object({
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  failed: z.number(),
}) satisfies z.ZodType<QueueCounts>;

/** The body of the public GET /health (and its OpenAPI schema). */
export const HealthStatusSchema = z.object({
  status: z.enum(['up', 'down']),
  checkedAt: z.string(),
});
export type HealthStatus = z.infer<typeof HealthStatusSchema>;

/**
 * The body of GET /health/details, for operators. Each part is its own object, so a part
 * (components, ingest) takes new figures without a change to the others or to GET /health.
 */
export const HealthReportSchema = HealthStatusSchema.extend({
  components: z.object({
    database: ComponentSchema.extend({ driver: z.string() }),
    redis: ComponentSchema,
    // `off`: this instance runs no broker (ROLES without broker; docs/scaling.md).
    broker: ComponentSchema.extend({
      status: z.enum(['up', 'down', 'off']),
      connectedDevices: z.number(),
    }),
    queues: ComponentSchema.extend({ counts: z.record(z.string(), QueueCountsSchema).optional() }),
  }),
  ingest: z
    .object({
      accepted: z.object({ opens: z.number(), chunks: z.number(), recordings: z.number() }),
      rejected: z.partialRecord(z.enum(DEVICE_ERROR_CODES), z.number()),
      limits: z.object({ maxOpenPerBox: z.number(), openTtlSeconds: z.number() }),
    })
    .describe('Ingest counters since the relay started, and the open-recording limits in force'),
});
export type HealthReport = z.infer<typeof HealthReportSchema>;

const TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  constructor(
    private readonly database: Database,
    private readonly broker: MqttBroker,
    private readonly queues: JobQueues,
    private readonly ingest: IngestService,
    private readonly redis: RedisProbe,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<RelayConfig, 'roles'>,
  ) {}

  async check(): Promise<HealthReport> {
    const [database, redis, queues] = await Promise.all([
      probe(() => this.database.ping()),
      probe(() => this.redis.ping()),
      probe(() => this.queues.counts()),
    ]);
    const broker: Omit<HealthReport['components']['broker'], 'connectedDevices'> = !this.config
      .roles.broker
      ? { status: 'off' }
      : this.broker.listening
        ? { status: 'up' }
        : { status: 'down', error: 'not listening' };
    const queuesUp = queues.component.status === 'up' && this.queues.workersRunning;
    const components = {
      database: { ...database.component, driver: this.database.driver },
      redis: redis.component,
      broker: { ...broker, connectedDevices: this.broker.connectedDevices },
      queues: queuesUp
        ? { status: 'up' as const, counts: queues.value }
        : { status: 'down' as const, error: queues.component.error ?? 'workers stopped' },
    };
    const up = Object.values(components).every((component) => component.status !== 'down');
    return {
      status: up ? 'up' : 'down',
      checkedAt: this.clock.now().toISOString(),
      components,
      ingest: {
        accepted: { ...this.ingest.counters.accepted },
        rejected: { ...this.ingest.counters.rejected },
        limits: this.ingest.limits,
      },
    };
  }
}

async function probe<T>(check: () => Promise<T>): Promise<{ component: Component; value?: T }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    const value = await Promise.race([check(), timeout]);
    return { component: { status: 'up' }, value };
  } catch (error) {
    return { component: { status: 'down', error: (error as Error).message } };
  } finally {
    clearTimeout(timer);
  }
}
