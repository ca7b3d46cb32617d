import { Injectable } from '@nestjs/common';
import { and, desc, eq, gte, isNull, ne, sql } from 'drizzle-orm';
import type { ExamOrderKind, ExamOrderStatus, ExamUrgency } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import {
  cases,
  examOrders,
  facilities,
  repeatExamWarnings,
  series,
  studies,
} from '../infra/database/schema.js';

export interface ExamOrderRow {
  id: string;
  orderNumber: string;
  clinicId: string;
  patientId: string;
  kind: ExamOrderKind;
  modality: string | null;
  bodyPart: string | null;
  indication: string;
  urgency: ExamUrgency;
  status: ExamOrderStatus;
  accessionNumber: string | null;
  createdBy: string;
  createdAt: Date;
  recordedAt: Date | null;
}

export type NewExamOrder = Omit<ExamOrderRow, 'id' | 'status' | 'createdAt' | 'recordedAt'> & {
  createdAt: Date;
};

/** An earlier exam of a patient: where and when, never what was found. */
export interface EarlierExam {
  caseId: string;
  facilityName: string;
  at: Date;
  kind: ExamOrderKind;
  modality: string | null;
  bodyPart: string | null;
}

export interface WarningRow {
  id: string;
  orderId: string | null;
  earlierCaseIds: string[];
  wentAhead: boolean | null;
}

const orderColumns = {
  id: examOrders.id,
  orderNumber: examOrders.orderNumber,
  clinicId: examOrders.clinicId,
  patientId: examOrders.patientId,
  kind: examOrders.kind,
  modality: examOrders.modality,
  bodyPart: examOrders.bodyPart,
  indication: examOrders.indication,
  urgency: examOrders.urgency,
  status: examOrders.status,
  accessionNumber: examOrders.accessionNumber,
  createdBy: examOrders.createdBy,
  createdAt: examOrders.createdAt,
  recordedAt: examOrders.recordedAt,
};

const warningColumns = {
  id: repeatExamWarnings.id,
  orderId: repeatExamWarnings.orderId,
  earlierCaseIds: repeatExamWarnings.earlierCaseIds,
  wentAhead: repeatExamWarnings.wentAhead,
};

@Injectable()
export class ExamOrdersRepository {
  constructor(private readonly database: Database) {}

  /** Inserts the order; undefined when its order number is taken (the caller draws again). */
  async insert(order: NewExamOrder, tx: Queryable): Promise<ExamOrderRow | undefined> {
    const [row] = await tx
      .insert(examOrders)
      .values(order)
      .onConflictDoNothing({ target: examOrders.orderNumber })
      .returning(orderColumns);
    return row;
  }

  async byOrderNumber(
    orderNumber: string,
    tx: Queryable = this.database.db,
  ): Promise<ExamOrderRow | undefined> {
    const [row] = await tx
      .select(orderColumns)
      .from(examOrders)
      .where(eq(examOrders.orderNumber, orderNumber));
    return row;
  }

  async byAccessionNumber(
    accessionNumber: string,
    tx: Queryable = this.database.db,
  ): Promise<ExamOrderRow | undefined> {
    const [row] = await tx
      .select(orderColumns)
      .from(examOrders)
      .where(eq(examOrders.accessionNumber, accessionNumber));
    return row;
  }

  async byId(id: string, tx: Queryable = this.database.db): Promise<ExamOrderRow | undefined> {
    const [row] = await tx.select(orderColumns).from(examOrders).where(eq(examOrders.id, id));
    return row;
  }

  openOf(clinicId: string): Promise<ExamOrderRow[]> {
    return this.database.db
      .select(orderColumns)
      .from(examOrders)
      .where(and(eq(examOrders.clinicId, clinicId), eq(examOrders.status, 'open')))
      .orderBy(desc(examOrders.createdAt))
      .limit(200);
  }

