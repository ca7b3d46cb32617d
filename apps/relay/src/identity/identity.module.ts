import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { UsersRepository } from './users.repository.js';

@Module({
  controllers: [AuthController],
  providers: [UsersRepository, AuthService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, UsersRepository],
})
export class IdentityModule {}
