import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  AccessGrantSchema,
  CaseEcgSchema,
  ConsentCodeRequestSchema,
  ConsentTicketSchema,
  ConsentVerifyRequestSchema,
  PatientHistorySchema,
  type AccessGrant,
  type CaseEcg,
  type ConsentTicket,
  type PatientHistory,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { ConsentService } from './consent.service.js';
import { SharedRecordService } from './shared-record.service.js';

const uuid = new ParseUUIDPipe({ version: undefined });

/**
 * Consent by verification code and the shared record (docs/consent.md). The patient's
 * number travels only in a request body; URLs carry the relay's own ids.
 */
@Controller('api/records')
export class ConsentController {
  constructor(
    private readonly consent: ConsentService,
    private readonly record: SharedRecordService,
  ) {}

  @ApiRoute({
    summary: "Ask for a patient's earlier record: a code goes to the patient",
    description:
      'The same answer whether or not the number belongs to a registered patient. ' +
      '429 TOO_MANY_ATTEMPTS past the daily request limits (docs/consent.md).',
    response: ConsentTicketSchema,
  })
  @Roles('reader', 'clinic_staff')
  @Post('consent-requests')
  requestCode(
    @CurrentUser() user: SessionUser,
    @Body({ schema: ConsentCodeRequestSchema, pipes: [new ContractPipe(ConsentCodeRequestSchema)] })
    body: z.output<typeof ConsentCodeRequestSchema>,
  ): Promise<ConsentTicket> {
    return this.consent.requestCode(user, body);
  }

  @ApiRoute({
    summary: 'Enter the code the patient read out; the right one grants time-limited access',
    description:
      '403 FORBIDDEN, one body for every refusal: wrong code, unknown number, expired, ' +
      "used, locked after 5 wrong codes, or another user's request.",
    response: AccessGrantSchema,
  })
  @Roles('reader', 'clinic_staff')
  @Post('consent-requests/:requestId/verify')
  @HttpCode(200)
  verify(
    @CurrentUser() user: SessionUser,
    @Param('requestId', uuid) requestId: string,
    @Body({
      schema: ConsentVerifyRequestSchema,
      pipes: [new ContractPipe(ConsentVerifyRequestSchema)],
    })
    body: z.output<typeof ConsentVerifyRequestSchema>,
  ): Promise<AccessGrant> {
    return this.consent.verifyCode(user, requestId, body.code);
  }

  @ApiRoute({
    summary: "A patient's exams across the region (treating hospital or a live grant)",
    description: '404 NOT_FOUND, like a missing patient, without a grant or a case of yours.',
    response: PatientHistorySchema,
  })
  @Roles('reader', 'clinic_staff')
  @Get('patients/:patientId/history')
  history(
    @CurrentUser() user: SessionUser,
    @Param('patientId', uuid) patientId: string,
  ): Promise<PatientHistory> {
    return this.record.history(user, patientId);
  }

  @ApiRoute({
    summary: "The history of a case's patient, for the case view's earlier exams",
    description: '404 NOT_FOUND when the case has no patient or the caller may not read it.',
    response: PatientHistorySchema,
  })
  @Roles('reader', 'clinic_staff')
  @Get('cases/:caseId/history')
  caseHistory(
    @CurrentUser() user: SessionUser,
    @Param('caseId', uuid) caseId: string,
  ): Promise<PatientHistory> {
    return this.record.historyOfCase(user, caseId);
  }

  @ApiRoute({
    summary: "The samples of one of a patient's ECGs, for serial comparison",
    response: CaseEcgSchema,
  })
  @Roles('reader', 'clinic_staff')
  @Get('patients/:patientId/cases/:caseId/ecg')
  ecg(
    @CurrentUser() user: SessionUser,
    @Param('patientId', uuid) patientId: string,
    @Param('caseId', uuid) caseId: string,
  ): Promise<CaseEcg> {
    return this.record.ecgOf(user, patientId, caseId);
  }

  @ApiRoute({
    summary: "Who was granted access to a patient's record (the registering clinic, admins)",
    response: z.array(AccessGrantSchema),
  })
  @Roles('clinic_staff', 'admin')
  @Get('patients/:patientId/grants')
  grants(
    @CurrentUser() user: SessionUser,
    @Param('patientId', uuid) patientId: string,
  ): Promise<AccessGrant[]> {
    return this.consent.grantsOf(user, patientId);
  }

  @ApiRoute({
    summary: 'Revoke a grant before it runs out (the patient, through the registering clinic)',
    description:
      "From the answer on, the grantee's reads are refused as without a grant (404). Staff " +
      'of the clinic that registered the patient; 404 to anyone else, and for a grant of ' +
      'another patient. A grant already revoked is answered unchanged; 409 CONFLICT for one ' +
      "that has run out. Audited as `consent.revoke` in the patient's access log.",
    response: AccessGrantSchema,
  })
  @Roles('clinic_staff')
  @Post('patients/:patientId/grants/:grantId/revoke')
  @HttpCode(200)
  revoke(
    @CurrentUser() user: SessionUser,
    @Param('patientId', uuid) patientId: string,
    @Param('grantId', uuid) grantId: string,
  ): Promise<AccessGrant> {
    return this.consent.revokeGrant(user, patientId, grantId);
  }
}
