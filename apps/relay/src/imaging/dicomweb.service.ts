import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { frameOf, renderThumbnail, type InspectedInstance } from '#dicom';
import type { SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/tokens.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import type { Logger } from '../infra/logging/logger.js';
import {
  frameMediaType,
  instanceJson,
  metadataJson,
  seriesJson,
  studyJson,
  withIncludedFields,
  type DicomJson,
} from './dicom-json.js';
import { instancePath } from './imaging-intake.js';
import { ImagingRepository, type StudyQuery, type StudyRow } from './imaging.repository.js';
import { studyScope } from './study-scope.js';

/** Explicit VR Little Endian (PS3.5 A.2): the byte order of every native frame frameOf gives. */
const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** QIDO-RS query parameters as they arrive (a key may repeat). */
export type QueryParams = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;
const all = (value: string | string[] | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** A query key by keyword or by tag (PS3.18 §8.3.4.1: `PatientID` or `00100020`). */
function key(params: QueryParams, keyword: string, tag: string): string | undefined {
  const value = first(params[keyword]) ?? first(params[tag]) ?? first(params[tag.toLowerCase()]);
  if (value?.includes('\u0000')) throw new DomainError('INVALID_INPUT', `${keyword} is not text`);
  return value === undefined || value === '' ? undefined : value;
}

function paging(params: QueryParams): { limit: number; offset: number } {
  const limit = Number(first(params['limit']) ?? 100);
  const offset = Number(first(params['offset']) ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
    throw new DomainError('INVALID_INPUT', 'limit must be a positive integer, offset 0 or more');
  }
  return { limit: Math.min(limit, 1000), offset };
}

const DA = /^\d{8}$/;

/** StudyDate as a single date or a range (PS3.4 C.2.2.2.5): `YYYYMMDD`, `A-B`, `A-`, `-B`. */
function dateRange(value: string | undefined): { from?: string; to?: string } {
  if (value === undefined) return {};
  const [from, to] = value.includes('-') ? value.split('-') : [value, value];
  if ((from && !DA.test(from)) || (to && !DA.test(to))) {
    throw new DomainError(
      'INVALID_INPUT',
      'StudyDate must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD',
    );
  }
  return { from: from || undefined, to: to || undefined };
}

/** One part of a multipart/related response. */
interface Part {
  contentType: string;
  location?: string;
  write: (response: ServerResponse) => Promise<void>;
}

/**
 * QIDO-RS and WADO-RS over the stored studies, each scoped to what the user may reach
 * (study-scope.ts). A study out of scope answers exactly like a missing one.
 */
@Injectable()
export class DicomwebService {
  constructor(
    private readonly repository: ImagingRepository,
    private readonly blobs: BlobStore,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async searchStudies(
    user: SessionUser,
    params: QueryParams,
    baseUrl: string,
  ): Promise<DicomJson[]> {
    const dates = dateRange(key(params, 'StudyDate', '00080020'));
    const query: StudyQuery = {
      studyInstanceUids: all(params['StudyInstanceUID'] ?? params['0020000D']),
      patientId: key(params, 'PatientID', '00100020'),
      patientName: key(params, 'PatientName', '00100010'),
      accessionNumber: key(params, 'AccessionNumber', '00080050'),
      modality: key(params, 'ModalitiesInStudy', '00080061'),
      studyDateFrom: dates.from,
      studyDateTo: dates.to,
      ...paging(params),
    };
    const rows = await this.repository.findStudies(studyScope(user), query);
    const include = all(params['includefield']);
    return rows.map((study) =>
      withIncludedFields(
        studyJson(study, `${baseUrl}/dicomweb/studies/${study.studyInstanceUid}`),
        {},
        include,
      ),
    );
  }

  async searchSeries(
    user: SessionUser,
    studyUid: string,
    params: QueryParams,
    baseUrl: string,
  ): Promise<DicomJson[]> {
    const study = await this.study(user, studyUid);
    const rows = await this.repository.findSeries(study.id, {
      seriesInstanceUid: key(params, 'SeriesInstanceUID', '0020000E'),
      modality: key(params, 'Modality', '00080060'),
      ...paging(params),
    });
    const include = all(params['includefield']);
    return rows.map((series) =>
      withIncludedFields(
        seriesJson(
          series,
          `${baseUrl}/dicomweb/studies/${studyUid}/series/${series.seriesInstanceUid}`,
        ),
        studyJson(study, `${baseUrl}/dicomweb/studies/${studyUid}`),
        include,
      ),
    );
  }

  async searchInstances(
    user: SessionUser,
    studyUid: string,
    seriesUid: string | undefined,
    params: QueryParams,
    baseUrl: string,
  ): Promise<DicomJson[]> {
    const study = await this.study(user, studyUid);
    const rows = await this.repository.findInstances(study.id, {
      seriesInstanceUid: seriesUid ?? key(params, 'SeriesInstanceUID', '0020000E'),
      sopInstanceUid: key(params, 'SOPInstanceUID', '00080018'),
      ...paging(params),
    });
    const include = all(params['includefield']);
    return rows.map(({ instance, series }) => {
      const url = `${baseUrl}${instancePath(studyUid, series.seriesInstanceUid, instance.sopInstanceUid)}`;
      return withIncludedFields(
        {
          ...instanceJson(instance, url),
          '0020000E': { vr: 'UI', Value: [series.seriesInstanceUid] },
          '00080060': series.modality ? { vr: 'CS', Value: [series.modality] } : { vr: 'CS' },
        },
        { ...metadataJson(instance, study, series, url), ...seriesJson(series, '') },
        include,
      );
    });
  }

  /** WADO-RS metadata of a study, series or instance (PS3.18 §10.4.1.1.2). */
  async metadata(
    user: SessionUser,
    target: { study: string; series?: string; sop?: string },
    baseUrl: string,
  ): Promise<DicomJson[]> {
    const study = await this.study(user, target.study);
    const rows = await this.instances(study, target);
    return rows.map(({ instance, series }) =>
      metadataJson(
        instance,
        study,
        series,
        `${baseUrl}${instancePath(target.study, series.seriesInstanceUid, instance.sopInstanceUid)}`,
      ),
    );
  }

  /** WADO-RS instances as multipart/related; type="application/dicom", streamed from blobs. */
  async retrieve(
    user: SessionUser,
    target: { study: string; series?: string; sop?: string },
    response: ServerResponse,
  ): Promise<void> {
    const study = await this.study(user, target.study);
    const rows = await this.instances(study, target);
    await this.sendMultipart(
      response,
      'application/dicom',
      rows.map(({ instance }) => ({
        contentType: `application/dicom; transfer-syntax=${instance.transferSyntaxUid}`,
        write: (res) => pipeline(this.blobs.stream(instance.sha256), res, { end: false }),
      })),
    );
  }

  /** WADO-RS frames (PS3.18 §10.4.1.1.3): native as octets, encapsulated as stored. */
  async frames(
    user: SessionUser,
    target: { study: string; series: string; sop: string },
    frameList: string,
    response: ServerResponse,
  ): Promise<void> {
    const numbers = frameList.split(',').map((n) => Number(n.trim()));
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new DomainError(
        'INVALID_INPUT',
        'Frame numbers are positive integers, comma-separated',
      );
    }
    const { row, bytes, inspected } = await this.loadInstance(user, target);
    if (!row.pixelData) throw new DomainError('NOT_FOUND', 'This instance has no pixel data');
    if (numbers.some((n) => n > row.frames)) {
      throw new DomainError('NOT_FOUND', `This instance has ${row.frames} frame(s)`);
    }
    const mediaType = row.pixelData.encapsulated
      ? frameMediaType(row.transferSyntaxUid)
      : 'application/octet-stream';
    const frames = numbers.map((n) => frameOf(bytes, inspected, n));
    // frameOf gives a native frame little endian whatever the file's syntax (big endian and
    // deflated files included), so that is what the part says; a viewer that trusted the
    // stored syntax would swap a big endian file's bytes twice.
    const frameSyntax = row.pixelData.encapsulated ? row.transferSyntaxUid : EXPLICIT_LITTLE_ENDIAN;
    await this.sendMultipart(
      response,
      mediaType,
      frames.map((frame) => ({
        contentType: `${mediaType}; transfer-syntax=${frameSyntax}`,
        write: async (res) => {
          res.write(frame);
        },
      })),
    );
  }

  /** WADO-RS rendered / thumbnail as PNG; null when libs/dicom cannot decode the syntax. */
  async rendered(
    user: SessionUser,
    target: { study: string; series: string; sop: string },
    size: number,
  ): Promise<Uint8Array> {
    const { bytes, inspected } = await this.loadInstance(user, target);
    const png = inspected.image ? renderThumbnail(bytes, inspected, size) : null;
    if (!png) {
      throw new DomainError('NOT_ACCEPTABLE', 'This instance cannot be rendered by the relay');
    }
    return png;
  }

  private async study(user: SessionUser, studyUid: string): Promise<StudyRow> {
    const study = await this.repository.visibleStudy(studyScope(user), studyUid);
    if (!study) {
      throw new DomainError('NOT_FOUND', 'No such study', {
        subject: `study:${studyUid}`,
        detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
      });
    }
    return study;
  }

  private async instances(study: StudyRow, target: { series?: string; sop?: string }) {
    const rows = await this.repository.findInstances(study.id, {
      seriesInstanceUid: target.series,
      sopInstanceUid: target.sop,
    });
    if (rows.length === 0) throw new DomainError('NOT_FOUND', 'No such series or instance');
    return rows;
  }

  private async loadInstance(
    user: SessionUser,
    target: { study: string; series: string; sop: string },
  ) {
    const study = await this.study(user, target.study);
    const [found] = await this.instances(study, target);
    if (!found) throw new DomainError('NOT_FOUND', 'No such instance');
    const row = found.instance;
    // One instance is bounded by DICOM_MAX_INSTANCE_BYTES; frames need random access to it.
    const bytes = await this.blobs.get(row.sha256);
    const inspected = {
      sopClassUid: row.sopClassUid,
      sopInstanceUid: row.sopInstanceUid,
      studyInstanceUid: target.study,
      seriesInstanceUid: target.series,
      transferSyntaxUid: row.transferSyntaxUid,
      image: row.image,
      pixelData: row.pixelData,
      json: {},
      warnings: [],
    } as unknown as InspectedInstance;
    return { row, bytes, inspected };
  }

  private async sendMultipart(
    response: ServerResponse,
    type: string,
    parts: Part[],
  ): Promise<void> {
    const boundary = randomUUID();
    response.statusCode = 200;
    response.setHeader('Content-Type', `multipart/related; type="${type}"; boundary=${boundary}`);
    try {
      for (const part of parts) {
        response.write(`\r\n--${boundary}\r\nContent-Type: ${part.contentType}\r\n\r\n`);
        await part.write(response);
      }
      response.end(`\r\n--${boundary}--\r\n`);
    } catch (error) {
      // Headers are gone: the client sees a cut-off body, never a half-right one.
      this.log.warn({ err: (error as Error).message }, 'wado-rs response cut off');
      response.destroy();
    }
  }
}
