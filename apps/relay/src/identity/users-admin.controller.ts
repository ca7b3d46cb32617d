import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import {
  CreateUserRequestSchema,
  UpdateUserRequestSchema,
  type AdminUser,
  type SessionUser,
} from '#contracts';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from './auth.guard.js';
import { UsersAdminService } from './users-admin.service.js';

@Roles('admin')
@Controller('api/admin/users')
export class UsersAdminController {
  constructor(private readonly users: UsersAdminService) {}

  @Get()
  list(): Promise<AdminUser[]> {
    return this.users.list();
  }

  @Post()
  create(@CurrentUser() admin: SessionUser, @Body() body: unknown): Promise<AdminUser> {
    return this.users.create(admin, parseInput(CreateUserRequestSchema, body));
  }

  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ParseUUIDPipe({ version: undefined })) id: string,
    @Body() body: unknown,
  ): Promise<AdminUser> {
    return this.users.update(admin, id, parseInput(UpdateUserRequestSchema, body));
  }
}
