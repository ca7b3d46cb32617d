import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inspectInstance, type DicomRefusal, type InspectedInstance } from '#dicom';

/** What one received file is: its content address and size, and the instance or why not. */
export type FileInspection =
  | { ok: true; sha256: string; sizeBytes: number; instance: InspectedInstance }
  | { ok: false; sha256: string; sizeBytes: number; refusal: DicomRefusal };

/** A received file by its path, or its bytes when it was received into memory. */
export type InspectionTask = ({ path: string } | { bytes: Uint8Array }) & { maxBytes: number };

/**
 * Reads a received file once (or takes its bytes): its sha256 (the blob key) and libs/dicom's
 * inspection. Runs on a parser thread (dicom-inspection.worker.ts), so the relay's own thread
 * never parses.
 */
export async function inspectFile(task: InspectionTask): Promise<FileInspection> {
  const bytes = 'bytes' in task ? task.bytes : await readFile(task.path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const inspection = inspectInstance(bytes, { maxBytes: task.maxBytes });
  return inspection.ok
    ? { ok: true, sha256, sizeBytes: bytes.byteLength, instance: inspection.instance }
    : { ok: false, sha256, sizeBytes: bytes.byteLength, refusal: inspection.refusal };
}