  /** Moves an open order to `status`; false when it was not open. */
  async close(
    orderId: string,
    status: 'recorded' | 'cancelled',
    at: Date,
    tx: Queryable = this.database.db,
  ): Promise<boolean> {
    const rows = await tx
      .update(examOrders)
      .set({ status, recordedAt: status === 'recorded' ? at : null })
      .where(and(eq(examOrders.id, orderId), eq(examOrders.status, 'open')))
      .returning({ id: examOrders.id });
    return rows.length === 1;
  }

  /**
   * The patient's exams of this kind since `since` at any facility, newest first: ECG cases,
   * or imaging cases of the same modality and body part (by their order, or by a series of
   * their study). A case sent back as unreadable was no exam.
   */
  earlierExams(
    query: {
      patientId: string;
      kind: ExamOrderKind;
      modality: string | null;
      bodyPart: string | null;
      since: Date;
      excludeCaseId?: string;
    },
    tx: Queryable = this.database.db,
  ): Promise<EarlierExam[]> {
    // Body Part Examined (0018,0015) is optional in DICOM: a study without one is matched by
    // its modality alone (docs/patients.md).
    const orderPart =
      query.bodyPart === null ? sql`true` : sql`${examOrders.bodyPart} = ${query.bodyPart}`;
    const seriesPart =
      query.bodyPart === null ? sql`true` : sql`upper(${series.bodyPart}) = ${query.bodyPart}`;
    const sameImaging =
      query.kind === 'imaging'
        ? sql`((${examOrders.modality} = ${query.modality} and ${orderPart})
            or exists (select 1 from ${series} join ${studies} on ${studies.id} = ${series.studyId}
              where ${studies.caseId} = ${cases.id} and upper(${series.modality}) = ${query.modality}
              and ${seriesPart}))`
        : undefined;
    return tx
      .select({
        caseId: cases.id,
        facilityName: facilities.name,
        at: cases.createdAt,
        kind: cases.kind,
        modality: examOrders.modality,
        bodyPart: examOrders.bodyPart,
      })
      .from(cases)
      .innerJoin(facilities, eq(facilities.id, cases.clinicId))
      .leftJoin(examOrders, eq(examOrders.id, cases.orderId))
      .where(
        and(
          eq(cases.patientId, query.patientId),
          eq(cases.kind, query.kind),
          gte(cases.createdAt, query.since),
          ne(cases.status, 'returned'),
          query.excludeCaseId ? ne(cases.id, query.excludeCaseId) : undefined,
          sameImaging,
        ),
      )
      .orderBy(desc(cases.createdAt))
      .limit(10);
  }

  async insertWarning(
    warning: {
      patientId: string;
      orderId: string | null;
      clinicId: string;
      kind: ExamOrderKind;
      earlierCaseIds: string[];
      warnedAt: Date;
      wentAhead: boolean | null;
    },
    tx: Queryable,
  ): Promise<WarningRow> {
    const [row] = await tx
      .insert(repeatExamWarnings)
      .values({ ...warning, decidedAt: warning.wentAhead === null ? null : warning.warnedAt })
      .returning(warningColumns);
    if (!row) throw new Error('repeat exam warning not written');
    return row;
  }

  async warningOf(
    orderId: string,
    tx: Queryable = this.database.db,
  ): Promise<WarningRow | undefined> {
    const [row] = await tx
      .select(warningColumns)
      .from(repeatExamWarnings)
      .where(eq(repeatExamWarnings.orderId, orderId));
    return row;
  }

  /** Records the clinic's decision once: a later call does not change the first answer. */
  async decideWarning(
    orderId: string,
    wentAhead: boolean,
    at: Date,
    tx: Queryable = this.database.db,
  ): Promise<void> {
    await tx
      .update(repeatExamWarnings)
      .set({ wentAhead, decidedAt: at })
      .where(and(eq(repeatExamWarnings.orderId, orderId), isNull(repeatExamWarnings.wentAhead)));
  }
}
