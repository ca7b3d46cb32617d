/**
 * Process and machine figures from /proc (Linux only): CPU time from /proc/<pid>/stat,
 * resident memory from /proc/<pid>/status, children from /proc/<pid>/task/<tid>/children.
 * A broker under test is a process tree (the relay runs its private redis-server as a
 * child), so every figure is taken over the tree.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ), the unit of utime and stime. */
export const CLOCK_TICKS: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** utime + stime of one process in ticks, or null if it is gone. */
export function cpuTicks(pid: number): number | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may contain spaces and parentheses; fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 overall are utime and stime; after the name they are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS of one process in bytes, or null if it is gone. */
export function rssBytes(pid: number): number | null {
  const status = readOrNull(`/proc/${pid}/status`);
  if (status === null) return null;
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The process and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const pending = [pid];
  while (pending.length > 0 && tree.length < 1000) {
    const current = pending.pop()!;
    if (readOrNull(`/proc/${current}/stat`) === null) continue;
    tree.push(current);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      const children = readOrNull(`/proc/${current}/task/${task}/children`) ?? '';
      for (const child of children.split(' ')) if (child.trim()) pending.push(Number(child));
    }
  }
  return tree;
}

export interface TreeSample {
  /** Seconds, from performance.now(). */
  at: number;
  /** CPU ticks per pid. */
  ticks: Map<number, number>;
  rss: Map<number, number>;
}

export function sampleTree(pids: readonly number[]): TreeSample {
  const ticks = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const pid of pids) {
    const t = cpuTicks(pid);
    const r = rssBytes(pid);
    if (t !== null) ticks.set(pid, t);
    if (r !== null) rss.set(pid, r);
  }
  return { at: performance.now() / 1000, ticks, rss };
}

export function totalRss(sample: TreeSample): number {
  let sum = 0;
  for (const value of sample.rss.values()) sum += value;
  return sum;
}

/** CPU between two samples, in percent of one core, per pid and in total. */
export function cpuPercent(
  from: TreeSample,
  to: TreeSample,
): { total: number; perPid: Map<number, number> } {
  const seconds = Math.max(1e-3, to.at - from.at);
  const perPid = new Map<number, number>();
  let total = 0;
  for (const [pid, end] of to.ticks) {
    const start = from.ticks.get(pid) ?? end;
    const percent = ((end - start) / CLOCK_TICKS / seconds) * 100;
    perPid.set(pid, percent);
    total += percent;
  }
  return { total, perPid };
}

export interface MachineSample {
  busy: number;
  total: number;
}

/** Machine-wide CPU counters (all cores) from the first line of /proc/stat. */
export function machineCpu(): MachineSample {
  const line = (readOrNull('/proc/stat') ?? 'cpu 0 0 0 0').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy between two samples, in percent (100 = every core busy). */
export function machineBusyPercent(from: MachineSample, to: MachineSample): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.busy - from.busy) / total) * 100 : 0;
}

export function loadAverage(): number {
  return Number((readOrNull('/proc/loadavg') ?? '0').split(' ')[0]);
}

export function processName(pid: number): string {
  return (readOrNull(`/proc/${pid}/comm`) ?? '?').trim();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
