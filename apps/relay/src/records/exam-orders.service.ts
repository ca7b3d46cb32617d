import { Inject, Injectable } from '@nestjs/common';
import {
  CreateExamOrderSchema,
  orderNumberSchema,
  type CreatedExamOrder,
  type ExamOrder,
  type ExamOrderKind,
  type RepeatExamWarning,
  type SessionUser,
} from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import { parseInput } from '../common/validation.js';
import type { RelayConfig } from '../config/config.js';
import { Database, type Queryable } from '../infra/database/database.js';
import {
  ExamOrdersRepository,
  type EarlierExam,
  type ExamOrderRow,
  type WarningRow,
} from './exam-orders.repository.js';
import { drawOrderNumber } from './order-numbers.js';
import { PatientsService, type Patient } from './patients.service.js';

export type { ExamOrderRow } from './exam-orders.repository.js';

const DAY_MS = 86_400_000;

/** What the clinic is told of a repeated exam: where and when only (docs/patients.md). */
export const REPEAT_EXAM_MESSAGE =
  'This patient had the same exam recently. Its result can be seen only with the ' +
  "patient's consent code. Go ahead only if a new exam is needed.";

/**
 * Exam orders (docs/patients.md): a clinic registers the exam, the relay answers with the
 * order number the box operator enters (and, for imaging, the accession number), and warns
 * when the same exam of the same patient was done within REPEAT_EXAM_WINDOW_DAYS anywhere.
 */
@Injectable()
export class ExamOrdersService {
  constructor(
    private readonly database: Database,
    private readonly orders: ExamOrdersRepository,
    private readonly patients: PatientsService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: Pick<RelayConfig, 'repeatExamWindowDays'>,
  ) {}

