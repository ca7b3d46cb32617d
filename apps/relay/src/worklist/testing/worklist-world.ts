import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { SessionUser } from '#contracts';
import { AuditRepository } from '../../audit/audit.repository.js';
import { AuditService } from '../../audit/audit.service.js';
import { TestClock } from '../../common/testing/test-clock.js';
import type { RelayConfig } from '../../config/config.js';
import { FacilitiesRepository } from '../../facilities/facilities.repository.js';
import type { BlobStore } from '../../infra/blobs/blob-store.js';
import { type Database } from '../../infra/database/database.js';
import { caseEvents, cases, facilities, users } from '../../infra/database/schema.js';
import type { JobQueues, NewJob, QueuedJob } from '../../infra/queue/job-queues.js';
import { Outbox } from '../../outbox/outbox.js';
import { OutboxRepository } from '../../outbox/outbox.repository.js';
import { PoliciesRepository } from '../../policies/policies.repository.js';
import { PoliciesService } from '../../policies/policies.service.js';
import { PatientIdentity } from '../../records/patient-identity.js';
import { PatientsRepository } from '../../records/patients.repository.js';
import { PatientsService } from '../../records/patients.service.js';
import { Notifier } from '../../realtime/notifier.js';
import { CaseTimers } from '../case-timers.js';
import { CaseTransitions } from '../case-transitions.js';
import { CaseTransitionsRepository } from '../case-transitions.repository.js';
import { CasesRepository } from '../cases.repository.js';
import { ClinicInboxRepository } from '../clinic-inbox.repository.js';
import { ClinicInbox } from '../clinic-inbox.js';
import { DeadlineDesk } from '../deadline-desk.js';
import { WorklistAnnouncer } from '../worklist-announcer.js';
import { WorklistQueries } from '../worklist-queries.js';
import { WorklistService } from '../worklist.service.js';
import { quietLog } from '../../infra/logging/testing/quiet-log.js';
import { PrometheusMetrics } from '../../infra/metrics/prometheus-metrics.js';

/**
 * The medium test tier of the reading workflow (docs/development.md): the real services on
 * a real database of their own (PGlite, or a fresh PostgreSQL database when asked), with
 * fakes only at the queue and socket boundary, and a clock the test moves.
 */

/**
 * The queue boundary: jobs the outbox hands over are kept here instead of in Redis, and the
 * workers registered on a queue are kept so the test runs a job when it chooses (`run`).
 */
export class RecordedQueues {
  readonly added: { queue: string; job: NewJob<Record<string, unknown>> }[] = [];
  private readonly workers = new Map<string, (job: QueuedJob<never>) => Promise<void>>();

  add<T extends object>(queue: string, job: NewJob<T>): Promise<void> {
    this.added.push({ queue, job: job as NewJob<Record<string, unknown>> });
    return Promise.resolve();
  }

  named(name: string) {
    return this.added.filter((entry) => entry.job.name === name);
  }

  declare(): void {}

  work<T>(queue: string, handler: (job: QueuedJob<T>) => Promise<void>): void {
    this.workers.set(queue, handler as (job: QueuedJob<never>) => Promise<void>);
  }

  /** Runs a job the outbox handed over with the worker of its queue, as BullMQ would. */
  run(entry: { queue: string; job: NewJob<Record<string, unknown>> }): Promise<void> {
    const worker = this.workers.get(entry.queue);
    if (!worker) throw new Error(`no worker on ${entry.queue}`);
    const { id, name, data } = entry.job;
    return worker({ id, name, data, attempt: 1 } as QueuedJob<never>);
  }
}

/** The socket boundary: pushes are kept, not sent. */
export class RecordedNotifier extends Notifier {
  readonly pushed: { room: string; event: string; payload: unknown }[] = [];

  override toHospital(hospitalId: string, event: string, ...args: unknown[]): void {
    this.pushed.push({ room: `hospital:${hospitalId}`, event, payload: args[0] });
  }

  override toClinic(clinicId: string, event: string, ...args: unknown[]): void {
    this.pushed.push({ room: `clinic:${clinicId}`, event, payload: args[0] });
  }
}

const config = {
  claimLeaseSeconds: 120,
  sla: { ecgSeconds: 600, ecgStatSeconds: 180, imagingSeconds: 3600, imagingStatSeconds: 900 },
} as RelayConfig;

/**
 * The region of the tests: tertiary T above counties C1 and C2, clinic K under C1; two
 * readers at C1, one at C2, one at T, and a clinic nurse at K.
 */
