import { afterEach, describe, expect, it } from 'vitest';
import { Simulation, type SimulationOptions } from './simulation.js';
import { actAsHonestRelay, FakeRelay } from './testing/fake-relay.js';

const DEVICES = [
  { deviceId: 'box-sim-01', secret: 'secret-one', clinicId: 'clinic-a' },
  { deviceId: 'box-sim-02', secret: 'secret-two', clinicId: 'clinic-b' },
];
const SECRETS = Object.fromEntries(DEVICES.map((d) => [d.deviceId, d.secret]));

describe('Simulation', () => {
  let relay: FakeRelay | undefined;
  let simulation: Simulation | undefined;

  afterEach(async () => {
    await simulation?.stop();
    await relay?.close();
    simulation = undefined;
    relay = undefined;
  });

  function simulate(url: string, overrides: Partial<SimulationOptions> = {}) {
    const lines: string[] = [];
    const errors: string[] = [];
    simulation = new Simulation({
      url,
      devices: DEVICES,
      intervalSeconds: 0.05,
      count: 2,
      finding: 'mixed',
      chunkSamples: 250,
      quiet: false,
      recordingSeconds: 1,
      print: (line) => lines.push(line),
      printError: (line) => errors.push(line),
      ...overrides,
    });
    return { simulation, lines, errors };
  }

  it('runs --count recordings per box, waits for the relay and exits 0', async () => {
    relay = await FakeRelay.start(SECRETS);
    const held = actAsHonestRelay(relay);
    const { simulation, lines, errors } = simulate(relay.url);
    await simulation.start();
    await simulation.finished;
    expect(await simulation.stop()).toBe(0);

    expect(held.size).toBe(4);
    expect(
      lines.filter((l) => / stored [0-9a-f-]{36} case case-\d+ ack \d+ ms$/.test(l)),
    ).toHaveLength(4);
    expect(lines.at(-1)).toMatch(
      /^boxes 2 · recordings sent 4 · stored 4 · failed 0 · lost 0 · ack p50 \d+ ms p99 \d+ ms$/,
    );
    expect(errors).toEqual([]);
  });

  it('counts recordings the relay rejects as failed and exits 1', async () => {
    relay = await FakeRelay.start(SECRETS);
    const fake = relay;
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/close') {
        fake.send(uplink.deviceId, 'error', {
          code: 'CHECKSUM_MISMATCH',
          message: 'sha256 mismatch',
          retryable: false,
          recordingId: uplink.close.recordingId,
        });
      }
    });
    const { simulation, lines } = simulate(relay.url, { count: 1 });
    await simulation.start();
    await simulation.finished;
    expect(await simulation.stop()).toBe(1);
    expect(lines.filter((l) => l.includes(' FAILED '))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/recordings sent 2 · stored 0 · failed 2 · lost 0 ·/);
  });

  it('reports recordings neither stored nor failed at exit as lost and exits 1', async () => {
    relay = await FakeRelay.start(SECRETS);
    let closes = 0;
    let allClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (allClosed = resolve));
    // A relay that takes everything and never answers.
    relay.onUplink((uplink) => {
      if (uplink.channel === 'rec/close' && ++closes === 2) allClosed();
    });
    const { simulation, lines } = simulate(relay.url, { count: 1, quiet: true });
    await simulation.start();
    await closed;
    expect(await simulation.stop()).toBe(1);
    // --quiet: only the summary.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^boxes 2 · recordings sent 2 · stored 0 · failed 0 · lost 2 · ack p50 - ms p99 - ms$/,
    );
  });
});
