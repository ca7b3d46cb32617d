import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type {
  AuditFilter,
  AuditPage,
  PatientAccessFilter,
  PatientAccessPage,
  SessionUser,
} from '#contracts';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/tokens.js';
import { REDACTED_KEYS, type Logger } from '../infra/logging/logger.js';
import { AUDIT_PRUNED_ACTION, storable } from './audit-chain.js';
import { AuditRepository, type AuditRow } from './audit.repository.js';

/**
 * What a caller asks to be audited: a row of the trail before redacted keys are dropped,
 * stamped with the time when it is accepted.
 */
export type AuditEntry = Omit<AuditRow, 'at'>;

/** Where a refusal happened, as its edge (REST, Socket.IO) names it. */
export interface RefusalSite {
  /** The signed-in user (`user:<id>`) or `anonymous`. */
  actor: string;
  /** `GET /api/cases/:id`, `socket.stream.watch` … */
  action: string;
  remoteAddress?: string;
}

// Compared in lower case, as the logger does: `NationalId` is dropped as `nationalId` is.
const REDACTED: ReadonlySet<string> = new Set(REDACTED_KEYS.map((key) => key.toLowerCase()));

/** A read or write of one patient's data, as `recordPatientAccess` writes it down. */
export interface PatientAccess {
  /** `user:<id>` (or `device:<id>` for a box that sent a recording for the patient). */
  actor: string;
  /** The actor's role when they acted (`clinic_staff`, `reader`, `admin` …). */
  role: string;
  /** The facility they acted for. */
  facilityId: string;
  /** `records.patient.read`, `records.history.read`, `consent.code.request` … */
  action: string;
  /** PatientIdentity.lookupKey of the patient's identifier: never the identifier itself. */
  patientKey: string;
  outcome: 'allowed' | 'denied' | 'failed';
  /** Ids and reasons only (a purpose, a case id); identifier fields are dropped anyway. */
  detail?: Record<string, unknown>;
}

/**
 * Entries `recordLater` holds at most, written or waiting to be. A box flooding refused
 * publishes or bad chunks would otherwise start one insert per packet, without limit, on the
 * database that ingest and the worklist share; beyond this they are counted and dropped.
 */
export const AUDIT_PENDING_LIMIT = 1_000;
/** Rows per insert when the buffer is written. */
const AUDIT_BATCH_ROWS = 100;
/** During a flood that never lets the buffer drain, how often the drops are reported. */
const DROP_REPORT_INTERVAL_MS = 10_000;

/** A row waiting for the writer, and who waits for it. */
interface Waiting {
  row: AuditRow;
  /** Settles a `record` call when its row is written or failed. */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
  /** A `recordLater` entry: counted in `pending`, and as dropped when its write fails. */
  later: boolean;
}

