import { Controller, Get, Ip, Query } from '@nestjs/common';
import { AuditQuerySchema, type AuditPage, type SessionUser } from '#contracts';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { AuditService } from './audit.service.js';

/** The audit trail for administrators; reading it is itself audited. */
@Roles('admin')
@Controller('api/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  search(
    @CurrentUser() admin: SessionUser,
    @Query() query: unknown,
    @Ip() ip: string,
  ): Promise<AuditPage> {
    return this.audit.search(admin, parseInput(AuditQuerySchema, query), ip);
  }
}
