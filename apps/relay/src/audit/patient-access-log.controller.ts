import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import {
  PatientAccessPageSchema,
  PatientAccessQuerySchema,
  type PatientAccessPage,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
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
      "Every audited read or write of the patient's data, newest first, a page at a time " +
      '(query: limit 1–500, default 50; before, the nextBefore of the previous page): when, ' +
      'what, the outcome, and the name, role and facility of who acted. Staff of the clinic ' +
      'that registered the patient, and administrators; anyone else gets 404. The reading ' +
      'is audited as an access to the patient, and refused (503) when it cannot be.',
    response: PatientAccessPageSchema,
  })
  @Get(':patientId/access-log')
  list(
    @CurrentUser() user: SessionUser,
    @Param('patientId', new ParseUUIDPipe({ version: undefined })) patientId: string,
    @Query() query: unknown,
  ): Promise<PatientAccessPage> {
    return this.accessLog.forPatient(user, patientId, parseInput(PatientAccessQuerySchema, query));
  }
}
