import { randomUUID } from 'node:crypto';

/** A STOW-RS body (PS3.18 §10.5.1.2): one application/dicom part per file. */
export function stowBody(
  files: Uint8Array[],
  partType = 'application/dicom',
): { body: Buffer; contentType: string } {
  const boundary = `stow-${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const file of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\n\r\n`));
    chunks.push(Buffer.from(file));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
  };
}

/** The parts of a multipart/related answer, with their Content-Type. */
export function multipartParts(
  body: Buffer,
  contentType: string,
): { contentType: string; bytes: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { contentType: string; bytes: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd);
    const headers = body.subarray(start, headerEnd).toString();
    parts.push({
      contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '',
      bytes: body.subarray(headerEnd + 4, next),
    });
    at = next === -1 ? -1 : next + 2;
  }
  return parts;
}

/** DICOM JSON as the relay answers it. */
export type DicomJson = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>;
