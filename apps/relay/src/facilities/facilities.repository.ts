import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { FacilityKind } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import { facilities } from '../infra/database/schema.js';

export interface Facility {
  id: string;
  kind: FacilityKind;
  name: string;
  parentId: string | null;
}

/** The referral hierarchy: clinic → county hospital → tertiary hospital. */
@Injectable()
export class FacilitiesRepository {
  constructor(private readonly database: Database) {}

  /** Pass the transaction when called inside one: PGlite has a single connection. */
  async get(id: string, tx: Queryable = this.database.db): Promise<Facility | undefined> {
    const [row] = await tx.select().from(facilities).where(eq(facilities.id, id));
    return row && { id: row.id, kind: row.kind, name: row.name, parentId: row.parentId };
  }

  async hospitals(): Promise<Facility[]> {
    const rows = await this.database.db.select().from(facilities);
    return rows
      .filter((row) => row.kind !== 'clinic')
      .map((row) => ({ id: row.id, kind: row.kind, name: row.name, parentId: row.parentId }));
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
