import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gte, ilike, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { InspectedInstance } from '#dicom';
import { Database, type Queryable, type Tx } from '../infra/database/database.js';
import { cases, instances, series, studies } from '../infra/database/schema.js';
import type { StudyScope } from './study-scope.js';

export type StudyRow = typeof studies.$inferSelect;
export type SeriesRow = typeof series.$inferSelect;
export type InstanceRow = typeof instances.$inferSelect;

export interface NewInstance {
  clinicId: string;
  via: 'stow' | 'c-store';
  sha256: string;
  sizeBytes: number;
  instance: InspectedInstance;
  at: Date;
}

export type RecordOutcome =
  | { outcome: 'stored'; studyId: string; studyCreated: boolean; caseId: string | null }
  | { outcome: 'already-stored' }
  | { outcome: 'conflict' };

/** Study-level QIDO keys, already parsed (docs/imaging.md, "QIDO-RS"). */
export interface StudyQuery {
  studyInstanceUids?: string[];
  patientId?: string;
  /** `*` and `?` wildcards allowed (PS3.4 C.2.2.2.4). */
  patientName?: string;
  accessionNumber?: string;
  modality?: string;
  studyDateFrom?: string;
  studyDateTo?: string;
  limit: number;
  offset: number;
}

/** A lost race on the instance insert: the transaction is rolled back and re-read. */
class InsertRaceLost extends Error {}

/**
 * The study scope (study-scope.ts) as SQL: a clinic's own studies by their clinic; a
 * hospital's through the study's case, which it must hold now; no scope, nothing.
 */
function studyCondition(scope: StudyScope | null): SQL {
  if (scope === null) return sql`false`;
  switch (scope.kind) {
    case 'clinic':
      return eq(studies.clinicId, scope.clinicId);
    case 'hospital':
      return sql`exists (select 1 from ${cases} where ${cases.id} = ${studies.caseId} and ${cases.hospitalId} = ${scope.hospitalId})`;
  }
}

