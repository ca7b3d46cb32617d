import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '#contracts';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { TestClock } from '../common/testing/test-clock.js';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
import type { Database } from '../infra/database/database.js';
import { auditLog, facilities, sessions, users } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { RefreshTokens } from './refresh-tokens.js';
import { SecretHasher } from './secret-hasher.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { UsersAdminService } from './users-admin.service.js';
import { UsersRepository } from './users.repository.js';

const admin: SessionUser = {
  id: randomUUID(),
  username: 'admin',
  displayName: 'Admin',
  role: 'admin',
  facilityId: 'county-u',
  facilityKind: 'county',
};

/** Accounts for administrators: password reset and role change end the user's sessions. */
describe.each(DRIVERS)('UsersAdminService on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let service: UsersAdminService;
  let sessionsService: SessionsService;
  const hasher = new SecretHasher();
  const clock = new TestClock();

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    await database.db.insert(facilities).values([
      { id: 'county-u', kind: 'county', name: 'County U', parentId: null },
      { id: 'clinic-u', kind: 'clinic', name: 'Clinic U', parentId: 'county-u' },
    ]);
    sessionsService = new SessionsService(
      new SessionsRepository(database),
      new RefreshTokens('a-test-secret-of-enough-length-0123456789'),
      clock,
    );
    const audit = new AuditService(new AuditRepository(database), clock, quietLog);
    service = new UsersAdminService(
      new UsersRepository(database),
      new FacilitiesRepository(database),
      hasher,
      sessionsService,
      audit,
      new FacilitiesService(
        new FacilitiesRepository(database),
        database,
        audit,
        new ClinicAeTitlesRepository(database),
      ),
    );
  }, 60_000);
  afterAll(() => dispose());

  const revokedReasons = async (userId: string) =>
    (await database.db.select().from(sessions).where(eq(sessions.userId, userId))).map(
      (row) => row.revokedReason,
    );

  it('resets a password: the new one works, the old does not, sessions end, the audit names no password', async () => {
    const user = await service.create(admin, {
      username: 'reader.reset',
      displayName: 'Dr Reset',
      role: 'reader',
      facilityId: 'county-u',
      password: 'the-old-password',
    });
    const session = await sessionsService.start(user.id, 3600);
    expect(await sessionsService.isLive(session.sessionId)).toBe(true);

    await service.update(admin, user.id, { password: 'the-new-password' });
    const [row] = await database.db.select().from(users).where(eq(users.id, user.id));
    expect(await hasher.verify(row!.passwordHash, 'the-new-password')).toBe(true);
    expect(await hasher.verify(row!.passwordHash, 'the-old-password')).toBe(false);
    expect(await sessionsService.isLive(session.sessionId)).toBe(false);
    expect(await revokedReasons(user.id)).toEqual(['credentials-changed']);
    const audited = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'admin.user.update'));
    expect(audited.at(-1)).toMatchObject({
      subject: `user:${user.id}`,
      detail: { changed: ['password'], sessionsEnded: 1 },
    });
    expect(JSON.stringify(audited)).not.toContain('the-new-password');
  });

  it('changes a role where the facility allows it, ending sessions, and refuses one it does not', async () => {
    const user = await service.create(admin, {
      username: 'staff.role',
      displayName: 'Nurse Role',
      role: 'clinic_staff',
      facilityId: 'clinic-u',
      password: 'a-long-password',
    });
    const session = await sessionsService.start(user.id, 3600);
    // A reader reads at a hospital, not at a clinic.
    await expect(service.update(admin, user.id, { role: 'reader' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'a reader belongs to a county or tertiary hospital',
    });
    expect(await sessionsService.isLive(session.sessionId)).toBe(true);

    const changed = await service.update(admin, user.id, { role: 'health_authority' });
    expect(changed.role).toBe('health_authority');
    expect(await sessionsService.isLive(session.sessionId)).toBe(false);

    await expect(service.update(admin, randomUUID(), { role: 'admin' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('renames without ending sessions, and refuses a username that is taken (409)', async () => {
    const user = await service.create(admin, {
      username: 'reader.keep',
      displayName: 'Dr Keep',
      role: 'reader',
      facilityId: 'county-u',
      password: 'a-long-password',
    });
    const session = await sessionsService.start(user.id, 3600);
    const renamed = await service.update(admin, user.id, { displayName: 'Dr Kept' });
    expect(renamed.displayName).toBe('Dr Kept');
    expect(await sessionsService.isLive(session.sessionId)).toBe(true);
    await expect(
      service.create(admin, {
        username: 'reader.keep',
        displayName: 'Another',
        role: 'reader',
        facilityId: 'county-u',
        password: 'a-long-password',
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