/**
 * The audit trail: who tried what, when, from where, and what the relay decided. One writer
 * per process takes every row in the order it was accepted, `record` and `recordLater`
 * alike, and writes them in batches, each one transaction at the end of the hash chain
 * (AuditRepository.append): concurrent callers share a transaction instead of queueing for
 * the chain's lock one by one.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly waiting: Waiting[] = [];
  /** `recordLater` entries accepted and not yet written or lost. */
  private laterPending = 0;
  private flushing: Promise<void> | undefined;
  /** Entries dropped since the last report, by action. */
  private dropped = new Map<string, number>();
  private lastDropReportAt = 0;

  constructor(
    private readonly audits: AuditRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Chains the rows written before the chain existed, if not done yet (docs/audit.md). */
  async onModuleInit(): Promise<void> {
    await this.audits.append([]);
  }

  /** Writes the entry; resolves when it is in the trail, rejects when it could not be. */
  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ row: this.prepare(entry), settle: { resolve, reject }, later: false });
      this.startFlush();
    });
  }

  /**
   * The audit of a read or write of patient data, awaited: it throws when the row cannot be
   * written, so the caller refuses the read rather than show a record nobody can account
   * for. `patientKey` is the HMAC lookup key of the patient's identifier, never the number.
   */
  async recordPatientAccess(access: PatientAccess): Promise<void> {
    const { actor, role, facilityId, action, patientKey, outcome, detail } = access;
    try {
      await this.record({
        actor,
        action,
        outcome,
        patientKey,
        detail: { ...detail, role, facilityId },
      });
    } catch (error) {
      this.log.error({ err: error, action }, 'audit of a patient data access failed');
      throw new DomainError('UNAVAILABLE', 'The access could not be audited; try again later');
    }
  }

  /**
   * "Who looked at my record": the rows about one patient, newest first, a page at a time
   * (`nextBefore` continues), each with the actor's name, role and facility and nothing else
   * of them (no user id, username or address). The caller decides who may ask, and audits
   * the asking.
   */
  async accessLogFor(patientKey: string, page: PatientAccessFilter): Promise<PatientAccessPage> {
    // One row more than asked for says whether an older page exists.
    const rows = await this.audits.patientAccess(patientKey, page.before, page.limit + 1);
    const shown = rows.slice(0, page.limit);
    return {
      entries: shown.map((row) => ({
        at: row.at.toISOString(),
        action: row.action,
        outcome: row.outcome,
        actorName: row.actorName ?? actorKind(row.actor),
        role: row.role,
        facilityId: row.facilityId,
        facilityName: row.facilityName,
        purpose: row.purpose,
      })),
      nextBefore: rows.length > page.limit ? (shown.at(-1)?.id ?? null) : null,
    };
  }

  /**
   * Retention of the trail: deletes the oldest rows before the cutoff and writes the cut
   * into the chain as an `audit.pruned` row, so `audit:verify` can tell it from a deletion.
   */
  prune(cutoff: Date): Promise<number> {
    return this.audits.prune(cutoff, ({ rows, throughSeq, throughHash }) =>
      this.prepare({
        actor: 'relay',
        action: AUDIT_PRUNED_ACTION,
        outcome: 'allowed',
        detail: { rows, throughSeq, throughHash, cutoff: cutoff.toISOString() },
      }),
    );
  }

  /**
   * For hot paths (broker hooks): never blocks the caller, never throws. The entry joins a
   * buffer written in batches; when `AUDIT_PENDING_LIMIT` entries are already pending it is
   * dropped and counted, and the drops are logged and written as one `audit.dropped` row.
   */
  recordLater(entry: AuditEntry): void {
    if (this.pending >= AUDIT_PENDING_LIMIT) {
      this.dropped.set(entry.action, (this.dropped.get(entry.action) ?? 0) + 1);
      return;
    }
    this.waiting.push({ row: this.prepare(entry), later: true });
    this.laterPending += 1;
    this.startFlush();
  }

  /** Entries accepted by `recordLater` and not yet written. */
  get pending(): number {
    return this.laterPending;
  }

  /** Resolves when every entry accepted so far is written (or counted as lost). */
  async drained(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drained();
  }

  private prepare(entry: AuditEntry): AuditRow {
    // Made storable here, so the row hashed, logged and written is the one read back.
    const row = storable<AuditRow>(
      entry.detail
        ? { ...entry, detail: withoutRedacted(entry.detail), at: this.clock.now() }
        : { ...entry, at: this.clock.now() },
    );
    this.log.info({ audit: row }, `audit ${entry.action} ${entry.outcome}`);
    return row;
  }

  private startFlush(): void {
    this.flushing ??= this.writeWaiting().finally(() => {
      this.flushing = undefined;
      if (this.waiting.length > 0) this.startFlush();
    });
  }

  private async writeWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, AUDIT_BATCH_ROWS);
      try {
        await this.audits.append(batch.map((waiting) => waiting.row));
        for (const waiting of batch) waiting.settle?.resolve();
      } catch (error) {
        this.log.error({ err: error, rows: batch.length }, 'audit write failed');
        for (const waiting of batch) {
          waiting.settle?.reject(error);
          if (waiting.later) {
            const { action } = waiting.row;
            this.dropped.set(action, (this.dropped.get(action) ?? 0) + 1);
          }
        }
      } finally {
        this.laterPending -= batch.filter((waiting) => waiting.later).length;
      }
      if (this.clock.now().getTime() - this.lastDropReportAt >= DROP_REPORT_INTERVAL_MS)
        this.reportDropped();
    }
    this.reportDropped();
  }

  /**
   * One log line and one audit row for everything dropped since the last report. The row
   * joins the queue without being counted, so a trail that cannot be written does not feed
   * itself reports of its own losses.
   */
  private reportDropped(): void {
    if (this.dropped.size === 0) return;
    const byAction = Object.fromEntries(this.dropped);
    const dropped = [...this.dropped.values()].reduce((sum, n) => sum + n, 0);
    this.dropped = new Map();
    this.lastDropReportAt = this.clock.now().getTime();
    this.log.warn({ dropped, byAction }, 'audit entries dropped');
    const row = this.prepare({
      actor: 'relay',
      action: 'audit.dropped',
      outcome: 'failed',
      detail: { dropped, byAction, limit: AUDIT_PENDING_LIMIT },
    });
    this.waiting.push({ row, later: false });
  }

  /**
   * The one way a refused request is written down, whichever edge refused it: the error's
   * own context (subject, reason, or a more precise actor and action) over the edge's.
   */
  refused(error: DomainError, site: RefusalSite): Promise<void> {
    const { refusal } = error;
    return this.record({
      actor: refusal.actor ?? site.actor,
      action: refusal.action ?? site.action,
      outcome: 'denied',
      subject: refusal.subject,
      remoteAddress: site.remoteAddress,
      detail: { code: error.code, ...refusal.detail },
    });
  }

  /** A page of the trail, newest first, for an administrator; the reading is audited too. */
  async search(
    admin: SessionUser,
    filter: AuditFilter,
    remoteAddress: string | undefined,
  ): Promise<AuditPage> {
    const rows = await this.audits.newestFirst(filter);
    const page = rows.slice(0, filter.limit);
    await this.record({
      actor: `user:${admin.id}`,
      action: 'admin.audit.read',
      outcome: 'allowed',
      remoteAddress,
      detail: { ...filter, returned: page.length },
    });
    return {
      entries: page,
      nextBefore: rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }
}

/** Drops secrets and patient identifiers at any depth, inside arrays too, whatever the caller passed. */
function withoutRedacted(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(detail)
      .filter(([key]) => !REDACTED.has(key.toLowerCase()))
      .map(([key, value]) => [key, redactedValue(value)]),
  );
}

function redactedValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactedValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date))
    return withoutRedacted(value as Record<string, unknown>);
  return value;
}

/** A row's actor when it is no user: a box, the relay itself, someone not signed in. */
function actorKind(actor: string): string {
  if (actor.startsWith('device:')) return 'a device';
  if (actor === 'relay') return 'the relay';
  if (actor === 'anonymous') return 'someone not signed in';
  return 'a removed user';
}
