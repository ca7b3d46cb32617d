import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import {
  CreateFacilityRequestSchema,
  UpdateFacilityRequestSchema,
  type Facility,
  type SessionUser,
} from '#contracts';
import { parseInput } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { FacilitiesService } from './facilities.service.js';

@Roles('admin')
@Controller('api/admin/facilities')
export class FacilitiesController {
  constructor(private readonly facilities: FacilitiesService) {}

  @Get()
  list(): Promise<Facility[]> {
    return this.facilities.list();
  }

  @Post()
  create(@CurrentUser() admin: SessionUser, @Body() body: unknown): Promise<Facility> {
    return this.facilities.create(admin, parseInput(CreateFacilityRequestSchema, body));
  }

  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<Facility> {
    return this.facilities.update(admin, id, parseInput(UpdateFacilityRequestSchema, body));
  }
}
