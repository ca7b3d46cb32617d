import { t } from '../i18n/i18n.js';
import { TAG, numberOf, sequenceOf, stringOf, type DicomJsonDataset } from './dicom-json.js';

/**
 * STOW-RS from the browser (PS3.18 §10.5): instances as parts of a multipart/related body.
 * The body is a Blob made of the picked files, so the browser streams them from disk.
 */
export function multipartBody(files: readonly Blob[], boundary: string): Blob {
  const parts: BlobPart[] = [];
  for (const file of files) {
    parts.push(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, file, '\r\n');
  }
  parts.push(`--${boundary}--\r\n`);
  return new Blob(parts);
}

export function stowContentType(boundary: string): string {
  // i18n-exempt: an HTTP header value, not text for people.
  return `multipart/related; type="application/dicom"; boundary=${boundary}`;
}

export function newBoundary(): string {
  return `telerelay-${crypto.randomUUID()}`;
}

/** Files in upload order, cut into requests of at most `maxBytes` and `maxFiles` (one file may exceed maxBytes alone). */
export function batches<T extends { size: number }>(
  files: readonly T[],
  maxBytes: number,
  maxFiles: number,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (bytes + file.size > maxBytes || current.length >= maxFiles)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface StowFailure {
  sopInstanceUid: string | null;
  /** FailureReason (0008,1197), e.g. 0xA900 or 0xC000. */
  failureReason: number | null;
  /** The relay's sentence for it, when it sent one. */
  reason: string | null;
}

export interface StowResult {
  stored: string[];
  failed: StowFailure[];
}

/**
 * Status codes of PS3.18 Table 10.5.3-1 / PS3.4 Annex B, worded for clinic staff. Built when
 * asked, so the words follow a language switch.
 */
function standardMeaning(failureReason: number): string | undefined {
  const meanings: Record<number, string> = {
    0x0110: t('imaging:stow.reason.processing'),
    0x0111: t('imaging:stow.reason.duplicate'),
    0x0122: t('imaging:stow.reason.sopClass'),
    0x0124: t('imaging:stow.reason.notAuthorized'),
    0xa700: t('imaging:stow.reason.outOfResources'),
    0xa900: t('imaging:stow.reason.mismatch'),
    0xc000: t('imaging:stow.reason.cannotUnderstand'),
    0xc122: t('imaging:stow.reason.transferSyntax'),
  };
  return meanings[failureReason];
}

/**
 * Why an instance was refused: the standard's meaning of the code in the page's language, and
 * the relay's own sentence where it sent one (in the relay's words: it names the exact fault).
 */
export function failureText(failure: StowFailure): string {
  const code =
    failure.failureReason === null
      ? null
      : `0x${failure.failureReason.toString(16).toUpperCase().padStart(4, '0')}`;
  const meaning =
    (failure.failureReason === null ? undefined : standardMeaning(failure.failureReason)) ??
    t('imaging:stow.refused');
  if (code && failure.reason)
    return t('imaging:stow.withCodeAndDetail', { meaning, code, detail: failure.reason });
  if (code) return t('imaging:stow.withCode', { meaning, code });
  if (failure.reason) return t('imaging:stow.detailOnly', { detail: failure.reason });
  return meaning;
}

/** Reads a STOW-RS response body (application/dicom+json: one dataset, or an array of one). */
export function parseStowResponse(body: unknown): StowResult {
  const dataset = (Array.isArray(body) ? body[0] : body) as DicomJsonDataset | undefined;
  if (!dataset || typeof dataset !== 'object') return { stored: [], failed: [] };
  const stored = sequenceOf(dataset, TAG.ReferencedSOPSequence)
    .map((item) => stringOf(item, TAG.ReferencedSOPInstanceUID))
    .filter((uid): uid is string => uid !== null);
  const failed = sequenceOf(dataset, TAG.FailedSOPSequence).map((item) => ({
    sopInstanceUid: stringOf(item, TAG.ReferencedSOPInstanceUID),
    failureReason: numberOf(item, TAG.FailureReason),
    // The relay puts its sentence in TextValue; other servers use ErrorComment.
    reason: stringOf(item, TAG.TextValue) ?? stringOf(item, TAG.ErrorComment),
  }));
  return { stored, failed };
}

export interface StowProgress {
  loaded: number;
  total: number;
}

export interface StowResponse {
  status: number;
  body: unknown;
}

/**
 * One STOW-RS request with upload progress (fetch reports none for a request body).
 * Resolves with any HTTP answer; rejects only when the relay cannot be reached.
 */
export function sendStow(
  url: string,
  token: string,
  files: readonly Blob[],
  onProgress: (progress: StowProgress) => void,
): { promise: Promise<StowResponse>; abort: () => void } {
  const boundary = newBoundary();
  const body = multipartBody(files, boundary);
  const xhr = new XMLHttpRequest();
  const promise = new Promise<StowResponse>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', stowContentType(boundary));
    xhr.setRequestHeader('accept', 'application/dicom+json');
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (event) =>
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : body.size });
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        parsed = undefined;
      }
      resolve({ status: xhr.status, body: parsed });
    };
    xhr.onerror = () => reject(new Error(t('imaging:stow.unreachable')));
    xhr.onabort = () => reject(new Error(t('imaging:stow.cancelled')));
    xhr.send(body);
  });
  return { promise, abort: () => xhr.abort() };
}
