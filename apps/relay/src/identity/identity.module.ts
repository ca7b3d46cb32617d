import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { UsersAdminController } from './users-admin.controller.js';
import { UsersAdminService } from './users-admin.service.js';
import { UsersRepository } from './users.repository.js';

@Module({
  imports: [FacilitiesModule],
  controllers: [AuthController, UsersAdminController],
  providers: [
    UsersRepository,
    SessionsRepository,
    SessionsService,
    AuthService,
    UsersAdminService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService, SessionsService, UsersRepository],
})
export class IdentityModule {}
