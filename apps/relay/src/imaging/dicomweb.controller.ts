import { Controller, Get, Header, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { z } from 'zod';
import type { Request, Response } from 'express';
import { DicomJsonDatasetSchema, DicomUidSchema, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import type { DicomJson } from './dicom-json.js';
import { DicomwebService, type QueryParams } from './dicomweb.service.js';
import { StowReceiver, type StowResult } from './stow.js';

const DICOM_JSON = 'application/dicom+json';
const uid = new ContractPipe(DicomUidSchema);
const datasets = z.array(DicomJsonDatasetSchema);
/** Thumbnails are small; `rendered` is the viewport size a client would ask for first. */
const THUMBNAIL_SIZE = 128;
const RENDERED_SIZE = 512;

/**
 * The STOW-RS answer written as it is: express's send() would look up the media type and
 * hash the body for an ETag, neither of use on a POST answer, on the relay's busiest thread.
 */
function answerStow(response: Response, result: StowResult): void {
  response.statusCode = result.status;
  response.setHeader('Content-Type', DICOM_JSON);
  response.end(JSON.stringify(result.body));
}

const baseUrlOf = (request: Request) =>
  `${request.protocol}://${request.get('host') ?? 'localhost'}`;

/**
 * DICOMweb (PS3.18) at /dicomweb: STOW-RS, QIDO-RS, WADO-RS. Same bearer login as /api.
 * Clinic staff store and read their clinic's studies, readers read the studies of the cases
 * their hospital holds; admin and the health authority have no image access (docs/imaging.md).
 */
@Roles('clinic_staff', 'reader')
@Controller('dicomweb')
export class DicomwebController {
  constructor(
    private readonly stow: StowReceiver,
    private readonly dicomweb: DicomwebService,
  ) {}

  @ApiRoute({
    summary: 'STOW-RS: store instances (multipart/related; type="application/dicom")',
    description:
      '200 all stored, 202 some failed, 409 none stored (application/dicom+json ReferencedSOPSequence / FailedSOPSequence); 413, 415, 507 before reading.',
    response: null,
  })
  @Roles('clinic_staff')
  @Post('studies')
  @HttpCode(200)
  async store(
    @CurrentUser() user: SessionUser,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const result = await this.stow.receive(user, request, baseUrlOf(request));
    answerStow(response, result);
  }

  @ApiRoute({
    summary: 'STOW-RS into one study; instances of another study fail (0xA900)',
    description: 'As POST /dicomweb/studies.',
    response: null,
  })
  @Roles('clinic_staff')
  @Post('studies/:study')
  @HttpCode(200)
  async storeInStudy(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const result = await this.stow.receive(user, request, baseUrlOf(request), study);
    answerStow(response, result);
  }

  @ApiRoute({
    summary: 'QIDO-RS: search studies',
    description:
      'Keys: PatientID, PatientName, StudyDate (YYYYMMDD or range), ModalitiesInStudy, AccessionNumber, StudyInstanceUID; limit, offset, includefield.',
    response: datasets,
  })
  @Get('studies')
  @Header('Content-Type', DICOM_JSON)
  searchStudies(
    @CurrentUser() user: SessionUser,
    @Query() query: QueryParams,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.searchStudies(user, query, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'QIDO-RS: search the series of a study',
    response: datasets,
  })
  @Get('studies/:study/series')
  @Header('Content-Type', DICOM_JSON)
  searchSeries(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Query() query: QueryParams,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.searchSeries(user, study, query, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'QIDO-RS: search the instances of a study',
    response: datasets,
  })
  @Get('studies/:study/instances')
  @Header('Content-Type', DICOM_JSON)
  searchStudyInstances(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Query() query: QueryParams,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.searchInstances(user, study, undefined, query, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'QIDO-RS: search the instances of a series',
    response: datasets,
  })
  @Get('studies/:study/series/:series/instances')
  @Header('Content-Type', DICOM_JSON)
  searchSeriesInstances(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Query() query: QueryParams,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.searchInstances(user, study, series, query, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'WADO-RS: a study\'s instances (multipart/related; type="application/dicom")',
    response: null,
  })
  @Get('studies/:study')
  retrieveStudy(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.retrieve(user, { study }, response);
  }

  @ApiRoute({
    summary: "WADO-RS: a study's metadata (DICOM JSON, Pixel Data as BulkDataURI)",
    response: datasets,
  })
  @Get('studies/:study/metadata')
  @Header('Content-Type', DICOM_JSON)
  studyMetadata(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.metadata(user, { study }, baseUrlOf(request));
  }

  @ApiRoute({
    summary: "WADO-RS: a series' instances",
    response: null,
  })
  @Get('studies/:study/series/:series')
  retrieveSeries(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.retrieve(user, { study, series }, response);
  }

  @ApiRoute({
    summary: "WADO-RS: a series' metadata",
    response: datasets,
  })
  @Get('studies/:study/series/:series/metadata')
  @Header('Content-Type', DICOM_JSON)
  seriesMetadata(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.metadata(user, { study, series }, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'WADO-RS: one instance',
    response: null,
  })
  @Get('studies/:study/series/:series/instances/:sop')
  retrieveInstance(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.retrieve(user, { study, series, sop }, response);
  }

  @ApiRoute({
    summary: "WADO-RS: one instance's metadata",
    response: datasets,
  })
  @Get('studies/:study/series/:series/instances/:sop/metadata')
  @Header('Content-Type', DICOM_JSON)
  instanceMetadata(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.metadata(user, { study, series, sop }, baseUrlOf(request));
  }

  @ApiRoute({
    summary: 'WADO-RS: frames (native as application/octet-stream, compressed as stored)',
    response: null,
  })
  @Get('studies/:study/series/:series/instances/:sop/frames/:frames')
  frames(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
    @Param('frames') frames: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.frames(user, { study, series, sop }, frames, response);
  }

  @ApiRoute({
    summary: 'WADO-RS: a thumbnail (image/png); 406 when the relay cannot render the instance',
    response: null,
  })
  @Get('studies/:study/series/:series/instances/:sop/thumbnail')
  async thumbnail(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
    @Res() response: Response,
  ): Promise<void> {
    const png = await this.dicomweb.rendered(user, { study, series, sop }, THUMBNAIL_SIZE);
    response.type('image/png').send(Buffer.from(png));
  }

  @ApiRoute({
    summary: 'WADO-RS: the instance rendered (image/png); 406 when it cannot be rendered',
    response: null,
  })
  @Get('studies/:study/series/:series/instances/:sop/rendered')
  async rendered(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
    @Res() response: Response,
  ): Promise<void> {
    const png = await this.dicomweb.rendered(user, { study, series, sop }, RENDERED_SIZE);
    response.type('image/png').send(Buffer.from(png));
  }
}
