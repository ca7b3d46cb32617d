import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, inArray, isNull } from 'drizzle-orm';
import { Database, type Tx } from '../infra/database/database.js';
import { cases, clinicEvents, recordings } from '../infra/database/schema.js';

export type ClinicEventKind = 'diagnosis.signed' | 'case.returned';

/** An event as the `clinic_events` table holds it: ids are bigserials, handed out as numbers. */
export interface ClinicEventRow {
  id: number;
  caseId: string;
  kind: ClinicEventKind;
}

/** The `clinic_events` table: what each clinic and box is owed, and what they acknowledged. */
@Injectable()
export class ClinicInboxRepository {
  constructor(private readonly database: Database) {}

  /** The box that sent the case's recording, if the case has one. */
  async sourceDevice(tx: Tx, caseId: string): Promise<string | null> {
    const [source] = await tx
      .select({ deviceId: recordings.deviceId })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(cases.id, caseId));
    return source?.deviceId ?? null;
  }

  /** Adds the event unless the case already has one of that kind; returns its id either way. */
  async insertOnce(
    tx: Tx,
    event: { clinicId: string; caseId: string; kind: ClinicEventKind; deviceId: string | null },
  ): Promise<number | null> {
    await tx.insert(clinicEvents).values(event).onConflictDoNothing();
    const [row] = await tx
      .select({ id: clinicEvents.id })
      .from(clinicEvents)
      .where(and(eq(clinicEvents.caseId, event.caseId), eq(clinicEvents.kind, event.kind)));
    return row?.id ?? null;
  }

  /** The clinic's unacknowledged events, oldest first, at most `limit`. */
  async unacknowledged(clinicId: string, limit: number): Promise<ClinicEventRow[]> {
    return this.database.db
      .select({ id: clinicEvents.id, caseId: clinicEvents.caseId, kind: clinicEvents.kind })
      .from(clinicEvents)
      .where(and(eq(clinicEvents.clinicId, clinicId), isNull(clinicEvents.acknowledgedAt)))
      .orderBy(asc(clinicEvents.id))
      .limit(limit);
  }

  /** The box's events of these kinds it has not received, oldest first, after `afterId`. */
  async notReceivedByBox(
    deviceId: string,
    kinds: readonly ClinicEventKind[],
    afterId: number | null,
    limit: number,
  ): Promise<ClinicEventRow[]> {
    return this.database.db
      .select({ id: clinicEvents.id, caseId: clinicEvents.caseId, kind: clinicEvents.kind })
      .from(clinicEvents)
      .where(
        and(
          eq(clinicEvents.deviceId, deviceId),
          isNull(clinicEvents.deviceReceivedAt),
          inArray(clinicEvents.kind, [...kinds]),
          afterId === null ? undefined : gt(clinicEvents.id, afterId),
        ),
      )
      .orderBy(asc(clinicEvents.id))
      .limit(limit);
  }

  /**
   * Marks the box's not yet received event of this kind about the case (or the case of the
   * recording) received; returns the case and when the event was owed, or null when no
   * such event was waiting.
   */
  async markBoxReceived(
    deviceId: string,
    kind: ClinicEventKind,
    about: { caseId: string } | { recordingId: string },
    at: Date,
  ): Promise<{ caseId: string; owedAt: Date } | null> {
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
      .set({ deviceReceivedAt: at })
      .where(
        and(
          eq(clinicEvents.deviceId, deviceId),
          eq(clinicEvents.kind, kind),
          isNull(clinicEvents.deviceReceivedAt),
          which,
        ),
      )
      .returning({ caseId: clinicEvents.caseId, owedAt: clinicEvents.createdAt });
    return row ?? null;
  }

  /**
   * Marks the event acknowledged by the user if it belongs to `clinicId` and was not
   * acknowledged yet; returns it, or null when nothing changed.
   */
  async markAcknowledged(
    id: number,
    clinicId: string,
    userId: string,
    at: Date,
  ): Promise<{ caseId: string; kind: ClinicEventKind; owedAt: Date } | null> {
    const [row] = await this.database.db
      .update(clinicEvents)
      .set({ acknowledgedAt: at, acknowledgedBy: userId })
      .where(
        and(
          eq(clinicEvents.id, id),
          eq(clinicEvents.clinicId, clinicId),
          isNull(clinicEvents.acknowledgedAt),
        ),
      )
      .returning({
        caseId: clinicEvents.caseId,
        kind: clinicEvents.kind,
        owedAt: clinicEvents.createdAt,
      });
    return row ?? null;
  }

  /** The clinic the event is owed to, or null when there is no such event. */
  async clinicOf(id: number): Promise<string | null> {
    const [owner] = await this.database.db
      .select({ clinicId: clinicEvents.clinicId })
      .from(clinicEvents)
      .where(eq(clinicEvents.id, id));
    return owner?.clinicId ?? null;
  }
}
