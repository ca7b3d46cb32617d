import { Inject, Injectable } from '@nestjs/common';
import { HospitalPolicyRequestSchema, type HospitalPolicy, type SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import { parseInput } from '../common/validation.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import type { Queryable } from '../infra/database/database.js';
import { effectivePolicy } from './deadline-policy.js';
import { PoliciesRepository } from './policies.repository.js';

/** Each county hospital's reading deadlines and what happens at them. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /** The policy in force at a hospital (its own, or the relay's defaults). */
  async policyOf(hospitalId: string, tx?: Queryable): Promise<HospitalPolicy> {
    return effectivePolicy(hospitalId, await this.policies.get(hospitalId, tx), this.config.sla);
  }

  async get(hospitalId: string): Promise<HospitalPolicy> {
    await this.countyHospital(hospitalId);
    return this.policyOf(hospitalId);
  }

  async put(user: SessionUser, hospitalId: string, body: unknown): Promise<HospitalPolicy> {
    const policy = parseInput(HospitalPolicyRequestSchema, body);
    const hospital = await this.countyHospital(hospitalId);
    if (policy.atDeadline === 'overflow') {
      const target = policy.overflowHospitalId
        ? await this.facilities.get(policy.overflowHospitalId)
        : undefined;
      if (!target || target.kind !== 'county' || target.id === hospital.id) {
        throw new DomainError(
          'INVALID_INPUT',
          'overflowHospitalId: must be another county hospital',
        );
      }
      if (target.disabled) {
        throw new DomainError(
          'CONFLICT',
          `overflowHospitalId: ${target.id} is disabled; choose an enabled county hospital`,
        );
      }
    } else if (!hospital.parentId) {
      throw new DomainError(
        'INVALID_INPUT',
        'atDeadline: this hospital has no tertiary hospital above it to escalate to',
      );
    }
    await this.policies.put(hospitalId, policy, user.id, this.clock.now());
    await this.audit.record({
      actor: `user:${user.id}`,
      action: 'hospital.policy.update',
      outcome: 'allowed',
      subject: `facility:${hospitalId}`,
      detail: { ...policy },
    });
    return this.policyOf(hospitalId);
  }

  /**
   * Deadlines act at county hospitals only: the tertiary hospital is the top of the chain and
   * never moves a case on, so it has no policy to set.
   */
  private async countyHospital(hospitalId: string) {
    const hospital = await this.facilities.get(hospitalId);
    if (!hospital || hospital.kind === 'clinic') {
      throw new DomainError('NOT_FOUND', 'No such hospital');
    }
    if (hospital.kind !== 'county') {
      throw new DomainError(
        'INVALID_INPUT',
        'Deadline policies apply to county hospitals; a tertiary hospital never moves a case on',
      );
    }
    return hospital;
  }
}
