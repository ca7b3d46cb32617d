import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeChunkFrame } from '#ecg';
import { Simulation, type SimulationOptions } from './simulation.js';
import { actAsHonestRelay, FakeRelay } from './testing/fake-relay.js';
import { writeFormat16Record } from './testing/wfdb-writer.js';
import { loadReplayRecord, replayWindow } from './wfdb-replay.js';

const DEVICES = [
  { deviceId: 'box-mode-01', secret: 'secret-one', clinicId: 'clinic-a' },
  { deviceId: 'box-mode-02', secret: 'secret-two', clinicId: 'clinic-b' },
];
const SECRETS = Object.fromEntries(DEVICES.map((d) => [d.deviceId, d.secret]));

describe('Simulation modes', () => {
  let dir: string;
  let relay: FakeRelay | undefined;
  let simulation: Simulation | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-modes-'));
  });
  afterEach(async () => {
    await simulation?.stop();
    await relay?.close();
    simulation = undefined;
    relay = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function simulate(url: string, overrides: Partial<SimulationOptions>) {
    const lines: string[] = [];
    const errors: string[] = [];
    simulation = new Simulation({
      url,
      devices: DEVICES,
      intervalSeconds: 0.05,
      count: 2,
      finding: 'normal',
      chunkSamples: 100,
      quiet: false,
      print: (line) => lines.push(line),
      printError: (line) => errors.push(line),
      ...overrides,
    });
    return { simulation, lines, errors };
  }

  it('--replay: each box sends consecutive windows of the record, starting at its own', async () => {
    const rate = 200;
    const values = Array.from({ length: 5 * rate }, (_, i) => ((i * 37) % 2_001) - 1_000);
    const path = writeFormat16Record(dir, 'strip', rate, [
      { description: 'II', gain: 400, values },
    ]);
    const record = loadReplayRecord(path);
    relay = await FakeRelay.start(SECRETS);
    const held = actAsHonestRelay(relay);
    const { simulation, lines, errors } = simulate(relay.url, {
      replay: [record],
      recordingSeconds: 1, // 1-s windows: five in the record
    });
    await simulation.start();
    await simulation.finished;
    expect(await simulation.stop()).toBe(0);
    expect(errors).toEqual([]);

    // Box 0 sends windows 0 and 1, box 1 (one record, so one window in) windows 1 and 2.
    const sent = new Map<string, number[]>();
    for (const { deviceId, open } of relay.of('rec/open')) {
      expect(open).toMatchObject({
        leads: ['II'],
        sampleRateHz: rate,
        microvoltsPerLsb: 2.5,
        examKind: 'rhythm-strip',
      });
      const samples = [...held.get(open.recordingId)!.chunks.values()].flatMap((bytes) =>
        Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readInt16LE(2 * i)),
      );
      const window = [0, 1, 2, 3, 4].find(
        (index) =>
          JSON.stringify([...replayWindow(record, index, 1).signal.samples]) ===
          JSON.stringify(samples),
      );
      expect(window).toBeDefined();
      sent.set(deviceId, [...(sent.get(deviceId) ?? []), window!]);
    }
    expect(sent.get('box-mode-01')?.sort()).toEqual([0, 1]);
    expect(sent.get('box-mode-02')?.sort()).toEqual([1, 2]);
    expect(lines.filter((l) => / box-mode-01 replaying strip [01]–[12] s$/.test(l))).toHaveLength(
      2,
    );
    expect(lines.at(-1)).toMatch(/^boxes 2 · recordings sent 4 · stored 4 · failed 0 · lost 0/);
  });

  it('--stream: every box streams until stopped, then closes and reports frames/s', async () => {
    relay = await FakeRelay.start(SECRETS);
    const fake = relay;
    const { simulation, lines, errors } = simulate(relay.url, {
      count: null,
      stream: { leads: ['II', 'V2'], sampleRateHz: 500, seconds: null },
      summaryEveryMs: 100,
    });
    // Run until each box has sent 10 frames and a periodic summary has been printed.
    const streamed = new Promise<void>((resolve) => {
      fake.onUplink(() => {
        const frames = fake.of('stream/frame');
        const enough = DEVICES.every(
          (d) => frames.filter((f) => f.deviceId === d.deviceId).length >= 10,
        );
        if (enough && lines.some((l) => l.startsWith('boxes 2 · streaming'))) resolve();
      });
    });
    await simulation.start();
    await streamed;
    expect(await simulation.stop()).toBe(0);
    expect(errors).toEqual([]);

    // No recordings in stream mode.
    expect(relay.of('rec/open')).toEqual([]);
    const opens = relay.of('stream/open');
    expect(opens.map((o) => o.deviceId).sort()).toEqual(DEVICES.map((d) => d.deviceId));
    for (const { open } of opens)
      expect(open).toMatchObject({ leads: ['II', 'V2'], sampleRateHz: 500 });
    expect(
      relay
        .of('stream/close')
        .map((c) => c.close.streamId)
        .sort(),
    ).toEqual(opens.map((o) => o.open.streamId).sort());
    const frames = relay.of('stream/frame');
    for (const device of DEVICES) {
      const own = frames.filter((f) => f.deviceId === device.deviceId);
      expect(own.length).toBeGreaterThanOrEqual(10);
      for (const uplink of own) {
        expect(decodeChunkFrame(uplink.payload)).toMatchObject({ sampleCount: 20, leadCount: 2 });
      }
    }
    expect(
      lines.some((l) =>
        / box-mode-01 stream [0-9a-f-]{36} opened \(II,V2 at 500 Hz, normal\)$/.test(l),
      ),
    ).toBe(true);
    expect(lines.filter((l) => / stream [0-9a-f-]{36} closed$/.test(l))).toHaveLength(2);
    expect(
      lines.some((l) => /^boxes 2 · streaming [0-2] · frames sent \d+ · [\d.]+ frames\/s$/.test(l)),
    ).toBe(true);
    // Every frame went out before its stream's close, which the box waited for.
    const final = /^boxes 2 · frames sent (\d+) · (\d+\.\d) frames\/s$/.exec(lines.at(-1)!);
    expect(Number(final?.[1])).toBe(frames.length);
    expect(Number(final?.[2])).toBeGreaterThan(0);
  });

  it('--stream-seconds ends the run; it exits 1 when a box never got to stream', async () => {
    relay = await FakeRelay.start({ [DEVICES[0]!.deviceId]: DEVICES[0]!.secret });
    let refusedOnce!: () => void;
    const refused = new Promise<void>((resolve) => (refusedOnce = resolve));
    const { simulation } = simulate(relay.url, {
      count: null,
      stream: { leads: ['II'], sampleRateHz: 250, seconds: 0.3 },
      reconnect: { minMs: 50, maxMs: 100 },
      printError: (line) => {
        if (/ box-mode-02 error: broker refused/.test(line)) refusedOnce();
      },
    });
    await simulation.start();
    await Promise.all([simulation.finished, refused]);
    expect(await simulation.stop()).toBe(1);
    expect(relay.of('stream/frame').every((f) => f.deviceId === 'box-mode-01')).toBe(true);
  });
});
