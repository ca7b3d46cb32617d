import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import * as Multipasta from 'multipasta/node';
import type { SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import type { DicomJson } from './dicom-json.js';
import { ImagingIntake, type StoreOutcome } from './imaging-intake.js';

/** PS3.7 C.4.2 "Refused: Out of Resources". */
const OUT_OF_RESOURCES = 0xa700;
/** PS3.7 C.4.2 "Error: Cannot understand". */
const CANNOT_UNDERSTAND = 0xc000;

/**
 * How much of a part may wait to be written to its scratch file. The default (16 KiB) is
 * less than one socket read, so each read paused the request until a write came back from
 * libuv's threads; with this the part flows in and the file is written in a few writev calls.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export interface StowResult {
  status: 200 | 202 | 409;
  body: DicomJson;
}

interface Failure {
  sopClassUid?: string;
  sopInstanceUid?: string;
  failureReason: number;
  reason: string;
}

/**
 * STOW-RS (PS3.18 §10.5): a multipart/related request of application/dicom parts, each read
 * as it arrives (multipasta, with back-pressure) into memory up to
 * DICOM_IN_MEMORY_INSTANCE_BYTES and
 * into a scratch file beyond, then stored through ImagingIntake before the next part is read.
 * The request is never held whole in memory, nor is a part larger than that. Sizes are
 * checked before reading where the headers allow.
 */
@Injectable()
export class StowReceiver {
  constructor(
    private readonly intake: ImagingIntake,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  async receive(
    user: SessionUser,
    request: IncomingMessage,
    baseUrl: string,
    studyInstanceUid?: string,
  ): Promise<StowResult> {
    const { maxRequestBytes, maxInstanceBytes } = this.config.imaging;
    const contentType = request.headers['content-type'] ?? '';
    if (!isDicomMultipart(contentType)) {
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'STOW-RS takes multipart/related; type="application/dicom"',
      );
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxRequestBytes) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `The request is larger than ${maxRequestBytes} bytes`,
      );
    }
    if (!(await this.intake.hasRoomFor(Number.isFinite(declared) ? declared : maxInstanceBytes))) {
      throw new DomainError('INSUFFICIENT_STORAGE', 'The relay is short of disk space; send later');
    }

    const referenced: DicomJson[] = [];
    const failed: Failure[] = [];
    const parts = Multipasta.make({
      headers: request.headers,
      isFile: () => true,
      maxTotalSize: maxRequestBytes,
      // The per-part limit is ours (below), so one large part fails alone.
      maxPartSize: Number.MAX_SAFE_INTEGER,
    });
    const source = { via: 'stow' as const, clinicId: user.facilityId, actor: `user:${user.id}` };
    let parseError: Multipasta.MultipartError | undefined;
    parts.on('error', (error: Multipasta.MultipartError) => {
      parseError = error;
    });
    // pipe() passes on no abort: a client that drops the line mid-part must end the part being
    // written (its scratch file is then deleted) and the parser, or both would wait forever.
    let current: Readable | undefined;
    request.once('close', () => {
      if (request.complete) return;
      const cutOff = new Error('the request was cut off');
      current?.destroy(cutOff);
      parts.destroy(cutOff);
    });
    request.pipe(parts);
    for await (const part of parts as AsyncIterable<Multipasta.Part>) {
      if (part._tag !== 'File') continue;
      current = part;
      // A cut destroys `current` with an error (above). While the part is piped, the
      // pipeline listens for it; but the part stays `current` before its pipeline starts,
      // while it is skipped, and after it is stored, until the next one arrives: an 'error'
      // nobody listens to there would end the whole relay. The loop still fails, through
      // the parser destroyed with the same error.
      part.on('error', () => undefined);
      const mediaType = part.info.contentType.toLowerCase();
      if (mediaType !== 'application/dicom') {
        part.resume();
        failed.push({
          failureReason: CANNOT_UNDERSTAND,
          reason: `a part of type ${mediaType} is not DICOM`,
        });
        continue;
      }
      if (!(await this.intake.hasRoomFor(maxInstanceBytes))) {
        part.resume();
        failed.push({
          failureReason: OUT_OF_RESOURCES,
          reason: 'the relay is short of disk space',
        });
        continue;
      }
      const received = await this.receivePart(part, maxInstanceBytes);
      if (received.kind === 'too-large') {
        failed.push({
          failureReason: OUT_OF_RESOURCES,
          reason: `the instance is larger than ${maxInstanceBytes} bytes`,
        });
        continue;
      }
      const outcome =
        received.kind === 'memory'
          ? await this.intake.storeBytes(received.bytes, source, { studyInstanceUid })
          : await this.intake.storeFile(received.path, source, { studyInstanceUid });
      record(outcome, baseUrl, referenced, failed);
    }
    if (parseError) {
      throw new DomainError(
        'INVALID_INPUT',
        `The multipart body cannot be read (${parseError._tag})`,
      );
    }
    if (referenced.length === 0 && failed.length === 0) {
      throw new DomainError('INVALID_INPUT', 'The request holds no DICOM instance');
    }
    const body: DicomJson = {};
    if (studyInstanceUid) {
      body['00081190'] = { vr: 'UR', Value: [`${baseUrl}/dicomweb/studies/${studyInstanceUid}`] };
    }
    if (referenced.length) {
      body['00081199'] = { vr: 'SQ', Value: referenced as never[] };
    }
    if (failed.length) {
      body['00081198'] = {
        vr: 'SQ',
        Value: failed.map((f) => failedItem(f)) as never[],
      };
    }
    // PS3.18 §10.5.3: all stored 200, some 202, none 409.
    const status = failed.length === 0 ? 200 : referenced.length > 0 ? 202 : 409;
    return { status, body };
  }
  /**
   * Reads one part: into memory while it is at most DICOM_IN_MEMORY_INSTANCE_BYTES, then (a
   * larger image) on into a scratch file, with back-pressure. In memory, it is handed to the
   * parser thread as bytes: no scratch file is streamed to and read back, and receiving waits
   * on no write (under concurrent uploads those writes queued behind fsyncs on libuv's pool).
   * One part at a time per request, so a request's memory does not grow with its size. A part
   * past `maxBytes` is read to its end without being kept, so it fails alone and the parts
   * after it are still read.
   */
  private async receivePart(part: Readable, maxBytes: number): Promise<ReceivedPart> {
    const chunks: Buffer[] = [];
    let size = 0;
    let file: { path: string; stream: WriteStream } | undefined;
    try {
      for await (const chunk of part as AsyncIterable<Buffer>) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          chunks.length = 0;
          continue;
        }
        if (!file && size <= this.config.imaging.inMemoryInstanceBytes) {
          chunks.push(chunk);
          continue;
        }
        if (!file) {
          const path = await this.intake.scratchPath();
          file = {
            path,
            stream: createWriteStream(path, { highWaterMark: WRITE_BUFFER_BYTES }),
          };
          for (const held of chunks.splice(0)) file.stream.write(held);
        }
        // events.once rejects on the stream's 'error', so a failed write ends the loop.
        if (!file.stream.write(chunk)) await once(file.stream, 'drain');
      }
      if (file) {
        file.stream.end();
        await finished(file.stream);
      }
    } catch (error) {
      if (file) {
        file.stream.destroy();
        await rm(file.path, { force: true });
      }
      throw error;
    }
    if (size > maxBytes) {
      if (file) await rm(file.path, { force: true });
      return { kind: 'too-large' };
    }
    if (file) return { kind: 'file', path: file.path };
    return {
      kind: 'memory',
      bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
    };
  }
}

