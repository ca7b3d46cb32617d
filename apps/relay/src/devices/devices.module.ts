import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { DeviceGateService } from './device-gate.service.js';
import { DevicesAdminController } from './devices-admin.controller.js';
import { DevicesService } from './devices.service.js';
import { DevicesController } from './devices.controller.js';
import { DevicesRepository } from './devices.repository.js';

/**
 * The boxes as records: registration, listing, and who may connect (`DeviceGateService`,
 * the broker's CONNECT check). Ingest, streams, region seeding and the demo share them.
 */
@Module({
  imports: [FacilitiesModule],
  controllers: [DevicesController, DevicesAdminController],
  providers: [DevicesRepository, DeviceGateService, DevicesService],
  exports: [DevicesRepository, DeviceGateService],
})
export class DevicesModule {}
