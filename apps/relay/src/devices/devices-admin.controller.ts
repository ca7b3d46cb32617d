import { Body, Controller, Post } from '@nestjs/common';
import {
  CreateDeviceRequestSchema,
  RegisteredDeviceSchema,
  type RegisteredDevice,
  type SessionUser,
} from '#contracts';
import { ApiRoute } from '../common/api-route.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { parseInput } from '../common/validation.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { devicePlacementProblem } from '../facilities/hierarchy.js';
import { CurrentUser, Roles } from '../identity/auth.guard.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { DevicesRepository } from './devices.repository.js';

/** Registering a box at a clinic, for administrators (REGION_FILE does the same at start). */
@Roles('admin')
@Controller('api/admin/devices')
export class DevicesAdminController {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
  ) {}

  @ApiRoute({ summary: 'Register an ECG box at a clinic', response: RegisteredDeviceSchema })
  @Post()
  async create(
    @CurrentUser() admin: SessionUser,
    @Body({ schema: CreateDeviceRequestSchema }) body: unknown,
  ): Promise<RegisteredDevice> {
    const request = parseInput(CreateDeviceRequestSchema, body);
    const facility = await this.facilities.get(request.facilityId);
    const problem = facility
      ? devicePlacementProblem(facility.kind)
      : `facility ${request.facilityId} does not exist`;
    if (problem) throw new DomainError('INVALID_INPUT', problem);
    const secretHash = await this.hasher.hashMachineSecret(request.secret);
    const created = await this.devices.provision(
      { id: request.id, facilityId: request.facilityId, secretHash },
      'create',
    );
    if (!created) throw new DomainError('CONFLICT', `device ${request.id} exists already`);
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.device.create',
      outcome: 'allowed',
      subject: `device:${request.id}`,
      detail: { clinicId: request.facilityId },
    });
    return { id: request.id, clinicId: request.facilityId };
  }
}
