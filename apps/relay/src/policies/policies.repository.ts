import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { DeadlineOverrides, HospitalPolicyInput } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import { hospitalPolicies } from '../infra/database/schema.js';
import type { StoredPolicy } from './deadline-policy.js';

@Injectable()
export class PoliciesRepository {
  constructor(private readonly database: Database) {}

  /** Pass the transaction when called inside one: PGlite has a single connection. */
  async get(
    hospitalId: string,
    tx: Queryable = this.database.db,
  ): Promise<StoredPolicy | undefined> {
    const [row] = await tx
      .select()
      .from(hospitalPolicies)
      .where(eq(hospitalPolicies.hospitalId, hospitalId));
    return (
      row && {
        deadlines: row.deadlines as DeadlineOverrides,
        atDeadline: row.atDeadline,
        overflowHospitalId: row.overflowHospitalId,
        updatedAt: row.updatedAt,
      }
    );
  }

  async put(
    hospitalId: string,
    policy: HospitalPolicyInput,
    userId: string,
    at: Date,
  ): Promise<void> {
    const values = {
      deadlines: policy.deadlines as Record<string, Record<string, number>>,
      atDeadline: policy.atDeadline,
      overflowHospitalId: policy.overflowHospitalId,
      updatedBy: userId,
      updatedAt: at,
    };
    await this.database.db
      .insert(hospitalPolicies)
      .values({ hospitalId, ...values })
      .onConflictDoUpdate({ target: hospitalPolicies.hospitalId, set: values });
  }
}
