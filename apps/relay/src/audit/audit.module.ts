import { Global, Module } from '@nestjs/common';
import { AuditAnchors } from './audit-anchors.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, AuditAnchors],
  exports: [AuditService],
})
export class AuditModule {}
