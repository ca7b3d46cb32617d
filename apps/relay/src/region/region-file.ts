import { readFile } from 'node:fs/promises';
import { RegionFileSchema, type RegionFile } from '#contracts';
import {
  checkChanges,
  devicePlacementProblem,
  rolePlacementProblem,
} from '../facilities/hierarchy.js';

/** A region that cannot be applied; the message names each problem, never a secret. */
export class RegionFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid region (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RegionFileError';
  }
}

/**
 * Reads and checks REGION_FILE before anything starts. What can be checked without the
 * database is checked here (shape, duplicates, the hierarchy among the file's own
 * facilities); references to facilities that exist only in the database are checked
 * when the region is applied.
 */
export async function loadRegionFile(path: string): Promise<RegionFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new RegionFileError(`REGION_FILE ${path}`, [`cannot read the file (${code})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RegionFileError(`REGION_FILE ${path}`, [
      `not valid JSON: ${(error as Error).message}`,
    ]);
  }
  return parseRegion(json, `REGION_FILE ${path}`);
}

/** Validates a region given as data (a parsed file, or the demo region). */
export function parseRegion(input: unknown, source: string): RegionFile {
  const parsed = RegionFileSchema.safeParse(input);
  if (!parsed.success) {
    throw new RegionFileError(
      source,
      // Paths and messages only: zod does not echo values, so no password leaks here.
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const problems = regionProblems(parsed.data);
  if (problems.length > 0) throw new RegionFileError(source, problems);
  return parsed.data;
}

/** The checks that need nothing but the file itself. */
export function regionProblems(region: RegionFile): string[] {
  const problems = [
    ...duplicates(
      region.facilities.map((f) => f.id),
      'facility id',
    ),
    ...duplicates(
      region.users.map((u) => u.username),
      'username',
    ),
    ...duplicates(
      region.devices.map((d) => d.id),
      'device id',
    ),
    ...duplicates(
      region.facilities.flatMap((f) => f.aeTitles ?? []),
      'AE title',
    ),
  ];
  region.facilities.forEach((facility, index) => {
    if (facility.kind !== 'clinic' && (facility.aeTitles?.length ?? 0) > 0) {
      problems.push(`facilities.${index} (${facility.id}): only a clinic has calling AE titles`);
    }
  });
  const inFile = new Map(region.facilities.map((f) => [f.id, f]));
  // Facilities whose parent is not in the file may hang under one in the database.
  const local = region.facilities.filter((f) => f.parentId === null || inFile.has(f.parentId));
  problems.push(...checkChanges(local, []).problems);
  region.users.forEach((user, index) => {
    const facility = inFile.get(user.facilityId);
    const problem = facility && rolePlacementProblem(user.role, facility.kind);
    if (problem) problems.push(`users.${index} (${user.username}): ${problem}`);
  });
  region.devices.forEach((device, index) => {
    const facility = inFile.get(device.facilityId);
    const problem = facility && devicePlacementProblem(facility.kind);
    if (problem) problems.push(`devices.${index} (${device.id}): ${problem}`);
  });
  return problems;
}

function duplicates(values: string[], what: string): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const value of values) (seen.has(value) ? repeated : seen).add(value);
  return [...repeated].map((value) => `${what} ${value} appears more than once`);
}
