import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EcgFileAcceptedSchema, type EcgFileAccepted, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { EcgFileIntake } from './ecg-file-intake.js';

/**
 * The clinic's upload of files from hospital electrocardiographs (docs/ecg-upload.md): one
 * file as the raw request body; it becomes a recording and an ECG case of the clinic.
 */
@Roles('clinic_staff')
@Controller('api/ecg-files')
export class EcgFilesController {
  constructor(private readonly intake: EcgFileIntake) {}

  @ApiRoute({
    summary: 'Upload one ECG file (SCP-ECG, HL7 aECG, DICOM ECG waveform) as the request body',
    description:
      'Content-Type application/octet-stream (any type but JSON, form or multipart); the format ' +
      'is recognised by content. 201 created, 200 the same file again (its recording and case); ' +
      '413 over ECG_FILE_MAX_BYTES (checked on Content-Length before reading), 415 not an ECG ' +
      'file the relay reads, 422 a file of a known format it cannot read (the reason in message), ' +
      '409 another DICOM file under the same SOP Instance UID, 507 short of disk.',
    response: EcgFileAcceptedSchema,
  })
  @Post()
  @HttpCode(201)
  async upload(
    @CurrentUser() user: SessionUser,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<EcgFileAccepted> {
    const accepted = await this.intake.receive(user, request);
    if (accepted.outcome === 'already-received') response.status(200);
    return accepted;
  }
}
