import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import type { HospitalPolicy, SessionUser } from '#contracts';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PoliciesService } from './policies.service.js';

@Roles('admin')
@Controller('api/admin/hospitals')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get(':id/policy')
  get(@Param('id') id: string): Promise<HospitalPolicy> {
    return this.policies.get(id);
  }

  @Put(':id/policy')
  put(
    @CurrentUser() user: SessionUser,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<HospitalPolicy> {
    return this.policies.put(user, id, body);
  }
}
