import { Injectable } from '@nestjs/common';
import { and, asc, count, eq, inArray, notInArray } from 'drizzle-orm';
import type { Facility } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import { cases, facilities, hospitalPolicies } from '../infra/database/schema.js';

export type { Facility } from '#contracts';

/** Case statuses in which a hospital still holds the case. */
const OPEN_STATUSES = ['analysing', 'awaiting_review', 'in_review'] as const;

const columns = {
  id: facilities.id,
  kind: facilities.kind,
  name: facilities.name,
  parentId: facilities.parentId,
  disabled: facilities.disabled,
};

/** The referral hierarchy: clinic → county hospital → tertiary hospital. */
@Injectable()
export class FacilitiesRepository {
  constructor(private readonly database: Database) {}

  /** Pass the transaction when called inside one: PGlite has a single connection. */
  async get(id: string, tx: Queryable = this.database.db): Promise<Facility | undefined> {
    const [row] = await tx.select(columns).from(facilities).where(eq(facilities.id, id));
    return row;
  }

  /** Every facility; a region has tens to a few hundred, so callers work on the whole list. */
  all(tx: Queryable = this.database.db): Promise<Facility[]> {
    return tx.select(columns).from(facilities).orderBy(asc(facilities.id));
  }

  async hospitals(): Promise<Facility[]> {
    return (await this.all()).filter((facility) => facility.kind !== 'clinic');
  }

  /**
   * Inserts or, for a known id, renames, re-parents, disables or enables (the kind is checked
   * by callers). Left out, `disabled` stays as it is (a region file does not say it).
   */
  async upsert(
    facility: Omit<Facility, 'disabled'> & { disabled?: boolean },
    tx: Queryable = this.database.db,
  ): Promise<void> {
    await tx
      .insert(facilities)
      .values(facility)
      .onConflictDoUpdate({
        target: facilities.id,
        set: {
          name: facility.name,
          parentId: facility.parentId,
          ...(facility.disabled === undefined ? {} : { disabled: facility.disabled }),
        },
      });
  }

  /** Open cases of a clinic, or held by a hospital. */
  async openCasesOf(
    facility: Pick<Facility, 'id' | 'kind'>,
    tx: Queryable = this.database.db,
  ): Promise<number> {
    const [row] = await tx
      .select({ n: count() })
      .from(cases)
      .where(
        and(
          eq(facility.kind === 'clinic' ? cases.clinicId : cases.hospitalId, facility.id),
          inArray(cases.status, [...OPEN_STATUSES]),
        ),
      );
    return row?.n ?? 0;
  }

  /** The enabled hospitals whose deadline policy sends overdue cases to this one. */
  async hospitalsOverflowingTo(
    hospitalId: string,
    tx: Queryable = this.database.db,
  ): Promise<string[]> {
    const rows = await tx
      .select({ id: hospitalPolicies.hospitalId })
      .from(hospitalPolicies)
      .innerJoin(facilities, eq(facilities.id, hospitalPolicies.hospitalId))
      .where(
        and(eq(hospitalPolicies.overflowHospitalId, hospitalId), eq(facilities.disabled, false)),
      )
      .orderBy(asc(hospitalPolicies.hospitalId));
    return rows.map((row) => row.id);
  }

  /**
   * Open cases of these clinics held by a hospital outside `holders`: what a re-parenting
   * would strand.
   */
  async openCasesHeldOutside(
    clinicIds: string[],
    holders: Set<string>,
    tx: Queryable = this.database.db,
  ): Promise<number> {
    if (clinicIds.length === 0) return 0;
    const [row] = await tx
      .select({ n: count() })
      .from(cases)
      .where(
        and(
          inArray(cases.clinicId, clinicIds),
          inArray(cases.status, [...OPEN_STATUSES]),
          holders.size > 0 ? notInArray(cases.hospitalId, [...holders]) : undefined,
        ),
      );
    return row?.n ?? 0;
  }

  /** The county hospital that reads this clinic's exams. */
  async readingHospitalOf(clinicId: string, tx?: Queryable): Promise<Facility> {
    const clinic = await this.get(clinicId, tx);
    if (!clinic || clinic.kind !== 'clinic' || !clinic.parentId) {
      throw new Error(`facility ${clinicId} is not a clinic with a county hospital`);
    }
    const county = await this.get(clinic.parentId, tx);
    if (!county) throw new Error(`county hospital ${clinic.parentId} of ${clinicId} is missing`);
    return county;
  }
}
