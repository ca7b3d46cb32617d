import { Injectable } from '@nestjs/common';
import { asc, eq, inArray } from 'drizzle-orm';
import { Database, type Queryable } from '../infra/database/database.js';
import { clinicAeTitles, facilities } from '../infra/database/schema.js';

/** Which clinic a calling AE title belongs to (the DICOM listener's association check). */
@Injectable()
export class ClinicAeTitlesRepository {
  constructor(private readonly database: Database) {}

  /** The clinic a calling AE title belongs to, and whether that clinic is disabled. */
  async clinicOf(aeTitle: string): Promise<{ clinicId: string; disabled: boolean } | undefined> {
    const [row] = await this.database.db
      .select({ clinicId: clinicAeTitles.clinicId, disabled: facilities.disabled })
      .from(clinicAeTitles)
      .innerJoin(facilities, eq(facilities.id, clinicAeTitles.clinicId))
      .where(eq(clinicAeTitles.aeTitle, aeTitle));
    return row;
  }

  async titlesOf(clinicId: string, tx: Queryable = this.database.db): Promise<string[]> {
    const rows = await tx
      .select({ aeTitle: clinicAeTitles.aeTitle })
      .from(clinicAeTitles)
      .where(eq(clinicAeTitles.clinicId, clinicId))
      .orderBy(asc(clinicAeTitles.aeTitle));
    return rows.map((row) => row.aeTitle);
  }

  /** Titles of the list already owned by another clinic, with their owner. */
  async ownedElsewhere(
    clinicId: string,
    titles: readonly string[],
    tx: Queryable = this.database.db,
  ): Promise<{ aeTitle: string; clinicId: string }[]> {
    if (titles.length === 0) return [];
    const rows = await tx
      .select({ aeTitle: clinicAeTitles.aeTitle, clinicId: clinicAeTitles.clinicId })
      .from(clinicAeTitles)
      .where(inArray(clinicAeTitles.aeTitle, [...titles]));
    return rows.filter((row) => row.clinicId !== clinicId);
  }

  /** The clinic's list becomes `titles`; run it in the transaction that checked them. */
  async replace(clinicId: string, titles: readonly string[], tx: Queryable): Promise<void> {
    await tx.delete(clinicAeTitles).where(eq(clinicAeTitles.clinicId, clinicId));
    if (titles.length > 0) {
      await tx.insert(clinicAeTitles).values(titles.map((aeTitle) => ({ aeTitle, clinicId })));
    }
  }
}
