import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Anchor } from './audit-chain.js';

/** The anchor file's name in DATA_DIR (docs/audit.md, "Anchors"): one JSON anchor a line. */
export const ANCHOR_FILE = 'audit-anchors.jsonl';

export async function appendAnchor(dataDir: string, anchor: Anchor): Promise<void> {
  await appendFile(join(dataDir, ANCHOR_FILE), `${JSON.stringify(anchor)}\n`);
}

/** The anchors kept in a data directory, oldest first; none when there is no file. */
export async function readAnchors(dataDir: string): Promise<Anchor[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, ANCHOR_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const anchor = JSON.parse(line) as Partial<Anchor>;
      if (
        typeof anchor.seq !== 'number' ||
        typeof anchor.hash !== 'string' ||
        typeof anchor.at !== 'string'
      ) {
        throw new Error(`${ANCHOR_FILE} line ${index + 1} is not an anchor`);
      }
      return { seq: anchor.seq, hash: anchor.hash, at: anchor.at };
    });
}
