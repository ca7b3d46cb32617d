import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import pg from 'pg';
import type { SessionUser } from '#contracts';
import type { AuditService } from '../../audit/audit.service.js';
import { Clock } from '../../common/clock.js';
import type { RelayConfig } from '../../config/config.js';
import { FacilitiesRepository } from '../../facilities/facilities.repository.js';
import type { BlobStore } from '../../infra/blobs/blob-store.js';
import { Database } from '../../infra/database/database.js';
import { caseEvents, cases, facilities, users } from '../../infra/database/schema.js';
import type { Logger } from '../../infra/logging/logger.js';
import type { JobQueues, NewJob } from '../../infra/queue/job-queues.js';
import { Outbox } from '../../outbox/outbox.js';
import { OutboxRepository } from '../../outbox/outbox.repository.js';
import { PoliciesRepository } from '../../policies/policies.repository.js';
import { PoliciesService } from '../../policies/policies.service.js';
import { Notifier } from '../../realtime/notifier.js';
import { CaseTimers } from '../case-timers.js';
import { CaseTransitions } from '../case-transitions.js';
import { CasesRepository } from '../cases.repository.js';
import { ClinicInboxRepository } from '../clinic-inbox.repository.js';
import { ClinicInbox } from '../clinic-inbox.js';
import { DeadlineDesk } from '../deadline-desk.js';
import { WorklistAnnouncer } from '../worklist-announcer.js';
import { WorklistQueries } from '../worklist-queries.js';
import { WorklistService } from '../worklist.service.js';

/**
 * The medium test tier of the reading workflow (docs/development.md): the real services on
 * a real database of their own (PGlite, or a fresh PostgreSQL database when asked), with
 * fakes only at the queue and socket boundary, and a clock the test moves.
 */

/** A clock the test sets and moves: a 3-minute deadline passes in one call. */
export class TestClock extends Clock {
  constructor(private current = Date.parse('2026-03-02T08:00:00Z')) {
    super();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}

/** The queue boundary: jobs the outbox hands over are kept here instead of in Redis. */
export class RecordedQueues {
  readonly added: { queue: string; job: NewJob<Record<string, unknown>> }[] = [];

  add<T extends object>(queue: string, job: NewJob<T>): Promise<void> {
    this.added.push({ queue, job: job as NewJob<Record<string, unknown>> });
    return Promise.resolve();
  }

  named(name: string) {
    return this.added.filter((entry) => entry.job.name === name);
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

const quietLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => quietLog,
} as unknown as Logger;

export type Driver = 'pglite' | 'postgres';

/** The drivers a medium test runs on: PGlite always, PostgreSQL when CI gives a server. */
export const DRIVERS: Driver[] = process.env['TEST_DATABASE_URL']
  ? ['pglite', 'postgres']
  : ['pglite'];

/** A database of the test file's own: a PGlite directory, or a PostgreSQL database, dropped after. */
export async function openTestDatabase(
  driver: Driver,
): Promise<{ database: Database; dispose: () => Promise<void> }> {
  if (driver === 'pglite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-worklist-'));
    const database = await Database.open({ dataDir });
    return {
      database,
      dispose: async () => {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const serverUrl = process.env['TEST_DATABASE_URL'];
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `telerelay_medium_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await Database.open({ databaseUrl: url.toString(), dataDir: tmpdir() });
  return {
    database,
    dispose: async () => {
      await database.close();
      await admin.query(`drop database ${name}`);
      await admin.end();
    },
  };
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
    quietLog,
  );
  const policies = new PoliciesService(
    new PoliciesRepository(database),
    facilitiesRepository,
    {} as AuditService,
    config,
  );
  const transitions = new CaseTransitions(clock);
  const announcer = new WorklistAnnouncer(repository, notifier, clock);
  const queries = new WorklistQueries(repository, {} as BlobStore);
  const timers = new CaseTimers(repository, outbox);
  const worklist = new WorklistService(
    database,
    repository,
    transitions,
    facilitiesRepository,
    outbox,
    new ClinicInbox(new ClinicInboxRepository(database)),
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
    cases: repository,
    transitions,
    worklist,
    deadlines,
    queries,
    readers,
    nurse,
    /** Another reader of a hospital. */
    readerAt: (facilityId: string) => user('reader', facilityId, 'county'),
    caseAs,
    caseRow,
    eventsOf,
    config,
  };
}

export type WorklistWorld = Awaited<ReturnType<typeof worklistWorld>>;
