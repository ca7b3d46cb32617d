import { Controller, Get, Ip, Query } from '@nestjs/common';
import { AuditPageSchema, AuditQuerySchema, type AuditPage, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { AuditService } from './audit.service.js';

/** The audit trail for administrators; reading it is itself audited. */
@Roles('admin')
@Controller('api/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @ApiRoute({
    summary: 'The audit trail, newest first',
    description:
      'Query: actor, action (exact), outcome, since (ISO time), before (nextBefore of the ' +
      'previous page), limit (1–500, default 100). The read itself is audited.',
    response: AuditPageSchema,
  })
  @Get()
  search(
    @CurrentUser() admin: SessionUser,
    @Query() query: unknown,
    @Ip() ip: string,
  ): Promise<AuditPage> {
    return this.audit.search(admin, parseInput(AuditQuerySchema, query), ip);
  }
}
