import { Injectable } from '@nestjs/common';
import type {
  ClinicAeTitles,
  CreateFacilityRequestSchema,
  Facility,
  SessionUser,
  UpdateFacilityRequestSchema,
} from '#contracts';
import type { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { Database, type Tx } from '../infra/database/database.js';
import { ClinicAeTitlesRepository } from './clinic-ae-titles.repository.js';
import { facilityChangeProblems } from './facility-changes.js';
import { FacilitiesRepository } from './facilities.repository.js';

type HospitalListener = (hospital: Facility) => void;
type DisabledListener = (facility: Facility) => Promise<Record<string, number>>;

/** The hierarchy as data, for administrators: every write checked and audited. */
@Injectable()
export class FacilitiesService {
  private readonly hospitalListeners: HospitalListener[] = [];
  private readonly disabledListeners: DisabledListener[] = [];

  constructor(
    private readonly repository: FacilitiesRepository,
    private readonly database: Database,
    private readonly audit: AuditService,
    private readonly aeTitles: ClinicAeTitlesRepository,
  ) {}

  list(): Promise<Facility[]> {
    return this.repository.all();
  }

  async create(
    admin: SessionUser,
    request: z.output<typeof CreateFacilityRequestSchema>,
  ): Promise<Facility> {
    const facility: Facility = { ...request, disabled: false };
    await this.database.db.transaction(async (tx) => {
      if (await this.repository.get(facility.id, tx)) {
        throw new DomainError('CONFLICT', `facility ${facility.id} exists already`);
      }
      await this.write(tx, facility);
    });
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.facility.create',
      outcome: 'allowed',
      subject: `facility:${facility.id}`,
      detail: { kind: facility.kind, parentId: facility.parentId },
    });
    // After the commit: the review desk opens the new hospital's queue (no restart needed).
    if (facility.kind !== 'clinic')
      for (const listener of this.hospitalListeners) listener(facility);
    return facility;
  }

  async update(
    admin: SessionUser,
    id: string,
    request: z.output<typeof UpdateFacilityRequestSchema>,
  ): Promise<Facility> {
    let before: Facility | undefined;
    const after = await this.database.db.transaction(async (tx) => {
      before = await this.repository.get(id, tx);
      if (!before) throw new DomainError('NOT_FOUND', 'No such facility');
      const changed: Facility = {
        ...before,
        name: request.name ?? before.name,
        parentId: request.parentId === undefined ? before.parentId : request.parentId,
        disabled: request.disabled ?? before.disabled,
      };
      await this.write(tx, changed);
      return changed;
    });
    const disabledNow = after.disabled && !before?.disabled;
    // After the commit, and before the answer: when the administrator sees "disabled", the
    // facility's sessions have ended and its boxes are off the broker.
    const consequences: Record<string, number> = {};
    if (disabledNow) {
      for (const listener of this.disabledListeners) {
        Object.assign(consequences, await listener(after));
      }
    }
    await this.audit.record({
      actor: `user:${admin.id}`,
      action:
        after.disabled === before?.disabled
          ? 'admin.facility.update'
          : after.disabled
            ? 'admin.facility.disable'
            : 'admin.facility.enable',
      outcome: 'allowed',
      subject: `facility:${id}`,
      detail: {
        changed: Object.keys(request),
        fromParentId: before?.parentId,
        parentId: after.parentId,
        ...consequences,
      },
    });
    return after;
  }

  async aeTitlesOf(id: string): Promise<ClinicAeTitles> {
    const facility = await this.repository.get(id);
    if (!facility) throw new DomainError('NOT_FOUND', 'No such facility');
    return { facilityId: id, aeTitles: await this.aeTitles.titlesOf(id) };
  }

  /** Replaces the calling AE titles a clinic's machines may use with the DICOM listener. */
  async setAeTitles(admin: SessionUser, id: string, titles: string[]): Promise<ClinicAeTitles> {
    const before = await this.database.db.transaction(async (tx) => {
      const facility = await this.repository.get(id, tx);
      if (!facility) throw new DomainError('NOT_FOUND', 'No such facility');
      if (facility.kind !== 'clinic') {
        throw new DomainError('INVALID_INPUT', 'only a clinic has calling AE titles');
      }
      const taken = await this.aeTitles.ownedElsewhere(id, titles, tx);
      if (taken.length > 0) {
        throw new DomainError(
          'CONFLICT',
          taken.map((t) => `AE title ${t.aeTitle} belongs to ${t.clinicId}`).join('; '),
        );
      }
      const previous = await this.aeTitles.titlesOf(id, tx);
      await this.aeTitles.replace(id, titles, tx);
      return previous;
    });
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.facility.ae-titles',
      outcome: 'allowed',
      subject: `facility:${id}`,
      detail: { from: before, to: titles },
    });
    return { facilityId: id, aeTitles: [...titles].sort() };
  }

  /** Called after a hospital is created (the review desk opens its queue). */
  onHospitalAdded(listener: HospitalListener): void {
    this.hospitalListeners.push(listener);
  }

  /**
   * Called after a facility is disabled, awaited before the administrator is answered:
   * identity ends the sessions of its people, devices takes its boxes off the broker. Each
   * returns counts for the audit entry.
   */
  onFacilityDisabled(listener: DisabledListener): void {
    this.disabledListeners.push(listener);
  }

  private async write(tx: Tx, facility: Facility): Promise<void> {
    const { problems, conflicts } = await facilityChangeProblems(this.repository, [facility], tx);
    if (problems.length > 0) throw new DomainError('INVALID_INPUT', problems.join('; '));
    if (conflicts.length > 0) throw new DomainError('CONFLICT', conflicts.join('; '));
    await this.repository.upsert(facility, tx);
  }
}