/** A part as received: in memory, in a scratch file, or dropped for its size. */
type ReceivedPart =
  { kind: 'memory'; bytes: Buffer } | { kind: 'file'; path: string } | { kind: 'too-large' };

function record(
  outcome: StoreOutcome,
  baseUrl: string,
  referenced: DicomJson[],
  failed: Failure[],
) {
  switch (outcome.outcome) {
    case 'stored':
    case 'already-stored':
      referenced.push({
        '00081150': { vr: 'UI', Value: [outcome.sopClassUid] },
        '00081155': { vr: 'UI', Value: [outcome.sopInstanceUid] },
        '00081190': { vr: 'UR', Value: [`${baseUrl}${outcome.retrieveUrl}`] },
      });
      return;
    case 'conflict':
      failed.push({
        sopClassUid: outcome.sopClassUid,
        sopInstanceUid: outcome.sopInstanceUid,
        failureReason: 0x0111,
        reason: outcome.reason,
      });
      return;
    case 'refused':
      failed.push({ ...outcome.refusal });
  }
}

/**
 * One item of FailedSOPSequence. The reason in words goes in TextValue (0040A160), beside
 * the coded FailureReason, so a clinic's upload page can show why.
 */
function failedItem(failure: Failure): DicomJson {
  const item: DicomJson = {
    '00081197': { vr: 'US', Value: [failure.failureReason] },
    '0040A160': { vr: 'UT', Value: [failure.reason] },
  };
  if (failure.sopClassUid) item['00081150'] = { vr: 'UI', Value: [failure.sopClassUid] };
  if (failure.sopInstanceUid) item['00081155'] = { vr: 'UI', Value: [failure.sopInstanceUid] };
  return item;
}

/** multipart/related with type application/dicom (PS3.18 §10.5.1.2), quoted or not. */
export function isDicomMultipart(contentType: string): boolean {
  const [mediaType, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (mediaType !== 'multipart/related') return false;
  const type = params.find((p) => p.startsWith('type='));
  return type === undefined || type.slice(5).replace(/"/g, '') === 'application/dicom';
}