/** DICOM wildcard matching (`*` any run, `?` one character) as an SQL LIKE pattern. */
function likePattern(value: string): string {
  return value
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/** Every database query of imaging: studies, series, instances. */
@Injectable()
export class ImagingRepository {
  constructor(private readonly database: Database) {}

  /**
   * Records one inspected instance exactly once. The same SOP Instance UID with the same
   * bytes is `already-stored`, with other bytes a `conflict`; parallel inserts of one study
   * or series meet on the unique indexes (INSERT … ON CONFLICT) and make one row each.
   */
  async recordInstance(
    input: NewInstance,
    onNewStudy: (tx: Tx, studyId: string, at: Date) => Promise<void>,
  ): Promise<RecordOutcome> {
    const known = await this.storedSha256(input.clinicId, input.instance.sopInstanceUid);
    if (known !== undefined) {
      return { outcome: known === input.sha256 ? 'already-stored' : 'conflict' };
    }
    try {
      return await this.database.db.transaction(async (tx) => {
        const outcome = await this.insert(tx, input);
        if (outcome.outcome === 'stored' && outcome.studyCreated) {
          await onNewStudy(tx, outcome.studyId, input.at);
        }
        return outcome;
      });
    } catch (error) {
      if (!(error instanceof InsertRaceLost)) throw error;
      const winner = await this.storedSha256(input.clinicId, input.instance.sopInstanceUid);
      return { outcome: winner === input.sha256 ? 'already-stored' : 'conflict' };
    }
  }

  /** The sha256 of the file a clinic stored under this SOP Instance UID, if any. */
  async storedSha256(clinicId: string, sopInstanceUid: string): Promise<string | undefined> {
    const [row] = await this.database.db
      .select({ sha256: instances.sha256 })
      .from(instances)
      .where(and(eq(instances.clinicId, clinicId), eq(instances.sopInstanceUid, sopInstanceUid)));
    return row?.sha256;
  }

  private async insert(tx: Tx, input: NewInstance): Promise<RecordOutcome> {
    const { instance: i, at } = input;
    const [study] = await tx
      .insert(studies)
      .values({
        studyInstanceUid: i.studyInstanceUid,
        clinicId: input.clinicId,
        patientId: i.patient.id,
        patientName: i.patient.name,
        patientSex: i.patient.sex,
        patientBirthDate: i.patient.birthDate,
        studyDate: i.study.date,
        studyTime: i.study.time,
        description: i.study.description,
        accessionNumber: i.study.accessionNumber,
        lastInstanceAt: at,
      })
      .onConflictDoUpdate({
        target: [studies.clinicId, studies.studyInstanceUid],
        set: { lastInstanceAt: at },
      })
      .returning({
        id: studies.id,
        caseId: studies.caseId,
        created: sql<boolean>`(xmax = 0)`,
      });
    if (!study) throw new Error('study not written');
    const [seriesRow] = await tx
      .insert(series)
      .values({
        studyId: study.id,
        seriesInstanceUid: i.seriesInstanceUid,
        modality: i.modality,
        seriesNumber: i.series.number,
        description: i.series.description,
        bodyPart: i.series.bodyPart,
      })
      .onConflictDoUpdate({
        target: [series.studyId, series.seriesInstanceUid],
        set: { instanceCount: sql`${series.instanceCount}` },
      })
      .returning({ id: series.id, created: sql<boolean>`(xmax = 0)` });
    if (!seriesRow) throw new Error('series not written');
    const [inserted] = await tx
      .insert(instances)
      .values({
        studyId: study.id,
        seriesId: seriesRow.id,
        clinicId: input.clinicId,
        sopInstanceUid: i.sopInstanceUid,
        sopClassUid: i.sopClassUid,
        instanceNumber: i.instanceNumber,
        transferSyntaxUid: i.transferSyntaxUid,
        sha256: input.sha256,
        sizeBytes: input.sizeBytes,
        rows: i.image?.rows ?? null,
        columns: i.image?.columns ?? null,
        frames: i.image?.numberOfFrames ?? 1,
        image: i.image ? { ...i.image } : null,
        pixelData: i.pixelData,
        metadata: i.json,
        receivedVia: input.via,
        createdAt: at,
      })
      .onConflictDoNothing({ target: [instances.clinicId, instances.sopInstanceUid] })
      .returning({ id: instances.id });
    if (!inserted) throw new InsertRaceLost();
    await tx
      .update(series)
      .set({ instanceCount: sql`${series.instanceCount} + 1` })
      .where(eq(series.id, seriesRow.id));
    const modality = JSON.stringify(i.modality ? [i.modality] : []);
    await tx
      .update(studies)
      .set({
        instanceCount: sql`${studies.instanceCount} + 1`,
        seriesCount: sql`${studies.seriesCount} + ${seriesRow.created ? 1 : 0}`,
        modalities: sql`case when ${studies.modalities} @> ${modality}::jsonb then ${studies.modalities} else ${studies.modalities} || ${modality}::jsonb end`,
      })
      .where(eq(studies.id, study.id));
    return {
      outcome: 'stored',
      studyId: study.id,
      studyCreated: study.created,
      caseId: study.caseId,
    };
  }

  async studyById(id: string, tx: Queryable = this.database.db): Promise<StudyRow | undefined> {
    const [row] = await tx.select().from(studies).where(eq(studies.id, id));
    return row;
  }

  /** The clinic's study, locked for the transaction that makes its case. */
  async lockStudy(tx: Tx, clinicId: string, studyInstanceUid: string) {
    const [row] = await tx
      .select()
      .from(studies)
      .where(and(eq(studies.clinicId, clinicId), eq(studies.studyInstanceUid, studyInstanceUid)))
      .for('update');
    return row;
  }

  async lockStudyById(tx: Tx, id: string) {
    const [row] = await tx.select().from(studies).where(eq(studies.id, id)).for('update');
    return row;
  }

  async markQueued(tx: Tx, studyId: string, caseId: string): Promise<void> {
    await tx.update(studies).set({ state: 'queued', caseId }).where(eq(studies.id, studyId));
  }

  /** The series of a study, for the exam kind of its case. */
  async seriesOf(studyId: string, tx: Queryable = this.database.db): Promise<SeriesRow[]> {
    return tx
      .select()
      .from(series)
      .where(eq(series.studyId, studyId))
      .orderBy(asc(series.seriesNumber));
  }

  /** The clinic's studies, newest first (the upload page). */
  async clinicStudies(clinicId: string, limit: number): Promise<StudyRow[]> {
    return this.database.db
      .select()
      .from(studies)
      .where(eq(studies.clinicId, clinicId))
      .orderBy(desc(studies.lastInstanceAt))
      .limit(limit);
  }

  /** QIDO-RS studies within the user's scope. */
  async findStudies(scope: StudyScope | null, query: StudyQuery): Promise<StudyRow[]> {
    const where = and(
      studyCondition(scope),
      query.studyInstanceUids?.length
        ? inArray(studies.studyInstanceUid, query.studyInstanceUids)
        : undefined,
      query.patientId ? ilike(studies.patientId, likePattern(query.patientId)) : undefined,
      query.patientName ? ilike(studies.patientName, likePattern(query.patientName)) : undefined,
      query.accessionNumber
        ? ilike(studies.accessionNumber, likePattern(query.accessionNumber))
        : undefined,
      query.modality
        ? sql`${studies.modalities} @> ${JSON.stringify([query.modality])}::jsonb`
        : undefined,
      query.studyDateFrom ? gte(studies.studyDate, query.studyDateFrom) : undefined,
      query.studyDateTo ? lte(studies.studyDate, query.studyDateTo) : undefined,
    );
    return this.database.db
      .select()
      .from(studies)
      .where(where)
      .orderBy(desc(studies.studyDate), desc(studies.lastInstanceAt))
      .limit(query.limit)
      .offset(query.offset);
  }

  /** One study by its UID within the user's scope (a clinic's own first). */
  async visibleStudy(
    scope: StudyScope | null,
    studyInstanceUid: string,
  ): Promise<StudyRow | undefined> {
    const [row] = await this.database.db
      .select()
      .from(studies)
      .where(and(studyCondition(scope), eq(studies.studyInstanceUid, studyInstanceUid)))
      .orderBy(desc(studies.lastInstanceAt))
      .limit(1);
    return row;
  }

  async findSeries(
    studyId: string,
    filter: { seriesInstanceUid?: string; modality?: string; limit: number; offset: number },
  ): Promise<SeriesRow[]> {
    return this.database.db
      .select()
      .from(series)
      .where(
        and(
          eq(series.studyId, studyId),
          filter.seriesInstanceUid
            ? eq(series.seriesInstanceUid, filter.seriesInstanceUid)
            : undefined,
          filter.modality ? eq(series.modality, filter.modality) : undefined,
        ),
      )
      .orderBy(asc(series.seriesNumber), asc(series.createdAt))
      .limit(filter.limit)
      .offset(filter.offset);
  }

  /** Instances of a study (optionally one series, one instance), with their series' UID. */
  async findInstances(
    studyId: string,
    filter: {
      seriesInstanceUid?: string;
      sopInstanceUid?: string;
      limit?: number;
      offset?: number;
    } = {},
  ) {
    return this.database.db
      .select({ instance: instances, series })
      .from(instances)
      .innerJoin(series, eq(series.id, instances.seriesId))
      .where(
        and(
          eq(instances.studyId, studyId),
          filter.seriesInstanceUid
            ? eq(series.seriesInstanceUid, filter.seriesInstanceUid)
            : undefined,
          filter.sopInstanceUid ? eq(instances.sopInstanceUid, filter.sopInstanceUid) : undefined,
        ),
      )
      .orderBy(asc(series.seriesNumber), asc(instances.instanceNumber), asc(instances.createdAt))
      .limit(filter.limit ?? 100_000)
      .offset(filter.offset ?? 0);
  }
}
