import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { DeviceSummarySchema, type DeviceSummary, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { DevicesService } from './devices.service.js';

@Controller('api/devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  /**
   * Boxes with online state, last contact, firmware and newest recording: a clinic sees its
   * own, an admin all.
   */
  @ApiRoute({
    summary: 'ECG boxes, online state and last contact',
    response: z.array(DeviceSummarySchema),
  })
  @Roles('clinic_staff', 'admin')
  @Get()
  list(@CurrentUser() user: SessionUser): Promise<DeviceSummary[]> {
    return this.devices.summaries(
      user.role === 'clinic_staff' ? { clinicId: user.facilityId } : {},
    );
  }
}
