import { describe, expect, it } from 'vitest';
import { ECG_FINDINGS } from '#ecg';
import {
  DEFAULT_CREDENTIALS,
  DEFAULT_URL,
  parseSimArgs,
  pickFinding,
  USAGE,
  UsageError,
} from './cli-args.js';

describe('parseSimArgs', () => {
  it('has the documented defaults', () => {
    expect(parseSimArgs([])).toEqual({
      help: false,
      url: DEFAULT_URL,
      credentialsPath: DEFAULT_CREDENTIALS,
      devices: null,
      intervalSeconds: 60,
      count: null,
      finding: 'normal',
      chunkSamples: 250,
      quiet: false,
      bufferDir: null,
      flaky: null,
    });
    expect(DEFAULT_URL).toBe('mqtt://127.0.0.1:1883');
    expect(DEFAULT_CREDENTIALS).toBe('./data/demo-devices.json');
  });

  it('reads every option', () => {
    expect(
      parseSimArgs([
        '--url=mqtts://relay.example:8883',
        '--credentials',
        '/etc/boxes.json',
        '--devices',
        '3',
        '--interval',
        '2.5',
        '--count',
        '4',
        '--finding',
        'mixed',
        '--chunk-samples',
        '500',
        '--quiet',
        '--buffer-dir',
        '/var/lib/sim',
        '--flaky',
      ]),
    ).toEqual({
      help: false,
      url: 'mqtts://relay.example:8883',
      credentialsPath: '/etc/boxes.json',
      devices: 3,
      intervalSeconds: 2.5,
      count: 4,
      finding: 'mixed',
      chunkSamples: 500,
      quiet: true,
      bufferDir: '/var/lib/sim',
      flaky: { minSeconds: 2, maxSeconds: 10 },
    });
  });

  it('reads --flaky-seconds as a range, which implies --flaky', () => {
    expect(parseSimArgs(['--flaky-seconds', '0.5-2']).flaky).toEqual({
      minSeconds: 0.5,
      maxSeconds: 2,
    });
    expect(parseSimArgs(['--flaky', '--flaky-seconds=3 - 3']).flaky).toEqual({
      minSeconds: 3,
      maxSeconds: 3,
    });
  });

  it('accepts every finding the synthesiser knows', () => {
    for (const finding of ECG_FINDINGS) {
      expect(parseSimArgs(['--finding', finding]).finding).toBe(finding);
    }
  });

  it('recognises --help and -h', () => {
    expect(parseSimArgs(['--help']).help).toBe(true);
    expect(parseSimArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--devices', '0']],
    [['--devices', '2.5']],
    [['--devices', '']],
    [['--count', '-1']],
    [['--count', '1e3']],
    [['--interval', '0']],
    [['--interval', 'soon']],
    [['--finding', 'tachycardia']],
    [['--chunk-samples', '0']],
    [['--chunk-samples', '5000']], // a 12-lead frame would exceed 64 KiB
    [['--url', 'http://127.0.0.1:1883']],
    [['--url', 'not a url']],
    [['--credentials', ' ']],
    [['--buffer-dir', '']],
    [['--buffer-dir']],
    [['--flaky-seconds', '5']],
    [['--flaky-seconds', '0-5']],
    [['--flaky-seconds', '10-2']],
    [['--flaky-seconds', 'often']],
    [['--flaky=yes']],
    [['--frobnicate']],
    [['--count']],
    [['stray-positional']],
  ])('rejects %j with a UsageError', (argv) => {
    expect(() => parseSimArgs(argv)).toThrow(UsageError);
  });

  it('names the offending option in the error', () => {
    expect(() => parseSimArgs(['--devices', 'two'])).toThrow(/--devices/);
  });

  it('documents every option in the usage text', () => {
    for (const option of [
      '--url',
      '--credentials',
      '--devices',
      '--interval',
      '--count',
      '--finding',
      '--chunk-samples',
      '--quiet',
      '--buffer-dir',
      '--flaky',
      '--flaky-seconds',
      '--help',
    ]) {
      expect(USAGE).toContain(option);
    }
    for (const finding of ECG_FINDINGS) expect(USAGE).toContain(finding);
  });
});

describe('pickFinding', () => {
  it('returns a fixed finding unchanged', () => {
    expect(pickFinding('pvc', () => 0)).toBe('pvc');
  });

  it('mixes mostly normal with every abnormal finding', () => {
    let state = 12345;
    // A small deterministic LCG so the test cannot flake.
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const finding = pickFinding('mixed', random);
      counts.set(finding, (counts.get(finding) ?? 0) + 1);
    }
    const normal = counts.get('normal') ?? 0;
    expect(normal / 2_000).toBeGreaterThan(0.6);
    expect(normal / 2_000).toBeLessThan(0.8);
    for (const finding of ECG_FINDINGS) expect(counts.get(finding) ?? 0).toBeGreaterThan(0);
  });
});
