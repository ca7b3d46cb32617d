import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { IngestService } from '../ingest/ingest.service.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import { Database } from '../infra/database/database.js';
import { JobQueues, type QueueCounts } from '../infra/queue/job-queues.js';
import { HealthRedis } from './health-redis.js';

type Component = { status: 'up' | 'down'; error?: string };

export interface HealthReport {
  status: 'up' | 'down';
  checkedAt: string;
  components: {
    database: Component & { driver: string };
    redis: Component;
    broker: Component & { connectedDevices: number };
    queues: Component & { counts?: Record<string, QueueCounts> };
  };
  ingest: IngestService['counters'];
}

const TIMEOUT_MS = 2_000;

@Injectable()
export class HealthService {
  private readonly redis: Redis;

  constructor(
    private readonly database: Database,
    private readonly broker: MqttBroker,
    private readonly queues: JobQueues,
    private readonly ingest: IngestService,
    redis: HealthRedis,
  ) {
    this.redis = redis.client;
  }

  async check(): Promise<HealthReport> {
    const [database, redis, queues] = await Promise.all([
      probe(() => this.database.ping()),
      probe(async () => {
        if ((await this.redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
      }),
      probe(() => this.queues.counts()),
    ]);
    const broker: Component = this.broker.listening
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
    const up = Object.values(components).every((component) => component.status === 'up');
    return {
      status: up ? 'up' : 'down',
      checkedAt: new Date().toISOString(),
      components,
      ingest: this.ingest.counters,
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
