import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import {
  HospitalPolicyRequestSchema,
  HospitalPolicySchema,
  type HospitalPolicy,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PoliciesService } from './policies.service.js';

@Roles('admin')
@Controller('api/admin/hospitals')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @ApiRoute({
    summary: "A county hospital's deadline policy as in force",
    response: HospitalPolicySchema,
  })
  @Get(':id/policy')
  get(@Param('id') id: string): Promise<HospitalPolicy> {
    return this.policies.get(id);
  }

  @ApiRoute({
    summary: "Set a county hospital's deadlines and what happens at them",
    response: HospitalPolicySchema,
  })
  @Put(':id/policy')
  put(
    @CurrentUser() user: SessionUser,
    @Param('id') id: string,
    @Body({ schema: HospitalPolicyRequestSchema }) body: unknown,
  ): Promise<HospitalPolicy> {
    return this.policies.put(user, id, body);
  }
}
