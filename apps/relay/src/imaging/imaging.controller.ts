import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  CompleteStudySchema,
  DicomUidSchema,
  ImagingStudySchema,
  type ImagingStudy,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { ImagingCases } from './imaging-cases.js';

/** The clinic's side of imaging in the console: its studies, and "this study is complete". */
@Roles('clinic_staff')
@Controller('api/imaging')
export class ImagingController {
  constructor(private readonly imagingCases: ImagingCases) {}

  @ApiRoute({
    summary: "The clinic's DICOM studies, newest first, with their counts and case",
    response: z.array(ImagingStudySchema),
  })
  @Get('studies')
  list(@CurrentUser() user: SessionUser): Promise<ImagingStudy[]> {
    return this.imagingCases.clinicStudies(user);
  }

  @ApiRoute({
    summary: 'Mark a study complete: it becomes an imaging case on the county worklist',
    description:
      'Idempotent: a study whose case exists answers that case. priority: routine (default), urgent or stat.',
    response: ImagingStudySchema,
  })
  @Post('studies/:study/complete')
  @HttpCode(200)
  complete(
    @CurrentUser() user: SessionUser,
    @Param('study', new ContractPipe(DicomUidSchema)) study: string,
    @Body({ schema: CompleteStudySchema, pipes: [new ContractPipe(CompleteStudySchema)] })
    body: z.output<typeof CompleteStudySchema>,
  ): Promise<ImagingStudy> {
    return this.imagingCases.complete(user, study, body.priority);
  }
}
