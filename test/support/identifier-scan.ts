import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { maskIdentifier, nationalIdSchema } from '#contracts';

/**
 * Eighteen characters that could be a resident ID (GB 11643): digits with a digit or X last,
 * not part of a longer run of digits. Most such runs are not IDs (DICOM UIDs have long digit
 * components), so each is checked for the check digit and the date of birth inside.
 */
const CANDIDATE = /(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])/g;

/** Every valid national ID number written in clear in `text`. */
export function nationalIdsIn(text: string): string[] {
  return [...text.matchAll(CANDIDATE)]
    .map(([candidate]) => candidate)
    .filter((candidate) => nationalIdSchema.safeParse(candidate).success);
}

export interface IdentifierLeak {
  /** `log` or the file's path inside the scanned directory. */
  where: string;
  /** The number as the relay would show it, so the report itself leaks nothing. */
  masked: string;
}

async function filesUnder(root: string, skip: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !skip.has(relative(root, path).split('/')[0]!));
}

/**
 * Where a national ID stands in clear in what a relay left behind: its log lines and every
 * file of its data directory except the database's own folder (`pg/`): blobs, Redis's
 * append-only file (every key and value it was ever given, BullMQ's job data included),
 * runtime files. Files are read as latin1 so that binary files are scanned byte for byte.
 */
export async function identifierLeaks(input: {
  logs?: readonly string[];
  dirs?: readonly string[];
  /** Top-level folders of each dir to leave out (the database's). */
  skip?: readonly string[];
}): Promise<IdentifierLeak[]> {
  const leaks: IdentifierLeak[] = [];
  for (const id of nationalIdsIn((input.logs ?? []).join('\n'))) {
    leaks.push({ where: 'log', masked: maskIdentifier(id) });
  }
  const skip = new Set(input.skip ?? []);
  for (const dir of input.dirs ?? []) {
    for (const path of await filesUnder(dir, skip)) {
      const text = await readFile(path, 'latin1').catch(() => '');
      for (const id of nationalIdsIn(text)) {
        leaks.push({ where: relative(dir, path), masked: maskIdentifier(id) });
      }
    }
  }
  return leaks;
}

/** Throws, naming each place, when a relay left a national ID in clear. */
export async function assertNoIdentifierLeak(
  owner: string,
  input: Parameters<typeof identifierLeaks>[0],
): Promise<void> {
  const leaks = await identifierLeaks(input);
  if (leaks.length === 0) return;
  const places = leaks.map((leak) => `  ${leak.where}: ${leak.masked}`).join('\n');
  throw new Error(
    `${owner} left a national ID in clear (issue 13, "Protected identity"):\n${places}`,
  );
}
