import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';
import { TestRedis } from '../support/redis-server.js';

interface HealthBody {
  status: 'up' | 'down';
  components: Record<string, { status: 'up' | 'down'; error?: string }>;
}

/** The public answer: up or down, nothing an outsider could read the region's load from. */
async function health(relay: RelayProcess): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${relay.httpUrl}/health`);
  return { status: response.status, body: await response.json() };
}

async function until(relay: RelayProcess, status: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await health(relay);
    if (result.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`health stayed ${result.status}: ${JSON.stringify(result.body)}`);
    await sleep(250);
  }
}

describe('health follows Redis going away and coming back', () => {
  let redis: TestRedis;
  let relay: RelayProcess;

  beforeAll(async () => {
    redis = await TestRedis.start();
    relay = await RelayProcess.start({ REDIS_URL: redis.url });
  });

  afterAll(async () => {
    await relay?.dispose();
    await redis?.dispose();
  });

  it('answers up or down without a token, and the components only to an admin', async () => {
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const details = async () => (await admin.get<HealthBody>('/health/details')).body;

    const before = await health(relay);
    expect(before.status).toBe(200);
    expect(Object.keys(before.body as object).sort()).toEqual(['checkedAt', 'status']);
    expect(before.body).toMatchObject({ status: 'up' });
    expect((await fetch(`${relay.httpUrl}/health/details`)).status).toBe(401);
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    expect((await reader.get('/health/details')).status).toBe(403);
    const up = await details();
    expect(Object.keys(up.components).sort()).toEqual(['broker', 'database', 'queues', 'redis']);
    expect(Object.values(up.components).every((component) => component.status === 'up')).toBe(true);

    await redis.down();
    await until(relay, 503);
    expect((await health(relay)).body).toMatchObject({ status: 'down' });
    const down = await details();
    expect(down.status).toBe('down');
    expect(down.components['redis']?.status).toBe('down');
    expect(down.components['database']?.status).toBe('up');

    await redis.up();
    await until(relay, 200);
    expect((await details()).status).toBe('up');

    // Recovered for real: a recording goes through to a case.
    const device = (await relay.demoDevices())[0]!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    try {
      const stored = await box.record({ durationSeconds: 2, seed: 5 });
      expect(stored.caseId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await box.stop();
    }
  });
});
