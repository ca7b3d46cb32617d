import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The QRS detector's validation set: annotated WFDB records gathered from public
 * repositories, listed with their origin and sha256 in bench/ecg-validation/manifest.json
 * and kept, git-ignored, under data/ecg-validation/<database>/. See docs/ecg-validation.md.
 */

export const MANIFEST_PATH = 'bench/ecg-validation/manifest.json';
export const DATA_DIR = 'data/ecg-validation';

export type Split = 'tuning' | 'test';

export interface ManifestFile {
  database: string;
  record: string;
  /** Path under DATA_DIR, e.g. "mitdb/105.dat". */
  file: string;
  origin: { repo: string; path: string; commit: string };
  physionetUrl: string;
  licence: string;
  bytes: number;
  sha256: string;
  split: Split;
  note?: string;
}

export interface Manifest {
  description: string;
  splitRule: string;
  forbidden: string[];
  files: ManifestFile[];
}

export interface ManifestRecord {
  database: string;
  record: string;
  split: Split;
  /** Record path without extension, under the data folder. */
  path: string;
}

export function readManifest(root = '.'): Manifest {
  const manifest = JSON.parse(readFileSync(join(root, MANIFEST_PATH), 'utf8')) as Manifest;
  // The acceptance records must never be part of the set, whatever the manifest says.
  for (const f of manifest.files) {
    if (manifest.forbidden.includes(`${f.database}/${f.record}`)) {
      throw new Error(`${MANIFEST_PATH} lists ${f.database}/${f.record}, which is forbidden`);
    }
  }
  return manifest;
}

/** The records of one split (or of both), each once, in manifest order. */
export function manifestRecords(
  manifest: Manifest,
  split: Split | 'all',
  dataDir = DATA_DIR,
): ManifestRecord[] {
  const seen = new Set<string>();
  const records: ManifestRecord[] = [];
  for (const f of manifest.files) {
    const key = `${f.database}/${f.record}`;
    if (seen.has(key) || (split !== 'all' && f.split !== split)) continue;
    seen.add(key);
    records.push({
      database: f.database,
      record: f.record,
      split: f.split,
      path: join(dataDir, f.database, f.record),
    });
  }
  return records;
}

export type FileState = 'ok' | 'missing' | 'mismatch';

export interface FileCheck {
  file: ManifestFile;
  state: FileState;
  /** sha256 of the local file when it differs from the manifest's. */
  actualSha256?: string;
}

export function checkFiles(manifest: Manifest, dataDir = DATA_DIR): FileCheck[] {
  return manifest.files.map((file) => {
    const path = join(dataDir, file.file);
    if (!existsSync(path)) return { file, state: 'missing' };
    const actualSha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    return actualSha256 === file.sha256
      ? { file, state: 'ok' }
      : { file, state: 'mismatch', actualSha256 };
  });
}
