import { existsSync } from 'node:fs';
import { analyzeEcg, detectQrs, detectQrsMultiLead, readWfdbRecord, synthesizeEcg } from '#ecg';

/**
 * Speed of the ECG library on one core.
 *
 *   node dist/scripts/ecg/bench.js [--record <path-without-extension>] [--runs N] [--json]
 *
 * 1. QRS detection throughput, samples per second (all leads' samples counted), on a long
 *    record: MIT-BIH 100 (30 min, 2 leads, 360 Hz) from ../shared/data if present, else
 *    30 minutes of synthetic 2-lead ECG at 360 Hz.
 * 2. Time to analyse a 10-s 12-lead ECG at 500 Hz with analyzeEcg (median of many runs).
 * Times are main-thread CPU time where Node provides it (process.threadCpuUsage), so other
 * load on the machine does not count; wall-clock medians are shown beside them.
 * Targets: ≥ 1,000,000 samples/s; ≤ 50 ms per 10-s 12-lead.
 */

const TARGET_SAMPLES_PER_SECOND = 1_000_000;
const TARGET_ANALYSIS_MS = 50;

type Timer = () => { wallMs: number; cpuMs: number };

const threadCpu = (
  process as unknown as { threadCpuUsage?: () => { user: number; system: number } }
).threadCpuUsage;

function startTimer(): Timer {
  const wall = performance.now();
  const cpu = threadCpu ? threadCpu.call(process) : process.cpuUsage();
  return () => {
    const now = threadCpu ? threadCpu.call(process) : process.cpuUsage();
    return {
      wallMs: performance.now() - wall,
      cpuMs: (now.user - cpu.user + now.system - cpu.system) / 1000,
    };
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function measure(runs: number, work: () => void): { wallMs: number; cpuMs: number } {
  work(); // warm-up: compile the hot loops first
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const stop = startTimer();
    work();
    const t = stop();
    wall.push(t.wallMs);
    cpu.push(t.cpuMs);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

function longRecording(recordPath: string | undefined): {
  name: string;
  fs: number;
  leads: Int16Array[];
} {
  const candidates = [recordPath, '../shared/data/mitdb/100', '/work/shared/data/mitdb/100'].filter(
    (p): p is string => p !== undefined,
  );
  for (const path of candidates) {
    if (existsSync(`${path}.hea`)) {
      const record = readWfdbRecord(path);
      return {
        name: `MIT-BIH ${record.header.recordName} (${(record.signals.samplesPerSignal / record.header.samplingFrequency / 60).toFixed(0)} min)`,
        fs: record.header.samplingFrequency,
        leads: record.signals.signals,
      };
    }
  }
  // 30 minutes of synthetic ECG (the generator makes at most 10 min at a time).
  const fs = 360;
  const parts = [1, 2, 3].map((seed) =>
    synthesizeEcg({ durationSeconds: 600, sampleRateHz: fs, seed }),
  );
  const column = (name: string) => parts[0]!.leads.indexOf(name);
  const leads = ['II', 'V5'].map((name) => {
    const out = new Int16Array(parts.reduce((n, p) => n + p.samplesPerLead, 0));
    let offset = 0;
    for (const p of parts) {
      for (let i = 0; i < p.samplesPerLead; i++)
        out[offset + i] = p.samples[i * 12 + column(name)]!;
      offset += p.samplesPerLead;
    }
    return out;
  });
  return { name: 'synthetic II+V5 (30 min)', fs, leads };
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 50);
  const json = args.includes('--json');
  const long = longRecording(option('--record'));
  const perLead = long.leads[0]!.length;

  const detectionRuns = Math.max(3, Math.round(runs / 10));
  const single = measure(detectionRuns, () => detectQrs(long.leads[0]!, long.fs));
  const fused = measure(detectionRuns, () => detectQrsMultiLead(long.leads, long.fs));
  const ecg = synthesizeEcg({ durationSeconds: 10, sampleRateHz: 500, seed: 7 });
  const analysis = measure(runs, () => analyzeEcg(ecg));

  const rate = (samples: number, ms: number) => (samples / ms) * 1000;
  const rows = [
    {
      task: `detectQrs, 1 lead, ${long.name}`,
      samples: perLead,
      cpuMs: single.cpuMs,
      wallMs: single.wallMs,
      samplesPerSecond: rate(perLead, single.cpuMs),
    },
    {
      task: `detectQrsMultiLead, ${long.leads.length} leads, ${long.name}`,
      samples: perLead * long.leads.length,
      cpuMs: fused.cpuMs,
      wallMs: fused.wallMs,
      samplesPerSecond: rate(perLead * long.leads.length, fused.cpuMs),
    },
  ];
  const analysisRow = {
    task: 'analyzeEcg, 12 leads × 10 s at 500 Hz',
    cpuMs: analysis.cpuMs,
    wallMs: analysis.wallMs,
    runs,
  };
  const pass = {
    detection: rows.every((r) => r.samplesPerSecond >= TARGET_SAMPLES_PER_SECOND),
    analysis: analysis.cpuMs <= TARGET_ANALYSIS_MS,
  };
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ detection: rows, analysis: analysisRow, pass }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    `Node ${process.version}, ${threadCpu ? 'main-thread CPU time' : 'process CPU time'}, medians`,
    '',
    'task                                                         samples    CPU ms   wall ms     samples/s',
    ...rows.map(
      (r) =>
        `${r.task.padEnd(58)} ${String(r.samples).padStart(9)} ${r.cpuMs.toFixed(1).padStart(9)} ${r.wallMs.toFixed(1).padStart(9)} ${Math.round(r.samplesPerSecond).toLocaleString('en-US').padStart(13)}`,
    ),
    `${analysisRow.task.padEnd(58)} ${'60000'.padStart(9)} ${analysis.cpuMs.toFixed(1).padStart(9)} ${analysis.wallMs.toFixed(1).padStart(9)}   (median of ${runs})`,
    '',
    `detection ≥ ${TARGET_SAMPLES_PER_SECOND.toLocaleString('en-US')} samples/s: ${pass.detection ? 'PASS' : 'FAIL'}`,
    `analysis ≤ ${TARGET_ANALYSIS_MS} ms per 10-s 12-lead: ${pass.analysis ? 'PASS' : 'FAIL'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
