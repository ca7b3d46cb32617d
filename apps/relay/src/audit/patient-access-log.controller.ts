import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { z } from 'zod';
import { PatientAccessEntrySchema, type PatientAccessEntry, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PatientAccessLog } from './patient-access-log.service.js';

/** "Who looked at my record", for the patient's registering clinic and administrators. */
@Roles('clinic_staff', 'admin')
@Controller('api/records/patients')
export class PatientAccessLogController {
  constructor(private readonly accessLog: PatientAccessLog) {}

  @ApiRoute({
    summary: "Who looked at the patient's record",
    description:
      "Every audited read or write of the patient's data, newest first (at most 500): when, " +
      'what, the outcome, and the name, role and facility of who acted. Staff of the clinic ' +
      'that registered the patient, and administrators; anyone else gets 404. The reading ' +
      'is audited as an access to the patient, and refused (503) when it cannot be.',
    response: z.array(PatientAccessEntrySchema),
  })
  @Get(':patientId/access-log')
  list(
    @CurrentUser() user: SessionUser,
    @Param('patientId', new ParseUUIDPipe({ version: undefined })) patientId: string,
  ): Promise<PatientAccessEntry[]> {
    return this.accessLog.forPatient(user, patientId);
  }
}
