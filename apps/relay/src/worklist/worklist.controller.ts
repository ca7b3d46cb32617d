import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  CaseDetailSchema,
  CaseEcgSchema,
  CaseSummarySchema,
  ClaimLeaseSchema,
  DiagnosisSchema,
  EscalateCaseSchema,
  ReturnCaseSchema,
  SignDiagnosisSchema,
  type CaseEcg,
  type CaseSummary,
  type ClaimLease,
  type Diagnosis,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { WorklistQueries } from './worklist-queries.js';
import { WorklistService } from './worklist.service.js';

const caseId = new ParseUUIDPipe({ version: undefined });

@Controller('api')
export class WorklistController {
  constructor(
    private readonly worklist: WorklistService,
    private readonly queries: WorklistQueries,
  ) {}

  /** Readers: their hospital's open cases by urgency; clinic staff: their clinic's cases. */
  @ApiRoute({
    summary: 'The worklist: open cases by urgency',
    response: z.array(CaseSummarySchema),
  })
  @Get('worklist')
  list(@CurrentUser() user: SessionUser): Promise<CaseSummary[]> {
    return this.queries.worklist(user);
  }

  @ApiRoute({ summary: 'One case with its analysis and diagnosis', response: CaseDetailSchema })
  @Get('cases/:id')
  get(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string) {
    return this.queries.getCase(user, id);
  }

  @ApiRoute({ summary: "The samples of a case's ECG", response: CaseEcgSchema })
  @Get('cases/:id/ecg')
  ecg(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseEcg> {
    return this.queries.ecgOf(user, id);
  }

  @ApiRoute({
    summary: 'Claim a case for review (a lease, kept alive by /lease)',
    description: '409 CONFLICT when another reader holds it or it is no longer waiting.',
    response: CaseSummarySchema,
  })
  @Roles('reader')
  @Post('cases/:id/claim')
  @HttpCode(200)
  claim(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseSummary> {
    return this.worklist.claim(user, id);
  }

  /** The console calls this every 30 s while the reader has the case open. */
  @ApiRoute({ summary: 'Keep a claim alive', response: ClaimLeaseSchema })
  @Roles('reader')
  @Post('cases/:id/lease')
  @HttpCode(200)
  keep(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<ClaimLease> {
    return this.worklist.keepClaim(user, id);
  }

  @ApiRoute({ summary: 'Give a claimed case back to the worklist', response: CaseSummarySchema })
  @Roles('reader')
  @Post('cases/:id/release')
  @HttpCode(200)
  release(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseSummary> {
    return this.worklist.release(user, id);
  }

  /** The reader holding the case sends it to the tertiary hospital above, with a note. */
  @ApiRoute({
    summary: 'Escalate a claimed case to the hospital above, with a note',
    description: '409 CONFLICT when there is no hospital above or the case is not held.',
    response: CaseSummarySchema,
  })
  @Roles('reader')
  @Post('cases/:id/escalate')
  @HttpCode(200)
  escalate(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body({ schema: EscalateCaseSchema, pipes: [new ContractPipe(EscalateCaseSchema)] })
    body: z.output<typeof EscalateCaseSchema>,
  ): Promise<CaseSummary> {
    return this.worklist.escalate(user, id, body);
  }

  /** The reader holding the case sends it back to the clinic, with the reason. */
  @ApiRoute({
    summary: 'Return a claimed case to the clinic, with the reason',
    description: '409 CONFLICT when the case is not held by the caller.',
    response: CaseSummarySchema,
  })
  @Roles('reader')
  @Post('cases/:id/return')
  @HttpCode(200)
  returnToClinic(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body({ schema: ReturnCaseSchema, pipes: [new ContractPipe(ReturnCaseSchema)] })
    body: z.output<typeof ReturnCaseSchema>,
  ): Promise<CaseSummary> {
    return this.worklist.returnCase(user, id, body);
  }

  @ApiRoute({
    summary: 'Sign the diagnosis of a claimed case; it is owed to the clinic from now on',
    response: DiagnosisSchema,
  })
  @Roles('reader')
  @Post('cases/:id/sign')
  @HttpCode(200)
  sign(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body({ schema: SignDiagnosisSchema, pipes: [new ContractPipe(SignDiagnosisSchema)] })
    body: z.output<typeof SignDiagnosisSchema>,
  ): Promise<Diagnosis> {
    return this.worklist.sign(user, id, body);
  }
}
