import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import type { CaseEcg, CaseSummary, Diagnosis, SessionUser } from '#contracts';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { WorklistService } from './worklist.service.js';

const caseId = new ParseUUIDPipe({ version: undefined });

@Controller('api')
export class WorklistController {
  constructor(private readonly worklist: WorklistService) {}

  /** Readers: their hospital's open cases by urgency; clinic staff: their clinic's cases. */
  @Get('worklist')
  list(@CurrentUser() user: SessionUser): Promise<CaseSummary[]> {
    return this.worklist.worklist(user);
  }

  @Get('cases/:id')
  get(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string) {
    return this.worklist.getCase(user, id);
  }

  @Get('cases/:id/ecg')
  ecg(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseEcg> {
    return this.worklist.ecgOf(user, id);
  }

  @Roles('reader')
  @Post('cases/:id/claim')
  @HttpCode(200)
  claim(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseSummary> {
    return this.worklist.claim(user, id);
  }

  /** The console calls this every 30 s while the reader has the case open. */
  @Roles('reader')
  @Post('cases/:id/lease')
  @HttpCode(200)
  keep(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
  ): Promise<{ leaseExpiresAt: string }> {
    return this.worklist.keepClaim(user, id);
  }

  @Roles('reader')
  @Post('cases/:id/release')
  @HttpCode(200)
  release(@CurrentUser() user: SessionUser, @Param('id', caseId) id: string): Promise<CaseSummary> {
    return this.worklist.release(user, id);
  }

  /** The reader holding the case sends it to the tertiary hospital above, with a note. */
  @Roles('reader')
  @Post('cases/:id/escalate')
  @HttpCode(200)
  escalate(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body() body: unknown,
  ): Promise<CaseSummary> {
    return this.worklist.escalate(user, id, body);
  }

  /** The reader holding the case sends it back to the clinic, with the reason. */
  @Roles('reader')
  @Post('cases/:id/return')
  @HttpCode(200)
  returnToClinic(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body() body: unknown,
  ): Promise<CaseSummary> {
    return this.worklist.returnCase(user, id, body);
  }

  @Roles('reader')
  @Post('cases/:id/sign')
  @HttpCode(200)
  sign(
    @CurrentUser() user: SessionUser,
    @Param('id', caseId) id: string,
    @Body() body: unknown,
  ): Promise<Diagnosis> {
    return this.worklist.sign(user, id, body);
  }
}
