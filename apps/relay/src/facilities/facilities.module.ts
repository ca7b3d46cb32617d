import { Module } from '@nestjs/common';
import { ClinicAeTitlesRepository } from './clinic-ae-titles.repository.js';
import { FacilitiesController } from './facilities.controller.js';
import { FacilitiesRepository } from './facilities.repository.js';
import { FacilitiesService } from './facilities.service.js';

@Module({
  controllers: [FacilitiesController],
  providers: [FacilitiesRepository, FacilitiesService, ClinicAeTitlesRepository],
  exports: [FacilitiesRepository, FacilitiesService, ClinicAeTitlesRepository],
})
export class FacilitiesModule {}
