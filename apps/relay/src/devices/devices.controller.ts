import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { DeviceSummarySchema, type DeviceSummary, type SessionUser } from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import { DevicesRepository } from './devices.repository.js';

@Controller('api/devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly broker: MqttBroker,
  ) {}

  /** Boxes with online state and last contact: a clinic sees its own, an admin all. */
  @ApiRoute({
    summary: 'ECG boxes, online state and last contact',
    response: z.array(DeviceSummarySchema),
  })
  @Roles('clinic_staff', 'admin')
  @Get()
  async list(@CurrentUser() user: SessionUser): Promise<DeviceSummary[]> {
    const rows = await this.devices.list(
      user.role === 'clinic_staff' ? user.facilityId : undefined,
    );
    return rows.map((row) => ({
      ...row,
      online: this.broker.isOnline(row.id),
      lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    }));
  }
}
