import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileOutboxStore } from './file-outbox.js';
import { FlakyLink } from './flaky-link.js';
import { Simulation, type SimulationOptions } from './simulation.js';
import { actAsHonestRelay, FakeRelay } from './testing/fake-relay.js';

const DEVICES = [
  { deviceId: 'box-res-01', secret: 'secret-one', clinicId: 'clinic-a' },
  { deviceId: 'box-res-02', secret: 'secret-two', clinicId: 'clinic-b' },
];
const SECRETS = Object.fromEntries(DEVICES.map((d) => [d.deviceId, d.secret]));
const SUMMARY_TAIL = /ack p50 \d+ ms p99 \d+ ms/;

describe('FlakyLink', () => {
  it('cuts the link with the given probability, once per period, until stopped', async () => {
    let cuts = 0;
    let rolls = 0;
    let allRolled!: () => void;
    const sixRolls = new Promise<void>((resolve) => (allRolled = resolve));
    // Rolls alternate 0.9 (keep) and 0.1 (cut) for the probability; delays use 0.
    let call = 0;
    const random = () => {
      call++;
      if (call % 2 === 1) return 0; // the delay draw
      rolls++;
      if (rolls === 6) allRolled();
      return rolls % 2 === 0 ? 0.1 : 0.9;
    };
    const link = { dropLink: () => (cuts++, true) };
    const flaky = new FlakyLink(link, { minMs: 1, maxMs: 5, probability: 0.5, random });
    flaky.start();
    await sixRolls;
    flaky.stop();
    expect(cuts).toBe(3);
    expect(flaky.drops).toBe(3);
  });

  it('does not count a roll that found no link to cut', async () => {
    let tried!: () => void;
    const attempted = new Promise<void>((resolve) => (tried = resolve));
    const flaky = new FlakyLink(
      {
        dropLink: () => {
          tried();
          return false;
        },
      },
      { minMs: 1, maxMs: 1, probability: 1 },
    );
    flaky.start();
    await attempted;
    flaky.stop();
    expect(flaky.drops).toBe(0);
  });

  it('refuses nonsense periods and probabilities', () => {
    const link = { dropLink: () => true };
    expect(() => new FlakyLink(link, { minMs: 0, maxMs: 1, probability: 0.5 })).toThrow(RangeError);
    expect(() => new FlakyLink(link, { minMs: 5, maxMs: 1, probability: 0.5 })).toThrow(RangeError);
    expect(() => new FlakyLink(link, { minMs: 1, maxMs: 1, probability: 2 })).toThrow(RangeError);
  });
});

describe('Simulation on a bad link and with a buffer directory', () => {
  let relay: FakeRelay | undefined;
  const simulations: Simulation[] = [];
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-buffer-'));
  });
  afterEach(async () => {
    for (const simulation of simulations.splice(0)) await simulation.stop();
    await relay?.close();
    relay = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function simulate(url: string, overrides: Partial<SimulationOptions> = {}) {
    const lines: string[] = [];
    const errors: string[] = [];
    const simulation = new Simulation({
      url,
      devices: DEVICES,
      intervalSeconds: 0.05,
      count: 2,
      finding: 'normal',
      chunkSamples: 250,
      quiet: false,
      recordingSeconds: 1,
      print: (line) => lines.push(line),
      printError: (line) => errors.push(line),
      reconnect: { minMs: 10, maxMs: 50 },
      ...overrides,
    });
    simulations.push(simulation);
    return { simulation, lines, errors };
  }

  it('--flaky: every recording is stored although only a reconnect brings its close through', async () => {
    relay = await FakeRelay.start(SECRETS);
    const fake = relay;
    // A relay that swallows the first close of every recording. With a 30 s ack timeout,
    // only a cut link (reconnect → open, unacked chunks, close again) can finish them.
    const held = actAsHonestRelay(fake, { ignoreCloses: 1 });
    const { simulation, lines, errors } = simulate(fake.url, {
      ackTimeoutMs: 30_000,
      flaky: { minMs: 100, maxMs: 200, probability: 1 },
    });
    await simulation.start();
    await simulation.finished;
    expect(await simulation.stop()).toBe(0);

    expect(held.size).toBe(4);
    for (const recording of held.values()) expect(recording.closes).toBeGreaterThanOrEqual(2);
    const final = lines.at(-1) ?? '';
    expect(final).toMatch(/^boxes 2 · recordings sent 4 · stored 4 · failed 0 · lost 0 · /);
    const drops = Number(/ · link drops (\d+)$/.exec(final)?.[1]);
    // At least one cut per box came after its closes, or they would not be stored.
    expect(drops).toBeGreaterThanOrEqual(2);
    // The cuts were abrupt: the broker published each box's last will.
    const wills = fake
      .of('status')
      .filter((s) => (s.status as { online: boolean }).online === false);
    expect(wills.length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => / offline, retrying in \d+ ms$/.test(l)).length).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('--buffer-dir: a new run resumes what the last one left and counts it', async () => {
    // Run 1: a relay that takes everything and never answers; the simulator is stopped.
    relay = await FakeRelay.start(SECRETS);
    let closed = 0;
    let bothClosed!: () => void;
    const allClosed = new Promise<void>((resolve) => (bothClosed = resolve));
    relay.onUplink((uplink) => {
      if (uplink.channel === 'rec/close' && ++closed === 2) bothClosed();
    });
    const first = simulate(relay.url, { count: 1, bufferDir: dir, quiet: true });
    await first.simulation.start();
    await allClosed;
    expect(await first.simulation.stop()).toBe(1);
    expect(first.lines.at(-1)).toMatch(
      /^boxes 2 · recordings sent 2 · stored 0 · failed 0 · kept 2 · ack p50 - ms p99 - ms$/,
    );
    for (const device of DEVICES) {
      const files = await readdir(FileOutboxStore.directoryFor(dir, device.deviceId));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^[0-9a-f-]{36}\.rec$/);
    }
    const left = await Promise.all(
      DEVICES.map((d) => new FileOutboxStore(FileOutboxStore.directoryFor(dir, d.deviceId)).list()),
    );
    const leftIds = left.flat().map((entry) => entry.open.recordingId);
    await relay.close();

    // Run 2: an honest relay; one new recording per box plus the two left over.
    relay = await FakeRelay.start(SECRETS);
    const held = actAsHonestRelay(relay);
    const second = simulate(relay.url, { count: 1, bufferDir: dir });
    await second.simulation.start();
    await second.simulation.finished;
    expect(await second.simulation.stop()).toBe(0);
    expect(
      second.lines.filter((l) => / resumed [0-9a-f-]{36} from the buffer /.test(l)),
    ).toHaveLength(2);
    expect(second.lines.at(-1)).toMatch(
      /^boxes 2 · recordings sent 4 · stored 4 · failed 0 · kept 0 · /,
    );
    expect(second.lines.at(-1)).toMatch(SUMMARY_TAIL);
    expect([...held.keys()]).toEqual(expect.arrayContaining(leftIds));
    expect(held.size).toBe(4);
    for (const device of DEVICES) {
      expect(await readdir(FileOutboxStore.directoryFor(dir, device.deviceId))).toEqual([]);
    }
    expect(second.errors).toEqual([]);
  });
});
