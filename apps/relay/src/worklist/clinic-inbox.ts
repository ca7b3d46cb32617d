import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm';
import type { SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { Database, type Tx } from '../infra/database/database.js';
import { cases, clinicEvents, recordings } from '../infra/database/schema.js';

export type ClinicEventKind = 'diagnosis.signed' | 'case.returned';

export interface OwedEvent {
  eventId: string;
  caseId: string;
  kind: ClinicEventKind;
}

/**
 * What the relay owes each clinic, durably: an event is written in the transaction that
 * signs (or returns) the case, pushed at once, and pushed again on every reconnect until a
 * clinic client acknowledges it. Event ids only grow, so a client can drop duplicates.
 */
@Injectable()
export class ClinicInbox {
  constructor(private readonly database: Database) {}

  /**
   * Records the debt inside the caller's transaction; idempotent per case and kind. The box
   * that sent the recording is owed the same event (BoxDelivery), so it is named here.
   */
  async owe(tx: Tx, clinicId: string, caseId: string, kind: ClinicEventKind): Promise<string> {
    const [source] = await tx
      .select({ deviceId: recordings.deviceId })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(cases.id, caseId));
    await tx
      .insert(clinicEvents)
      .values({ clinicId, caseId, kind, deviceId: source?.deviceId ?? null })
      .onConflictDoNothing();
    const [row] = await tx
      .select({ id: clinicEvents.id })
      .from(clinicEvents)
      .where(and(eq(clinicEvents.caseId, caseId), eq(clinicEvents.kind, kind)));
    if (!row) throw new Error(`clinic event for ${caseId} not written`);
    return String(row.id);
  }

  async pending(clinicId: string): Promise<OwedEvent[]> {
    const rows = await this.database.db
      .select({ id: clinicEvents.id, caseId: clinicEvents.caseId, kind: clinicEvents.kind })
      .from(clinicEvents)
      .where(and(eq(clinicEvents.clinicId, clinicId), isNull(clinicEvents.acknowledgedAt)))
      .orderBy(asc(clinicEvents.id))
      .limit(500);
    return rows.map((row) => ({ eventId: String(row.id), caseId: row.caseId, kind: row.kind }));
  }

  /**
   * What a box has not acknowledged yet, oldest first, a page at a time (after `afterEventId`).
   * Only events of the given kinds, so a box is sent only what it has subscribed to.
   */
  async pendingForBox(
    deviceId: string,
    kinds: readonly ClinicEventKind[],
    afterEventId: string | null,
    limit = 100,
  ): Promise<OwedEvent[]> {
    if (kinds.length === 0) return [];
    const rows = await this.database.db
      .select({ id: clinicEvents.id, caseId: clinicEvents.caseId, kind: clinicEvents.kind })
      .from(clinicEvents)
      .where(
        and(
          eq(clinicEvents.deviceId, deviceId),
          isNull(clinicEvents.deviceReceivedAt),
          inArray(clinicEvents.kind, [...kinds]),
          afterEventId === null ? undefined : gt(clinicEvents.id, Number(afterEventId)),
        ),
      )
      .orderBy(asc(clinicEvents.id))
      .limit(limit);
    return rows.map((row) => ({ eventId: String(row.id), caseId: row.caseId, kind: row.kind }));
  }

  /**
   * The box acknowledged the event about this case (or, for a return, this recording).
   * Only the box the event is owed to can settle it; returns the case, or null when there
   * was nothing (left) to settle.
   */
  async boxReceived(
    deviceId: string,
    kind: ClinicEventKind,
    about: { caseId: string } | { recordingId: string },
  ): Promise<string | null> {
    const which =
      'caseId' in about
        ? eq(clinicEvents.caseId, about.caseId)
        : inArray(
            clinicEvents.caseId,
            this.database.db
              .select({ id: cases.id })
              .from(cases)
              .where(eq(cases.recordingId, about.recordingId)),
          );
    const [row] = await this.database.db
      .update(clinicEvents)
      .set({ deviceReceivedAt: new Date() })
      .where(
        and(
          eq(clinicEvents.deviceId, deviceId),
          eq(clinicEvents.kind, kind),
          isNull(clinicEvents.deviceReceivedAt),
          which,
        ),
      )
      .returning({ caseId: clinicEvents.caseId });
    return row?.caseId ?? null;
  }

  /**
   * A clinic client has shown the event. Only the clinic it belongs to can acknowledge it:
   * returns the case, null when this clinic acknowledged it before (a replay crossed the
   * acknowledgement), and refuses another clinic's or a missing event like REST refuses
   * another facility's case.
   */
  async acknowledge(
    user: SessionUser,
    eventId: string,
  ): Promise<{ caseId: string; kind: ClinicEventKind } | null> {
    const id = Number(eventId);
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    const [row] = await this.database.db
      .update(clinicEvents)
      .set({ acknowledgedAt: new Date(), acknowledgedBy: user.id })
      .where(
        and(
          eq(clinicEvents.id, id),
          eq(clinicEvents.clinicId, user.facilityId),
          isNull(clinicEvents.acknowledgedAt),
        ),
      )
      .returning({ caseId: clinicEvents.caseId, kind: clinicEvents.kind });
    if (row) return row;
    const [owner] = await this.database.db
      .select({ clinicId: clinicEvents.clinicId })
      .from(clinicEvents)
      .where(eq(clinicEvents.id, id));
    if (owner?.clinicId === user.facilityId) return null;
    throw new DomainError('NOT_FOUND', 'No such event for your clinic', {
      subject: `clinic-event:${id}`,
      detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
    });
  }
}
