import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  decodeWfdbSignals,
  parseWfdbAnnotations,
  parseWfdbHeader,
  type WfdbRecord,
} from './wfdb.js';

/**
 * Reads a WFDB record from disk: `<path>.hea`, the signal files it names (relative to the
 * header's folder, as the WFDB library resolves them), and `<path>.<annotator>` if present.
 * `pathWithoutExtension` is e.g. '/data/mitdb/100'.
 */
export function readWfdbRecord(
  pathWithoutExtension: string,
  options: { annotator?: string } = {},
): WfdbRecord {
  const folder = dirname(pathWithoutExtension);
  const header = parseWfdbHeader(readFileSync(`${pathWithoutExtension}.hea`, 'latin1'));
  const signals = decodeWfdbSignals(header, (fileName) =>
    readFileSync(join(folder, basename(fileName))),
  );
  const annotationPath = `${pathWithoutExtension}.${options.annotator ?? 'atr'}`;
  const annotations = existsSync(annotationPath)
    ? parseWfdbAnnotations(readFileSync(annotationPath))
    : undefined;
  return { header, signals, annotations };
}
