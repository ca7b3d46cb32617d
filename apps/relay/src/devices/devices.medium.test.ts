import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '#contracts';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { TestClock } from '../common/testing/test-clock.js';
import type { RelayConfig } from '../config/config.js';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { AttemptLimits } from '../infra/limits/attempt-limits.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import type { Database } from '../infra/database/database.js';
import { auditLog, devices, facilities, recordings } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { DeviceGateService } from './device-gate.service.js';
import { DevicesRepository } from './devices.repository.js';
import { DevicesService } from './devices.service.js';
import { FakeLinks } from './testing/fake-links.js';

const admin: SessionUser = {
  id: randomUUID(),
  username: 'admin',
  displayName: 'Admin',
  role: 'admin',
  facilityId: 'county-x',
  facilityKind: 'county',
};

/** Registering, listing and disabling boxes on a real database per driver. */
describe.each(DRIVERS)('DevicesService on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let service: DevicesService;
  let repository: DevicesRepository;
  let links: FakeLinks;
  const hasher = new SecretHasher();
  const clock = new TestClock();

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    await database.db.insert(facilities).values([
      { id: 'county-x', kind: 'county', name: 'County X', parentId: null },
      { id: 'clinic-x', kind: 'clinic', name: 'Clinic X', parentId: 'county-x' },
      { id: 'clinic-y', kind: 'clinic', name: 'Clinic Y', parentId: 'county-x' },
    ]);
    links = new FakeLinks();
    repository = new DevicesRepository(database);
    const audit = new AuditService(new AuditRepository(database), clock, quietLog);
    const hierarchy = new FacilitiesRepository(database);
    service = new DevicesService(
      repository,
      hierarchy,
      hasher,
      audit,
      links,
      new FacilitiesService(hierarchy, database, audit, new ClinicAeTitlesRepository(database)),
    );
  }, 60_000);
  afterAll(() => dispose());

  const auditRows = (action: string) =>
    database.db.select().from(auditLog).where(eq(auditLog.action, action));

  it('makes a secret when none is given, answers it once, and keeps only its hash', async () => {
    const registered = await service.register(admin, { id: 'box-made', facilityId: 'clinic-x' });
    expect(registered).toMatchObject({ id: 'box-made', clinicId: 'clinic-x' });
    // 256 random bits, base64url; stored as a salted HMAC, never in clear.
    expect(registered.secret).toMatch(/^[\w-]{43}$/);
    const stored = (await repository.find('box-made'))!;
    expect(stored.secretHash).toMatch(/^\$hmac-sha256\$/);
    expect(stored.secretHash).not.toContain(registered.secret);
    expect(await hasher.verifyMachineSecret(stored.secretHash, registered.secret!)).toBe(true);
    // Two registrations never share a secret.
    const other = await service.register(admin, { id: 'box-made-2', facilityId: 'clinic-x' });
    expect(other.secret).not.toBe(registered.secret);
    // The list never carries a secret or its hash.
    expect(JSON.stringify(await service.summaries())).not.toMatch(/secret|argon2/i);
    const [row] = await auditRows('admin.device.create');
    expect(row).toMatchObject({ subject: 'device:box-made', outcome: 'allowed' });
    expect(JSON.stringify(row)).not.toContain(registered.secret);
  });

  it('does not repeat a secret the administrator gave', async () => {
    const registered = await service.register(admin, {
      id: 'box-given',
      facilityId: 'clinic-y',
      secret: 'given-secret-0123456789',
    });
    expect(registered).toEqual({ id: 'box-given', clinicId: 'clinic-y' });
    const stored = (await repository.find('box-given'))!;
    expect(await hasher.verifyMachineSecret(stored.secretHash, 'given-secret-0123456789')).toBe(
      true,
    );
  });

  it('refuses a second box of the same id (409) and a box outside a clinic', async () => {
    await expect(
      service.register(admin, { id: 'box-made', facilityId: 'clinic-y' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      service.register(admin, { id: 'box-county', facilityId: 'county-x' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'a box belongs to a clinic' });
    await expect(
      service.register(admin, { id: 'box-nowhere', facilityId: 'clinic-none' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await repository.find('box-county')).toBeUndefined();
  });

  it('lists online state, last contact, firmware and the newest recording, per clinic or all', async () => {
    links.connected.add('box-made');
    const seenAt = new Date('2026-03-01T08:00:00Z');
    await repository.markSeen('box-made', seenAt, 'fw-2.1.0');
    // A status without firmware keeps what the box said before.
    await repository.markSeen('box-made', new Date('2026-03-01T08:05:00Z'));
    const recording = (receivedAt: Date) => ({
      id: randomUUID(),
      deviceId: 'box-made',
      clinicId: 'clinic-x',
      examKind: 'resting-12-lead',
      leads: ['I'],
      sampleRateHz: 500,
      microvoltsPerLsb: 5,
      samplesPerLead: 500,
      chunkCount: 1,
      sha256: randomUUID().replaceAll('-', '').padEnd(64, '0'),
      startedAt: receivedAt,
      receivedAt,
    });
    await database.db
      .insert(recordings)
      .values([
        recording(new Date('2026-03-01T07:00:00Z')),
        recording(new Date('2026-03-01T07:30:00Z')),
      ]);

    const clinicX = await service.summaries({ clinicId: 'clinic-x' });
    expect(clinicX.map((device) => device.id)).toEqual(['box-made', 'box-made-2']);
    expect(clinicX[0]).toEqual({
      id: 'box-made',
      clinicId: 'clinic-x',
      online: true,
      disabled: false,
      lastSeenAt: '2026-03-01T08:05:00.000Z',
      firmware: 'fw-2.1.0',
      lastRecordingAt: '2026-03-01T07:30:00.000Z',
    });
    expect(clinicX[1]).toMatchObject({
      online: false,
      lastSeenAt: null,
      firmware: null,
      lastRecordingAt: null,
    });
    expect((await service.summaries()).map((device) => device.id)).toEqual([
      'box-given',
      'box-made',
      'box-made-2',
    ]);
  });

  it('stores an argon2id box secret again as HMAC at its first good CONNECT, and a reset secret is not undone', async () => {
    const secret = 'legacy-secret-0123456789abcdef';
    const legacy = await argon2.hash(secret, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 2,
      parallelism: 1,
    });
    await database.db
      .insert(devices)
      .values({ id: 'box-legacy', facilityId: 'clinic-y', secretHash: legacy });
    const gate = new DeviceGateService(
      repository,
      hasher,
      new AuditService(new AuditRepository(database), clock, quietLog),
      quietLog,
      { mqtt: { connectsPerMinute: { device: 30, address: 600 } } } as RelayConfig,
      AttemptLimits.inMemory(),
      new PrometheusMetrics(quietLog),
    );
    const connect = (candidate: string) =>
      gate.authenticate({
        deviceId: 'box-legacy',
        clientId: 'box-legacy',
        secret: Buffer.from(candidate),
        remoteAddress: '192.0.2.7',
      });
    expect(await connect('wrong-secret-0123456789abcdef')).toBe('refused');
    expect((await repository.find('box-legacy'))!.secretHash).toBe(legacy);

    expect(await connect(secret)).toBe('accepted');
    const upgraded = (await repository.find('box-legacy'))!.secretHash;
    expect(upgraded).toMatch(/^\$hmac-sha256\$/);
    expect(await hasher.verifyMachineSecret(upgraded, secret)).toBe(true);
    expect(await connect(secret)).toBe('accepted');
    expect((await repository.find('box-legacy'))!.secretHash).toBe(upgraded);

    // A secret changed between the read at CONNECT and the upgrade stays as it was reset.
    const reset = await hasher.hashMachineSecret('reset-secret-0123456789abcdef');
    await database.db
      .update(devices)
      .set({ secretHash: reset })
      .where(eq(devices.id, 'box-legacy'));
    await repository.replaceSecretHash('box-legacy', legacy, upgraded);
    expect((await repository.find('box-legacy'))!.secretHash).toBe(reset);
    await database.db.delete(devices).where(eq(devices.id, 'box-legacy'));
  });

  it('disables a box: the flag the gate reads is set, its connection closed, and it is audited', async () => {
    const disabled = await service.update(admin, 'box-made', { disabled: true });
    expect(disabled).toMatchObject({ id: 'box-made', disabled: true, online: false });
    expect(links.disconnected).toEqual(['box-made']);
    expect((await repository.find('box-made'))!.disabled).toBe(true);
    const [row] = await auditRows('admin.device.disable');
    expect(row).toMatchObject({ subject: 'device:box-made', detail: { disconnected: true } });

    const enabled = await service.update(admin, 'box-made', { disabled: false });
    expect(enabled.disabled).toBe(false);
    expect((await repository.find('box-made'))!.disabled).toBe(false);
    expect(await auditRows('admin.device.enable')).toHaveLength(1);
    // Enabling never disconnects.
    expect(links.disconnected).toEqual(['box-made']);

    await expect(service.update(admin, 'box-none', { disabled: true })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const [unchanged] = await database.db.select().from(devices).where(eq(devices.id, 'box-given'));
    expect(unchanged!.disabled).toBe(false);
  });
});
