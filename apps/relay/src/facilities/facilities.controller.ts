import { Body, Controller, Get, Param, Patch, Post, Put } from '@nestjs/common';
import {
  ClinicAeTitlesSchema,
  CreateFacilityRequestSchema,
  SetAeTitlesRequestSchema,
  type ClinicAeTitles,
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

  @ApiRoute({
    summary: 'Rename a facility, change its parent, or disable or enable it',
    description:
      'A disabled facility keeps its records; its people cannot sign in (their sessions end), ' +
      'its boxes and DICOM machines cannot connect. 409 while it has open cases, enabled ' +
      'facilities below it, or takes another hospital’s overflow; and for anything enabled, ' +
      'created or moved under a disabled facility.',
    response: FacilitySchema,
  })
  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ContractPipe(ResourceIdSchema)) id: string,
    @Body({ schema: UpdateFacilityRequestSchema }) body: unknown,
  ): Promise<Facility> {
    return this.facilities.update(admin, id, parseInput(UpdateFacilityRequestSchema, body));
  }

  @ApiRoute({
    summary: "The calling AE titles of a clinic's DICOM machines",
    response: ClinicAeTitlesSchema,
  })
  @Get(':id/ae-titles')
  aeTitles(@Param('id', new ContractPipe(ResourceIdSchema)) id: string): Promise<ClinicAeTitles> {
    return this.facilities.aeTitlesOf(id);
  }

  @ApiRoute({
    summary: "Replace the calling AE titles a clinic's DICOM machines may use",
    response: ClinicAeTitlesSchema,
  })
  @Put(':id/ae-titles')
  setAeTitles(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ContractPipe(ResourceIdSchema)) id: string,
    @Body({ schema: SetAeTitlesRequestSchema }) body: unknown,
  ): Promise<ClinicAeTitles> {
    return this.facilities.setAeTitles(
      admin,
      id,
      parseInput(SetAeTitlesRequestSchema, body).aeTitles,
    );
  }
}
