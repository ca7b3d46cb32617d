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
  via: 'stow' | 'c-store' | 'upload';
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

/** What the statement recording an instance answers. */
interface RecordedRow {
  study_id: string;
  case_id: string | null;
  study_created: boolean;
  series_created: boolean;
  inserted: boolean;
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
  /**
   * Built once: it runs for every received instance, and drizzle's building of the query
   * each time cost about half as much as PGlite's running it (the relay's own thread).
   */
  private readonly storedSha256Query;

  constructor(private readonly database: Database) {
    this.storedSha256Query = database.db
      .select({ sha256: instances.sha256 })
      .from(instances)
      .where(
        and(
          eq(instances.clinicId, sql.placeholder('clinicId')),
          eq(instances.sopInstanceUid, sql.placeholder('sopInstanceUid')),
        ),
      )
      .prepare('imaging_stored_sha256');
  }

  /**
   * Records one inspected instance exactly once; the caller has looked for a stored one
   * first (`storedSha256`, before the blob is moved). A parallel insert of the same SOP
   * Instance UID that wins makes this one `already-stored` (same bytes) or a `conflict`;
   * parallel inserts of one study or series meet on the unique indexes (INSERT … ON
   * CONFLICT) and make one row each.
   */
  async recordInstance(
    input: NewInstance,
    onNewStudy: (tx: Tx, studyId: string, at: Date) => Promise<void>,
  ): Promise<RecordOutcome> {
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
    const [row] = await this.storedSha256Query.execute({ clinicId, sopInstanceUid });
    return row?.sha256;
  }

  /**
   * The study, series and instance rows and their counts in one statement (a study's
   * upsert, its series' upsert, the instance's insert as data-modifying CTEs), plus one
   * more only when the series is new: on PGlite, which runs in the relay's own thread,
   * each statement costs a few ms of CPU per stored instance. Counts are raised in the
   * upserts; a lost race on the instance rolls them back with the transaction.
   */
  private async insert(tx: Tx, input: NewInstance): Promise<RecordOutcome> {
    const { instance: i, at } = input;
    const atIso = at.toISOString();
    const modality = JSON.stringify(i.modality ? [i.modality] : []);
    const result = (await tx.execute(sql`
      with study as (
        insert into studies (study_instance_uid, clinic_id, patient_id, patient_name,
          patient_sex, patient_birth_date, study_date, study_time, description,
          accession_number, modalities, instance_count, last_instance_at)
        values (${i.studyInstanceUid}::text, ${input.clinicId}::text, ${i.patient.id}::text,
          ${i.patient.name}::text, ${i.patient.sex}::text, ${i.patient.birthDate}::text,
          ${i.study.date}::text, ${i.study.time}::text, ${i.study.description}::text,
          ${i.study.accessionNumber}::text, ${modality}::jsonb, 1, ${atIso}::timestamptz)
        on conflict (clinic_id, study_instance_uid) do update set
          last_instance_at = excluded.last_instance_at,
          instance_count = studies.instance_count + 1,
          modalities = case when studies.modalities @> excluded.modalities
            then studies.modalities else studies.modalities || excluded.modalities end
        returning id, case_id, (xmax = 0) as created
      ), serie as (
        insert into series (study_id, series_instance_uid, modality, series_number,
          description, body_part, instance_count)
        select study.id, ${i.seriesInstanceUid}::text, ${i.modality}::text,
          ${i.series.number}::integer, ${i.series.description}::text,
          ${i.series.bodyPart}::text, 1
        from study
        on conflict (study_id, series_instance_uid) do update set
          instance_count = series.instance_count + 1
        returning id, (xmax = 0) as created
      ), inserted as (
        insert into instances (study_id, series_id, clinic_id, sop_instance_uid,
          sop_class_uid, instance_number, transfer_syntax_uid, sha256, size_bytes, "rows",
          "columns", frames, image, pixel_data, metadata, received_via, created_at)
        select study.id, serie.id, ${input.clinicId}::text, ${i.sopInstanceUid}::text,
          ${i.sopClassUid}::text, ${i.instanceNumber}::integer, ${i.transferSyntaxUid}::text,
          ${input.sha256}::text, ${input.sizeBytes}::integer, ${i.image?.rows ?? null}::integer,
          ${i.image?.columns ?? null}::integer, ${i.image?.numberOfFrames ?? 1}::integer,
          ${i.image ? JSON.stringify(i.image) : null}::jsonb,
          ${i.pixelData ? JSON.stringify(i.pixelData) : null}::jsonb,
          ${JSON.stringify(i.json)}::jsonb, ${input.via}::text, ${atIso}::timestamptz
        from study, serie
        on conflict (clinic_id, sop_instance_uid) do nothing
        returning id
      )
      select study.id as study_id, study.case_id, study.created as study_created,
        serie.created as series_created, exists (select 1 from inserted) as inserted
      from study, serie
    `)) as unknown as { rows: RecordedRow[] };
    const [row] = result.rows;
    if (!row) throw new Error('study not written');
    if (!row.inserted) throw new InsertRaceLost();
    if (row.series_created) {
      await tx
        .update(studies)
        .set({ seriesCount: sql`${studies.seriesCount} + 1` })
        .where(eq(studies.id, row.study_id));
    }
    return {
      outcome: 'stored',
      studyId: row.study_id,
      studyCreated: row.study_created,
      caseId: row.case_id,
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
