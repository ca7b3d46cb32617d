/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) into where the time went: self time per
 * function, and self and inclusive time per area (a package under node_modules, a folder
 * of the relay, a library of ours, a Node internal module, the garbage collector).
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** ms not idle: everything except (idle). */
  busyMs: number;
  areasSelf: [string, number][];
  areasInclusive: [string, number][];
  functionsSelf: [string, number][];
  functionsInclusive: [string, number][];
  /** Inclusive time of the relay's and the libraries' own functions (apps/, libs/). */
  ourFunctionsInclusive: [string, number][];
}

/** The area a frame belongs to, from its script URL. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle)
    return '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const relay = /\/apps\/relay\/src\/([^/]+)/.exec(url);
  if (relay) return `relay:${relay[1]!.replace(/\.js$/, '')}`;
  const lib = /\/libs\/([^/]+)\/src\/([^/]+)/.exec(url);
  if (lib) return `libs/${lib[1]}:${lib[2]!.replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? (parts[1] ?? 'internal') : parts[0]}`.replace(
      /\.js$/,
      '',
    );
  }
  return url;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + '/dist/'.length);
  return url;
}

function top(map: Map<string, number>, count: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
}

export async function summariseProfile(path: string, count = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const fnKey = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return url
      ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}`
      : functionName || '(anonymous)';
  };
  // Self time is the sample's delta; attribute per node first, then fold.
  const selfByNode = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    const id = profile.samples[i]!;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
    totalUs += delta;
  }
  const areasSelf = new Map<string, number>();
  const areasInclusive = new Map<string, number>();
  const functionsSelf = new Map<string, number>();
  const functionsInclusive = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfByNode) {
    const node = byId.get(id);
    if (!node) continue;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (area === '(idle)') idleUs += us;
    areasSelf.set(area, (areasSelf.get(area) ?? 0) + us);
    const key = fnKey(node);
    functionsSelf.set(key, (functionsSelf.get(key) ?? 0) + us);
    // Inclusive: each area and function on the stack once, however often it recurs.
    const seenAreas = new Set<string>();
    const seenFunctions = new Set<string>();
    for (
      let current: number | undefined = id, depth = 0;
      current !== undefined && depth < 500;
      depth += 1
    ) {
      const frame = byId.get(current);
      if (!frame) break;
      seenAreas.add(areaOf(frame.callFrame.url, frame.callFrame.functionName));
      seenFunctions.add(fnKey(frame));
      current = parent.get(current);
    }
    for (const a of seenAreas) areasInclusive.set(a, (areasInclusive.get(a) ?? 0) + us);
    for (const f of seenFunctions) functionsInclusive.set(f, (functionsInclusive.get(f) ?? 0) + us);
  }
  for (const key of ['(root)', '(program)', '(idle)']) {
    areasInclusive.delete(key);
    functionsInclusive.delete(key);
  }
  const ms = (entries: [string, number][]) =>
    entries.map(([name, us]) => [name, us / 1000] as [string, number]);
  return {
    totalMs: totalUs / 1000,
    busyMs: (totalUs - idleUs) / 1000,
    areasSelf: ms(top(areasSelf, count)),
    areasInclusive: ms(top(areasInclusive, count)),
    functionsSelf: ms(top(functionsSelf, count)),
    functionsInclusive: ms(top(functionsInclusive, count)),
    ourFunctionsInclusive: ms(
      top(new Map([...functionsInclusive].filter(([key]) => /\s(apps|libs)\//.test(key))), count),
    ),
  };
}

export function formatProfileSummary(summary: ProfileSummary, title: string): string {
  const lines = [
    title,
    `sampled ${(summary.totalMs / 1000).toFixed(1)} s, of which busy (not idle) ${(summary.busyMs / 1000).toFixed(1)} s; percentages are of busy time`,
  ];
  const pct = (ms: number) =>
    `${((ms / Math.max(1e-9, summary.busyMs)) * 100).toFixed(1).padStart(5)} %`;
  const section = (heading: string, rows: [string, number][]) => {
    lines.push('', heading);
    for (const [name, ms] of rows) {
      if (name === '(idle)') continue;
      lines.push(`  ${pct(ms)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${name}`);
    }
  };
  section('self time by area', summary.areasSelf);
  section('inclusive time by area (area anywhere on the stack)', summary.areasInclusive);
  section('self time by function', summary.functionsSelf);
  section('inclusive time by function', summary.functionsInclusive);
  section(
    "inclusive time of our own functions (apps/, libs/; synchronous part only: time after an await is not on the caller's stack)",
    summary.ourFunctionsInclusive,
  );
  return `${lines.join('\n')}\n`;
}
