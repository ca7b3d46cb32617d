import { Body, Controller, Param, Patch, Post } from '@nestjs/common';
import {
  CreateDeviceRequestSchema,
  DeviceSummarySchema,
  RegisteredDeviceSchema,
  ResourceIdSchema,
  UpdateDeviceRequestSchema,
  type CreateDeviceRequest,
  type DeviceSummary,
  type RegisteredDevice,
  type SessionUser,
  type UpdateDeviceRequest,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { ContractPipe } from '../common/validation.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { DevicesService } from './devices.service.js';

/**
 * Registering and disabling boxes, for administrators (REGION_FILE registers at start too).
 * The list with online state is GET /api/devices, which an administrator sees whole.
 */
@Roles('admin')
@Controller('api/admin/devices')
export class DevicesAdminController {
  constructor(private readonly devices: DevicesService) {}

  @ApiRoute({
    summary: 'Register an ECG box at a clinic',
    description:
      'Without `secret`, the relay makes one and answers it this once; it keeps only its hash.',
    response: RegisteredDeviceSchema,
  })
  @Post()
  create(
    @CurrentUser() admin: SessionUser,
    @Body({
      schema: CreateDeviceRequestSchema,
      pipes: [new ContractPipe(CreateDeviceRequestSchema)],
    })
    body: CreateDeviceRequest,
  ): Promise<RegisteredDevice> {
    return this.devices.register(admin, body);
  }

  @ApiRoute({
    summary: 'Disable or enable an ECG box',
    description: 'A disabled box is disconnected now and refused at its next connect.',
    response: DeviceSummarySchema,
  })
  @Patch(':id')
  update(
    @CurrentUser() admin: SessionUser,
    @Param('id', new ContractPipe(ResourceIdSchema)) id: string,
    @Body({
      schema: UpdateDeviceRequestSchema,
      pipes: [new ContractPipe(UpdateDeviceRequestSchema)],
    })
    body: UpdateDeviceRequest,
  ): Promise<DeviceSummary> {
    return this.devices.update(admin, id, body);
  }
}
