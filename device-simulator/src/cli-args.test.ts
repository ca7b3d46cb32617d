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
      replay: null,
      stream: null,
      orderNumber: null,
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
        '--order',
        'abcd-2345',
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
      replay: null,
      stream: null,
      orderNumber: 'ABCD2345',
    });
  });

  it('refuses an --order that is no order number', () => {
    expect(() => parseSimArgs(['--order', 'ABCD-1234'])).toThrow(/--order/);
  });

  it('reads --replay as a list of records or folders', () => {
    expect(parseSimArgs(['--replay', 'data/mitdb/100']).replay).toEqual(['data/mitdb/100']);
    expect(
      parseSimArgs(['--replay=data/mitdb/100, data/mitdb/104,/srv/ptb-xl', '--count', '2']),
    ).toMatchObject({ replay: ['data/mitdb/100', 'data/mitdb/104', '/srv/ptb-xl'], count: 2 });
  });

  it('reads --stream with its defaults, and the options that imply it', () => {
    expect(parseSimArgs(['--stream']).stream).toEqual({
      leads: ['I', 'II', 'V5'],
      sampleRateHz: 250,
      seconds: null,
    });
    expect(
      parseSimArgs(['--stream-leads', 'II,V1', '--stream-rate', '500', '--finding', 'pvc']),
    ).toMatchObject({
      finding: 'pvc',
      stream: { leads: ['II', 'V1'], sampleRateHz: 500, seconds: null },
    });
    expect(parseSimArgs(['--stream-seconds', '2.5']).stream).toEqual({
      leads: ['I', 'II', 'V5'],
      sampleRateHz: 250,
      seconds: 2.5,
    });
  });

  it.each([
    [['--stream', '--replay', 'data/mitdb/100'], /--replay/],
    [['--stream', '--count', '3'], /--count/],
    [['--stream-rate', '250', '--interval', '5'], /--interval/],
    [
      ['--stream', '--buffer-dir', '/tmp/b', '--chunk-samples', '100'],
      /--chunk-samples, --buffer-dir/,
    ],
    [['--replay', 'data/mitdb/100', '--finding', 'pvc'], /--finding/],
    [['--stream-leads', 'I,II,III,V1'], /1\.\.3/],
    [['--stream-leads', 'I,I'], /--stream-leads/],
    [['--stream-leads', 'MLII'], /unknown lead MLII/],
    [['--stream-leads', 'I,,II'], /--stream-leads/],
    [['--stream-rate', '200'], /--stream-rate/],
    [['--stream-rate', '1000'], /--stream-rate/],
    [['--stream-rate', '250.5'], /--stream-rate/],
    [['--stream-seconds', '0'], /--stream-seconds/],
    [['--replay', ''], /--replay/],
    [['--replay', 'a,,b'], /--replay/],
  ])('rejects %j, naming the problem', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(UsageError);
    expect(() => parseSimArgs(argv)).toThrow(message);
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
      '--replay',
      '--stream',
      '--stream-leads',
      '--stream-rate',
      '--stream-seconds',
      'frames/s',
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