export async function worklistWorld(database: Database) {
  const clock = new TestClock();
  const queues = new RecordedQueues();
  const notifier = new RecordedNotifier();
  const repository = new CasesRepository(database);
  const facilitiesRepository = new FacilitiesRepository(database);
  const outbox = new Outbox(
    new OutboxRepository(database),
    queues as unknown as JobQueues,
    clock,
    quietLog,
  );
  const policies = new PoliciesService(
    new PoliciesRepository(database),
    facilitiesRepository,
    {} as AuditService,
    clock,
    config,
  );
  const transitions = new CaseTransitions(new CaseTransitionsRepository(), clock);
  const announcer = new WorklistAnnouncer(repository, notifier, clock);
  const metrics = new PrometheusMetrics(quietLog);
  const inbox = new ClinicInbox(new ClinicInboxRepository(database), clock, metrics);
  const audit = new AuditService(new AuditRepository(database), clock, quietLog);
  const patients = new PatientsService(
    new PatientsRepository(database),
    new PatientIdentity({
      hmacKey: Buffer.alloc(32, 1),
      sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 2) }],
    }),
  );
  const queries = new WorklistQueries(repository, {} as BlobStore, patients, audit);
  const timers = new CaseTimers(repository, outbox);
  const worklist = new WorklistService(
    database,
    repository,
    transitions,
    facilitiesRepository,
    outbox,
    inbox,
    policies,
    timers,
    announcer,
    queries,
    clock,
    config,
  );
  const deadlines = new DeadlineDesk(
    queues as unknown as JobQueues,
    database,
    repository,
    facilitiesRepository,
    policies,
    worklist,
    announcer,
    notifier,
    clock,
    quietLog,
    metrics,
  );

  await database.db.insert(facilities).values([
    { id: 'hosp-t', kind: 'tertiary', name: 'Tertiary' },
    { id: 'hosp-c1', kind: 'county', name: 'County One', parentId: 'hosp-t' },
    { id: 'hosp-c2', kind: 'county', name: 'County Two', parentId: 'hosp-t' },
    { id: 'clinic-k', kind: 'clinic', name: 'Clinic K', parentId: 'hosp-c1' },
  ]);
  const user = async (
    role: SessionUser['role'],
    facilityId: string,
    facilityKind: SessionUser['facilityKind'],
  ) => {
    const username = `${role}-${randomUUID().slice(0, 8)}`;
    const [row] = await database.db
      .insert(users)
      .values({ username, displayName: username, passwordHash: 'x', role, facilityId })
      .returning({ id: users.id });
    if (!row) throw new Error('user not inserted');
    return {
      id: row.id,
      username,
      displayName: username,
      role,
      facilityId,
      facilityKind,
    } satisfies SessionUser;
  };
  const readers = {
    c1: await user('reader', 'hosp-c1', 'county'),
    c1Other: await user('reader', 'hosp-c1', 'county'),
    c2: await user('reader', 'hosp-c2', 'county'),
    t: await user('reader', 'hosp-t', 'tertiary'),
  };
  const nurse = await user('clinic_staff', 'clinic-k', 'clinic');

  /** A case put straight into the table as the test needs it (no workflow run). */
  async function caseAs(values: Partial<typeof cases.$inferInsert> = {}): Promise<string> {
    const [row] = await database.db
      .insert(cases)
      .values({
        kind: 'imaging',
        examKind: 'chest-xray',
        clinicId: 'clinic-k',
        hospitalId: 'hosp-c1',
        priority: 'routine',
        status: 'analysing',
        dueAt: new Date(clock.now().getTime() + 3_600_000),
        ...values,
      })
      .returning({ id: cases.id });
    if (!row) throw new Error('case not inserted');
    return row.id;
  }

  async function caseRow(caseId: string) {
    const [row] = await database.db.select().from(cases).where(eq(cases.id, caseId));
    return row;
  }

  async function eventsOf(caseId: string) {
    return database.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, caseId))
      .orderBy(asc(caseEvents.id));
  }

  return {
    database,
    clock,
    queues,
    notifier,
    outbox,
    inbox,
    announcer,
    facilities: facilitiesRepository,
    cases: repository,
    transitions,
    worklist,
    deadlines,
    queries,
    patients,
    audit,
    readers,
    nurse,
    metrics,
    /** Another reader of a hospital. */
    readerAt: (facilityId: string) => user('reader', facilityId, 'county'),
    caseAs,
    caseRow,
    eventsOf,
    config,
  };
}

export type WorklistWorld = Awaited<ReturnType<typeof worklistWorld>>;
