import { Controller, Get, Header, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DicomUidSchema, type SessionUser } from '#contracts';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import type { DicomJson } from './dicom-json.js';
import { DicomwebService, type QueryParams } from './dicomweb.service.js';
import { StowReceiver } from './stow.js';

const DICOM_JSON = 'application/dicom+json';
const uid = new ContractPipe(DicomUidSchema);
/** Thumbnails are small; `rendered` is the viewport size a client would ask for first. */
const THUMBNAIL_SIZE = 128;
const RENDERED_SIZE = 512;

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

  @Roles('clinic_staff')
  @Post('studies')
  async store(
    @CurrentUser() user: SessionUser,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const result = await this.stow.receive(user, request, baseUrlOf(request));
    response.status(result.status).type(DICOM_JSON).send(JSON.stringify(result.body));
  }

  @Roles('clinic_staff')
  @Post('studies/:study')
  async storeInStudy(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Req() request: Request,
    @Res() response: Response,
  ) {
    const result = await this.stow.receive(user, request, baseUrlOf(request), study);
    response.status(result.status).type(DICOM_JSON).send(JSON.stringify(result.body));
  }

  @Get('studies')
  @Header('Content-Type', DICOM_JSON)
  searchStudies(
    @CurrentUser() user: SessionUser,
    @Query() query: QueryParams,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.searchStudies(user, query, baseUrlOf(request));
  }

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

  @Get('studies/:study')
  retrieveStudy(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.retrieve(user, { study }, response);
  }

  @Get('studies/:study/metadata')
  @Header('Content-Type', DICOM_JSON)
  studyMetadata(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Req() request: Request,
  ): Promise<DicomJson[]> {
    return this.dicomweb.metadata(user, { study }, baseUrlOf(request));
  }

  @Get('studies/:study/series/:series')
  retrieveSeries(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Res() response: Response,
  ): Promise<void> {
    return this.dicomweb.retrieve(user, { study, series }, response);
  }

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

  @Get('studies/:study/series/:series/instances/:sop/thumbnail')
  @Header('Content-Type', 'image/png')
  async thumbnail(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
  ): Promise<Buffer> {
    return Buffer.from(await this.dicomweb.rendered(user, { study, series, sop }, THUMBNAIL_SIZE));
  }

  @Get('studies/:study/series/:series/instances/:sop/rendered')
  @Header('Content-Type', 'image/png')
  async rendered(
    @CurrentUser() user: SessionUser,
    @Param('study', uid) study: string,
    @Param('series', uid) series: string,
    @Param('sop', uid) sop: string,
  ): Promise<Buffer> {
    return Buffer.from(await this.dicomweb.rendered(user, { study, series, sop }, RENDERED_SIZE));
  }
}
