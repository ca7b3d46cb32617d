import { Injectable } from '@nestjs/common';
import type { SessionUser } from '#contracts';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { Metrics } from '../common/metrics.js';
import type { Tx } from '../infra/database/database.js';
import {
  ClinicInboxRepository,
  type ClinicEventKind,
  type ClinicEventRow,
} from './clinic-inbox.repository.js';

export type { ClinicEventKind } from './clinic-inbox.repository.js';

export interface OwedEvent {
  eventId: string;
  caseId: string;
  kind: ClinicEventKind;
}

const owed = (row: ClinicEventRow): OwedEvent => ({
  eventId: String(row.id),
  caseId: row.caseId,
  kind: row.kind,
});

/**
 * What the relay owes each clinic, durably: an event is written in the transaction that
 * signs (or returns) the case, pushed at once, and pushed again on every reconnect until a
 * clinic client acknowledges it. Event ids only grow, so a client can drop duplicates.
 */
@Injectable()
export class ClinicInbox {
  constructor(
    private readonly events: ClinicInboxRepository,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Records the debt inside the caller's transaction; idempotent per case and kind. The box
   * that sent the recording is owed the same event (BoxDelivery), so it is named here.
   */
  async owe(tx: Tx, clinicId: string, caseId: string, kind: ClinicEventKind): Promise<string> {
    const deviceId = await this.events.sourceDevice(tx, caseId);
    const id = await this.events.insertOnce(tx, { clinicId, caseId, kind, deviceId });
    if (id === null) throw new Error(`clinic event for ${caseId} not written`);
    return String(id);
  }

  async pending(clinicId: string): Promise<OwedEvent[]> {
    return (await this.events.unacknowledged(clinicId, 500)).map(owed);
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
    const afterId = afterEventId === null ? null : Number(afterEventId);
    return (await this.events.notReceivedByBox(deviceId, kinds, afterId, limit)).map(owed);
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
    // The receipt time is what the retention sweep counts from (docs/architecture.md).
    const now = this.clock.now();
    const received = await this.events.markBoxReceived(deviceId, kind, about, now);
    if (!received) return null;
    this.lag('box', kind, received.owedAt, now);
    return received.caseId;
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
    const now = this.clock.now();
    const row = await this.events.markAcknowledged(id, user.facilityId, user.id, now);
    if (row) {
      this.lag('clinic', row.kind, row.owedAt, now);
      return { caseId: row.caseId, kind: row.kind };
    }
    if ((await this.events.clinicOf(id)) === user.facilityId) return null;
    throw new DomainError('NOT_FOUND', 'No such event for your clinic', {
      subject: `clinic-event:${id}`,
      detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
    });
  }

  /** From the moment the event was owed (the sign or return committed) to its first receipt. */
  private lag(to: 'clinic' | 'box', kind: ClinicEventKind, owedAt: Date, now: Date): void {
    const seconds = (now.getTime() - owedAt.getTime()) / 1000;
    this.metrics.observe('telerelay_delivery_lag_seconds', { to, kind }, seconds);
  }
}
