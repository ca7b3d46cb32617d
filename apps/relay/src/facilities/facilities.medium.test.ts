import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '#contracts';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { TestClock } from '../common/testing/test-clock.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { DevicesService } from '../devices/devices.service.js';
import { FakeLinks } from '../devices/testing/fake-links.js';
import { RefreshTokens } from '../identity/refresh-tokens.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { SessionsRepository } from '../identity/sessions.repository.js';
import { SessionsService } from '../identity/sessions.service.js';
import { UsersAdminService } from '../identity/users-admin.service.js';
import { UsersRepository } from '../identity/users.repository.js';
import type { Database } from '../infra/database/database.js';
import { auditLog, cases, facilities, sessions } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { PoliciesRepository } from '../policies/policies.repository.js';
import { ClinicAeTitlesRepository } from './clinic-ae-titles.repository.js';
import { FacilitiesRepository } from './facilities.repository.js';
import { FacilitiesService } from './facilities.service.js';

const admin: SessionUser = {
  id: randomUUID(),
  username: 'admin',
  displayName: 'Admin',
  role: 'admin',
  facilityId: 'tertiary-d',
  facilityKind: 'tertiary',
};

/**
 * Disabling a facility, with the services that act on it: its people's sessions end, its
 * boxes leave the broker and are refused, its DICOM machines are unknown; and what may not be
 * disabled (open cases, enabled facilities below, another hospital's overflow) is refused.
 */
