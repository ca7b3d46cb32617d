import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateDeviceRequest,
  DeviceSummary,
  RegisteredDevice,
  SessionUser,
  UpdateDeviceRequest,
} from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
import { devicePlacementProblem } from '../facilities/hierarchy.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import { DevicesRepository } from './devices.repository.js';

/** What this service needs of the broker: who is connected, and closing a box's link. */
export type DeviceLinks = Pick<MqttBroker, 'onlineAmong' | 'disconnect'>;

/**
 * 256 random bits: the secret is a key checked by a fast hash (identity/secret-hasher.ts),
 * so its length alone keeps a stolen database from letting anyone connect.
 */
const SECRET_BYTES = 32;

/** The boxes as administrators and clinics see them: registered, listed, disabled. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
    @Inject(MqttBroker) private readonly links: DeviceLinks,
    hierarchy: FacilitiesService,
  ) {
    // The gate refuses them at their next CONNECT; those connected now go at once.
    hierarchy.onFacilityDisabled(async (facility) => {
      let boxesDisconnected = 0;
      for (const box of await this.devices.list({ clinicId: facility.id })) {
        if (await this.links.disconnect(box.id)) boxesDisconnected += 1;
      }
      return { boxesDisconnected };
    });
  }

  /** One clinic's boxes, or every box, with online state, last contact and newest recording. */
  async summaries(filter: { clinicId?: string; id?: string } = {}): Promise<DeviceSummary[]> {
    const rows = await this.devices.list(filter);
    const online = await this.links.onlineAmong(rows.map((row) => row.id));
    return rows.map((row) => ({
      ...row,
      online: online.has(row.id),
      lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
      lastRecordingAt: row.lastRecordingAt?.toISOString() ?? null,
    }));
  }

  /**
   * Registers a box at a clinic. Without a secret in the request the relay makes one and
   * answers it this once: only its hash is kept, so nobody can show it again.
   */
  async register(admin: SessionUser, request: CreateDeviceRequest): Promise<RegisteredDevice> {
    const facility = await this.facilities.get(request.facilityId);
    const problem = facility
      ? devicePlacementProblem(facility.kind)
      : `facility ${request.facilityId} does not exist`;
    if (problem) throw new DomainError('INVALID_INPUT', problem);
    if (facility?.disabled) {
      throw new DomainError('CONFLICT', `${facility.id} is disabled; enable it first`);
    }
    const made =
      request.secret === undefined ? randomBytes(SECRET_BYTES).toString('base64url') : null;
    const secretHash = await this.hasher.hashMachineSecret(made ?? request.secret!);
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
      detail: { clinicId: request.facilityId, secretMadeByRelay: made !== null },
    });
    const registered = { id: request.id, clinicId: request.facilityId };
    return made === null ? registered : { ...registered, secret: made };
  }

  /**
   * Disables or enables a box. A disabled box is refused at its next CONNECT (the gate
   * reads the flag there), and one connected now is disconnected, so it meets that refusal
   * at once rather than whenever its link next drops.
   */
  async update(
    admin: SessionUser,
    id: string,
    request: UpdateDeviceRequest,
  ): Promise<DeviceSummary> {
    if (!(await this.devices.setDisabled(id, request.disabled))) {
      throw new DomainError('NOT_FOUND', 'No such device');
    }
    const disconnected = request.disabled && (await this.links.disconnect(id));
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: request.disabled ? 'admin.device.disable' : 'admin.device.enable',
      outcome: 'allowed',
      subject: `device:${id}`,
      detail: { disconnected },
    });
    const [summary] = await this.summaries({ id });
    if (!summary) throw new DomainError('NOT_FOUND', 'No such device');
    return summary;
  }
}