  async create(user: SessionUser, body: unknown): Promise<CreatedExamOrder> {
    const input = parseInput(CreateExamOrderSchema, body);
    const now = this.clock.now();
    const result = await this.database.db.transaction(async (tx) => {
      const { patient, registered } = await this.patients.register(
        input.patient,
        { facilityId: user.facilityId },
        tx,
      );
      const order = await this.insertOrder(tx, {
        clinicId: user.facilityId,
        patientId: patient.id,
        kind: input.kind,
        modality: input.modality ?? null,
        bodyPart: input.bodyPart ?? null,
        indication: input.indication,
        urgency: input.urgency,
        createdBy: user.id,
        createdAt: now,
      });
      const earlier = await this.orders.earlierExams(
        { ...order, since: this.windowStart(now) },
        tx,
      );
      const warning =
        earlier.length === 0
          ? null
          : await this.orders.insertWarning(
              {
                patientId: patient.id,
                orderId: order.id,
                clinicId: user.facilityId,
                kind: order.kind,
                earlierCaseIds: earlier.map((exam) => exam.caseId),
                warnedAt: now,
                wentAhead: null,
              },
              tx,
            );
      return { patient, registered, order, earlier, warning };
    });
    // A write of the patient's data: in the patient's "who looked at my record".
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action: 'exam_order.create',
      patientKey: result.patient.identifierKey,
      outcome: 'allowed',
      detail: {
        orderId: result.order.id,
        patientId: result.patient.id,
        patientRegistered: result.registered,
        kind: result.order.kind,
        repeatExamWarning: result.warning?.id ?? null,
      },
    });
    return {
      order: this.toContract(result.order, result.patient),
      patientRegistered: result.registered,
      warning: result.warning && this.toWarning(result.warning, result.earlier),
    };
  }

  /** The clinic's open orders, newest first. */
  async openOrders(user: SessionUser): Promise<ExamOrder[]> {
    const rows = await this.orders.openOf(user.facilityId);
    const patients = new Map<string, Patient>();
    for (const row of rows) {
      if (!patients.has(row.patientId)) {
        const patient = await this.patients.byId(row.patientId);
        if (patient) patients.set(patient.id, patient);
      }
    }
    return rows.flatMap((row) => {
      const patient = patients.get(row.patientId);
      return patient ? [this.toContract(row, patient)] : [];
    });
  }

  /** The clinic goes ahead despite the warning; the order stays open for the box. */
  async goAhead(user: SessionUser, orderNumber: string): Promise<ExamOrder> {
    const order = await this.ownOpenOrder(user, orderNumber);
    await this.orders.decideWarning(order.id, true, this.clock.now());
    await this.audit.record({
      actor: `user:${user.id}`,
      action: 'exam_order.go_ahead',
      outcome: 'allowed',
      subject: `exam_order:${order.id}`,
    });
    return this.contractOf(order);
  }

  /** The clinic cancels the order (after a warning, or for any reason while still open). */
  async cancel(user: SessionUser, orderNumber: string): Promise<ExamOrder> {
    const order = await this.ownOpenOrder(user, orderNumber);
    const now = this.clock.now();
    await this.database.db.transaction(async (tx) => {
      if (!(await this.orders.close(order.id, 'cancelled', now, tx))) {
        throw new DomainError('CONFLICT', 'The order is no longer open');
      }
      await this.orders.decideWarning(order.id, false, now, tx);
    });
    await this.audit.record({
      actor: `user:${user.id}`,
      action: 'exam_order.cancel',
      outcome: 'allowed',
      subject: `exam_order:${order.id}`,
    });
    return this.contractOf({ ...order, status: 'cancelled' });
  }

  /** The order a box recording or a study names, whatever its state. */
  byOrderNumber(orderNumber: string, tx?: Queryable): Promise<ExamOrderRow | undefined> {
    const parsed = orderNumberSchema.safeParse(orderNumber);
    return parsed.success ? this.orders.byOrderNumber(parsed.data, tx) : Promise.resolve(undefined);
  }

  /**
   * The ECG order of this clinic a box recording names, unless cancelled: an order already
   * `recorded` still takes a second recording (the first was sent back as unreadable).
   * Another clinic's order is no order here.
   */
  async ecgOrderOf(
    clinicId: string,
    orderNumber: string,
    tx?: Queryable,
  ): Promise<ExamOrderRow | undefined> {
    const order = await this.byOrderNumber(orderNumber, tx);
    if (!order || order.clinicId !== clinicId) return undefined;
    return order.kind === 'ecg' && order.status !== 'cancelled' ? order : undefined;
  }

  /**
   * The imaging order of this clinic a study names by its Accession Number (0008,0050),
   * unless cancelled. Another clinic's order is no order here.
   */
  async imagingOrderOf(
    clinicId: string,
    accessionNumber: string,
    tx?: Queryable,
  ): Promise<ExamOrderRow | undefined> {
    const order = await this.orders.byAccessionNumber(
      accessionNumber.trim().toUpperCase().replace(/-/g, ''),
      tx,
    );
    if (!order || order.clinicId !== clinicId) return undefined;
    return order.kind === 'imaging' && order.status !== 'cancelled' ? order : undefined;
  }

  /**
   * The recording or study of the order arrived: the order is `recorded`, and an undecided
   * warning counts as gone ahead (the exam was done). Inside the caller's transaction.
   */
  async markRecorded(tx: Queryable, orderId: string): Promise<void> {
    const now = this.clock.now();
    await this.orders.close(orderId, 'recorded', now, tx);
    await this.orders.decideWarning(orderId, true, now, tx);
  }

  /**
   * A study arrived for a patient without an order of this clinic: when the same exam was
   * done within the window, the warning is counted (gone ahead: the images exist already).
   */
  async warnOfArrivedExam(
    tx: Queryable,
    arrived: {
      patientId: string;
      clinicId: string;
      caseId: string;
      kind: ExamOrderKind;
      modality: string | null;
      bodyPart: string | null;
    },
  ): Promise<string[]> {
    const now = this.clock.now();
    const earlier = await this.orders.earlierExams(
      { ...arrived, since: this.windowStart(now), excludeCaseId: arrived.caseId },
      tx,
    );
    if (earlier.length === 0) return [];
    await this.orders.insertWarning(
      {
        patientId: arrived.patientId,
        orderId: null,
        clinicId: arrived.clinicId,
        kind: arrived.kind,
        earlierCaseIds: earlier.map((exam) => exam.caseId),
        warnedAt: now,
        wentAhead: true,
      },
      tx,
    );
    return earlier.map((exam) => exam.caseId);
  }

  private windowStart(now: Date): Date {
    return new Date(now.getTime() - this.config.repeatExamWindowDays * DAY_MS);
  }

  private async insertOrder(
    tx: Queryable,
    order: Omit<ExamOrderRow, 'id' | 'orderNumber' | 'accessionNumber' | 'status' | 'recordedAt'>,
  ): Promise<ExamOrderRow> {
    // A taken number is drawn again; with ~8·10^11 numbers a second draw is already rare.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const orderNumber = drawOrderNumber();
      const inserted = await this.orders.insert(
        {
          ...order,
          orderNumber,
          // The modality operator types the same number as the Accession Number (0008,0050).
          accessionNumber: order.kind === 'imaging' ? orderNumber : null,
        },
        tx,
      );
      if (inserted) return inserted;
    }
    throw new Error('no free order number after 5 draws');
  }

  /** The clinic's own open order; another clinic's looks exactly like a missing one. */
  private async ownOpenOrder(user: SessionUser, orderNumber: string): Promise<ExamOrderRow> {
    const order = await this.byOrderNumber(orderNumber);
    if (!order || order.clinicId !== user.facilityId) {
      throw new DomainError('NOT_FOUND', 'No such order at your clinic', {
        detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
      });
    }
    if (order.status !== 'open') throw new DomainError('CONFLICT', `The order is ${order.status}`);
    return order;
  }

  private async contractOf(order: ExamOrderRow): Promise<ExamOrder> {
    const patient = await this.patients.byId(order.patientId);
    if (!patient) throw new Error(`patient ${order.patientId} of order ${order.id} is missing`);
    return this.toContract(order, patient);
  }

  private toContract(order: ExamOrderRow, patient: Patient): ExamOrder {
    return {
      id: order.id,
      orderNumber: order.orderNumber,
      clinicId: order.clinicId,
      patient: this.patients.summary(patient),
      kind: order.kind,
      modality: order.modality,
      bodyPart: order.bodyPart,
      indication: order.indication,
      urgency: order.urgency,
      status: order.status,
      accessionNumber: order.accessionNumber,
      createdAt: order.createdAt.toISOString(),
      recordedAt: order.recordedAt?.toISOString() ?? null,
    };
  }

  private toWarning(warning: WarningRow, earlier: EarlierExam[]): RepeatExamWarning {
    return {
      id: warning.id,
      earlierExams: earlier.map((exam) => ({
        facilityName: exam.facilityName,
        at: exam.at.toISOString(),
        kind: exam.kind,
        modality: exam.modality,
        bodyPart: exam.bodyPart,
      })),
      windowDays: this.config.repeatExamWindowDays,
      message: REPEAT_EXAM_MESSAGE,
      wentAhead: warning.wentAhead,
    };
  }
}
