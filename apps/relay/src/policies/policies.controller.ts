import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import {
  HospitalPolicyRequestSchema,
  HospitalPolicySchema,
  ResourceIdSchema,
  type HospitalPolicy,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { PoliciesService } from './policies.service.js';

const hospitalId = new ContractPipe(ResourceIdSchema);

@Roles('admin')
@Controller('api/admin/hospitals')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @ApiRoute({
    summary: "A county hospital's deadline policy as in force",
    response: HospitalPolicySchema,
  })
  @Get(':id/policy')
  get(@Param('id', hospitalId) id: string): Promise<HospitalPolicy> {
    return this.policies.get(id);
  }

  @ApiRoute({
    summary: "Set a county hospital's deadlines and what happens at them",
    response: HospitalPolicySchema,
  })
  @Put(':id/policy')
  put(
    @CurrentUser() user: SessionUser,
    @Param('id', hospitalId) id: string,
    @Body({ schema: HospitalPolicyRequestSchema }) body: unknown,
  ): Promise<HospitalPolicy> {
    return this.policies.put(user, id, body);
  }
}