describe.each(DRIVERS)('disabling a facility on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let hierarchy: FacilitiesService;
  let people: UsersAdminService;
  let sessionsService: SessionsService;
  let boxes: DevicesService;
  let devices: DevicesRepository;
  let aeTitles: ClinicAeTitlesRepository;
  const links = new FakeLinks();
  const clock = new TestClock();

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    await database.db.insert(facilities).values([
      { id: 'tertiary-d', kind: 'tertiary', name: 'T', parentId: null },
      { id: 'county-d', kind: 'county', name: 'C', parentId: 'tertiary-d' },
      { id: 'county-e', kind: 'county', name: 'E', parentId: 'tertiary-d' },
      { id: 'clinic-d', kind: 'clinic', name: 'K', parentId: 'county-d' },
      { id: 'clinic-e', kind: 'clinic', name: 'L', parentId: 'county-e' },
    ]);
    const audit = new AuditService(new AuditRepository(database), clock, quietLog);
    const repository = new FacilitiesRepository(database);
    aeTitles = new ClinicAeTitlesRepository(database);
    hierarchy = new FacilitiesService(repository, database, audit, aeTitles);
    sessionsService = new SessionsService(
      new SessionsRepository(database),
      new RefreshTokens('a-test-secret-of-enough-length-0123456789'),
      clock,
    );
    const hasher = new SecretHasher();
    people = new UsersAdminService(
      new UsersRepository(database),
      repository,
      hasher,
      sessionsService,
      audit,
      hierarchy,
    );
    devices = new DevicesRepository(database);
    boxes = new DevicesService(devices, repository, hasher, audit, links, hierarchy);
  }, 60_000);
  afterAll(() => dispose());

  const openCase = (clinicId: string, hospitalId: string) =>
    database.db
      .insert(cases)
      .values({
        kind: 'ecg',
        examKind: 'ecg-12',
        priority: 'routine',
        clinicId,
        hospitalId,
        status: 'awaiting_review',
        dueAt: new Date(clock.now().getTime() + 3_600_000),
      })
      .returning({ id: cases.id });

  it('ends the sessions of its people, takes its boxes off the broker and refuses its machines; enabled again, they come back', async () => {
    const nurse = await people.create(admin, {
      username: 'nurse.d',
      displayName: 'Nurse D',
      role: 'clinic_staff',
      facilityId: 'clinic-d',
      password: 'a-long-password',
    });
    const session = await sessionsService.start(nurse.id, 3600);
    await boxes.register(admin, { id: 'box-d1', facilityId: 'clinic-d' });
    await boxes.register(admin, { id: 'box-d2', facilityId: 'clinic-d' });
    links.connected.add('box-d1');
    await hierarchy.setAeTitles(admin, 'clinic-d', ['CLINIC_D_DR']);

    const disabled = await hierarchy.update(admin, 'clinic-d', { disabled: true });
    expect(disabled).toMatchObject({ id: 'clinic-d', disabled: true });
    expect(await sessionsService.isLive(session.sessionId)).toBe(false);
    const [revoked] = await database.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, session.sessionId));
    expect(revoked?.revokedReason).toBe('facility-disabled');
    expect(await new UsersRepository(database).sessionUserById(nurse.id)).toBeUndefined();
    expect(links.disconnected).toEqual(['box-d1']);
    expect(await devices.find('box-d2')).toMatchObject({ disabled: false, clinicDisabled: true });
    expect(await aeTitles.clinicOf('CLINIC_D_DR')).toEqual({
      clinicId: 'clinic-d',
      disabled: true,
    });
    const [entry] = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'admin.facility.disable'));
    expect(entry).toMatchObject({
      subject: 'facility:clinic-d',
      detail: { sessionsEnded: 1, boxesDisconnected: 1 },
    });

    // Nothing new is put there while it is disabled.
    await expect(
      boxes.register(admin, { id: 'box-d3', facilityId: 'clinic-d' }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: 'clinic-d is disabled; enable it first' });
    await expect(
      people.create(admin, {
        username: 'nurse.d2',
        displayName: 'Nurse D2',
        role: 'clinic_staff',
        facilityId: 'clinic-d',
        password: 'a-long-password',
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });

    await hierarchy.update(admin, 'clinic-d', { disabled: false });
    expect(await new UsersRepository(database).sessionUserById(nurse.id)).toMatchObject({
      username: 'nurse.d',
    });
    expect(await devices.find('box-d2')).toMatchObject({ clinicDisabled: false });
    expect(
      await database.db.select().from(auditLog).where(eq(auditLog.action, 'admin.facility.enable')),
    ).toHaveLength(1);
  });

  it('refuses while a case is open, while a clinic below is enabled, or while it takes another hospital’s overflow', async () => {
    const [open] = await openCase('clinic-e', 'county-e');
    await expect(hierarchy.update(admin, 'clinic-e', { disabled: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message:
        'clinic-e cannot be disabled while 1 open case(s) of it wait for a reading; ' +
        'sign, return or escalate them first',
    });
    await expect(hierarchy.update(admin, 'county-e', { disabled: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(
        'county-e cannot be disabled while clinic-e below it is enabled',
      ),
    });
    await database.db.update(cases).set({ status: 'signed' }).where(eq(cases.id, open!.id));
    await hierarchy.update(admin, 'clinic-e', { disabled: true });

    // county-d overflows to county-e: county-e stays until that policy changes.
    const policies = new PoliciesRepository(database);
    const { id: setBy } = await people.create(admin, {
      username: 'reader.d',
      displayName: 'Dr D',
      role: 'reader',
      facilityId: 'county-d',
      password: 'a-long-password',
    });
    await policies.put(
      'county-d',
      { deadlines: {}, atDeadline: 'overflow', overflowHospitalId: 'county-e' },
      setBy,
      clock.now(),
    );
    await expect(hierarchy.update(admin, 'county-e', { disabled: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message:
        'county-e cannot be disabled while it takes the overflow of county-d; ' +
        'change that hospital policy first',
    });
    await policies.put(
      'county-d',
      { deadlines: {}, atDeadline: 'escalate', overflowHospitalId: null },
      setBy,
      clock.now(),
    );
    expect(await hierarchy.update(admin, 'county-e', { disabled: true })).toMatchObject({
      disabled: true,
    });

    // Below a disabled county, nothing is enabled, created or moved in.
    await expect(hierarchy.update(admin, 'clinic-e', { disabled: false })).rejects.toMatchObject({
      code: 'CONFLICT',
      message:
        'clinic-e cannot be enabled under county-e while county-e is disabled; enable county-e first',
    });
    await expect(
      hierarchy.create(admin, { id: 'clinic-f', kind: 'clinic', name: 'F', parentId: 'county-e' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      hierarchy.update(admin, 'clinic-d', { parentId: 'county-e' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    // A county that holds a case (here one it took as another county's overflow) stays.
    await hierarchy.update(admin, 'clinic-d', { disabled: true });
    await openCase('clinic-e', 'county-d');
    await expect(hierarchy.update(admin, 'county-d', { disabled: true })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('open case(s) are held by it'),
    });
  });
});
