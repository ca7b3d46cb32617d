import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  AdminUserSchema,
  CreateUserRequestSchema,
  UpdateUserRequestSchema,
  type AdminUser,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from './auth.guard.js';
import { UsersAdminService } from './users-admin.service.js';

@Roles('admin')
@Controller('api/admin/users')
export class UsersAdminController {
  constructor(private readonly users: UsersAdminService) {}

  @ApiRoute({ summary: 'Every user account', response: z.array(AdminUserSchema) })
  @Get()
  list(): Promise<AdminUser[]> {
    return this.users.list();
  }

  @ApiRoute({ summary: 'Create a user at a facility', response: AdminUserSchema })
  @Post()
  create(
    @CurrentUser() admin: SessionUser,
    @Body({ schema: CreateUserRequestSchema }) body: unknown,
  ): Promise<AdminUser> {
    return this.users.create(admin, parseInput(CreateUserRequestSchema, body));
  }

  @ApiRoute({
    summary: 'Rename, disable, reset the password of, or change the role of a user',
    description: 'Disabling a user, a new password or a new role ends every session they have.',
    response: AdminUserSchema,
  })
  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ParseUUIDPipe({ version: undefined })) id: string,
    @Body({ schema: UpdateUserRequestSchema }) body: unknown,
  ): Promise<AdminUser> {
    return this.users.update(admin, id, parseInput(UpdateUserRequestSchema, body));
  }
}
