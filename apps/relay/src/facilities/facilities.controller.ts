import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import {
  CreateFacilityRequestSchema,
  FacilitySchema,
  ResourceIdSchema,
  UpdateFacilityRequestSchema,
  type Facility,
  type SessionUser,
} from '#contracts';
import { z } from 'zod';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe, parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { FacilitiesService } from './facilities.service.js';

@Roles('admin')
@Controller('api/admin/facilities')
export class FacilitiesController {
  constructor(private readonly facilities: FacilitiesService) {}

  @ApiRoute({
    summary: 'Every facility of the referral hierarchy',
    response: z.array(FacilitySchema),
  })
  @Get()
  list(): Promise<Facility[]> {
    return this.facilities.list();
  }

  @ApiRoute({ summary: 'Add a clinic or hospital to the hierarchy', response: FacilitySchema })
  @Post()
  create(
    @CurrentUser() admin: SessionUser,
    @Body({ schema: CreateFacilityRequestSchema }) body: unknown,
  ): Promise<Facility> {
    return this.facilities.create(admin, parseInput(CreateFacilityRequestSchema, body));
  }

  @ApiRoute({ summary: 'Rename a facility or change its parent', response: FacilitySchema })
  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ContractPipe(ResourceIdSchema)) id: string,
    @Body({ schema: UpdateFacilityRequestSchema }) body: unknown,
  ): Promise<Facility> {
    return this.facilities.update(admin, id, parseInput(UpdateFacilityRequestSchema, body));
  }
}
