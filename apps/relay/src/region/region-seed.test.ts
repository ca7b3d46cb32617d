import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegionFile } from '#contracts';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { Database } from '../infra/database/database.js';
import { cases, devices, facilities, users } from '../infra/database/schema.js';
import { RegionFileError } from './region-file.js';
import { applyRegion } from './region-seed.js';

const region: RegionFile = {
  facilities: [
    { id: 'tertiary-1', kind: 'tertiary', name: 'City', parentId: null },
    { id: 'county-1', kind: 'county', name: 'County 1', parentId: 'tertiary-1' },
    { id: 'county-2', kind: 'county', name: 'County 2', parentId: 'tertiary-1' },
    { id: 'clinic-1', kind: 'clinic', name: 'Clinic 1', parentId: 'county-1' },
  ],
  users: [
    {
      username: 'c1.reader',
      displayName: 'Reader',
      role: 'reader',
      facilityId: 'county-1',
      password: 'first-password',
    },
  ],
  devices: [{ id: 'box-1', facilityId: 'clinic-1', secret: 'first-secret-0123456789' }],
};

describe('applyRegion (REGION_FILE and demo seeding)', () => {
  const hasher = new SecretHasher();
  let dataDir: string;
  let database: Database;
  const apply = (r: RegionFile) =>
    applyRegion(database, hasher, r, { source: 'test', credentials: 'keep' });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-seed-'));
    database = await Database.open({ dataDir });
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates the region, and applying it again changes nothing', async () => {
    expect(await apply(region)).toEqual({ facilities: 4, usersCreated: 1, devicesCreated: 1 });
    expect(await apply(region)).toEqual({ facilities: 4, usersCreated: 0, devicesCreated: 0 });
    const [user] = await database.db.select().from(users).where(eq(users.username, 'c1.reader'));
    expect(await hasher.verifyPassword(user?.passwordHash, 'first-password')).toBe(true);
  });

  it('never overwrites a password or secret changed since, but renames facilities', async () => {
    await database.db
      .update(users)
      .set({ passwordHash: await hasher.hash('changed-password') })
      .where(eq(users.username, 'c1.reader'));
    const changed: RegionFile = {
      ...region,
      facilities: region.facilities.map((f) =>
        f.id === 'clinic-1' ? { ...f, name: 'Clinic One' } : f,
      ),
      devices: [{ id: 'box-1', facilityId: 'clinic-1', secret: 'another-secret-0123456789' }],
    };
    await apply(changed);
    const [user] = await database.db.select().from(users).where(eq(users.username, 'c1.reader'));
    expect(await hasher.verifyPassword(user?.passwordHash, 'changed-password')).toBe(true);
    const [box] = await database.db.select().from(devices).where(eq(devices.id, 'box-1'));
    expect(await hasher.verifyMachineSecret(box?.secretHash, 'first-secret-0123456789')).toBe(true);
    const [clinic] = await database.db
      .select()
      .from(facilities)
      .where(eq(facilities.id, 'clinic-1'));
    expect(clinic?.name).toBe('Clinic One');
  });

  it('refuses references the database cannot satisfy, writing nothing', async () => {
    const broken: RegionFile = {
      facilities: [{ id: 'clinic-9', kind: 'clinic', name: 'Orphan', parentId: 'county-9' }],
      users: [],
      devices: [{ id: 'box-9', facilityId: 'clinic-8', secret: 'x'.repeat(20) }],
    };
    const error = await apply(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegionFileError);
    expect((error as RegionFileError).problems).toEqual([
      'clinic-9: parent county-9 does not exist',
      'device box-9: facility clinic-8 does not exist',
    ]);
    expect(
      await database.db.select().from(facilities).where(eq(facilities.id, 'clinic-9')),
    ).toEqual([]);
  });

  it("sets a clinic's calling AE titles, moves one between clinics of the file, keeps a list the file leaves out", async () => {
    const titles = new ClinicAeTitlesRepository(database);
    const clinic2 = {
      id: 'clinic-2',
      kind: 'clinic' as const,
      name: 'Clinic 2',
      parentId: 'county-1',
    };
    const withTitles = (one: string[] | undefined, two: string[] | undefined): RegionFile => ({
      ...region,
      facilities: [
        ...region.facilities.map((f) => (f.id === 'clinic-1' ? { ...f, aeTitles: one } : f)),
        { ...clinic2, aeTitles: two },
      ],
    });
    await apply(withTitles(['CLINIC1_CT', 'SHARED_DX'], []));
    expect(await titles.clinicOf('SHARED_DX')).toMatchObject({ clinicId: 'clinic-1' });
    await apply(withTitles(['CLINIC1_CT'], ['SHARED_DX']));
    expect(await titles.clinicOf('SHARED_DX')).toMatchObject({ clinicId: 'clinic-2' });
    await apply(withTitles(undefined, undefined));
    expect(await titles.titlesOf('clinic-1')).toEqual(['CLINIC1_CT']);
    await expect(apply(withTitles(['SHARED_DX'], undefined))).rejects.toThrow(
      /facility clinic-1: AE title SHARED_DX belongs to clinic-2/,
    );
    expect(await titles.titlesOf('clinic-1')).toEqual(['CLINIC1_CT']);
  });

  it('refuses a move that would strand an open case', async () => {
    await database.db.insert(cases).values({
      kind: 'ecg',
      examKind: 'ecg-12',
      clinicId: 'clinic-1',
      hospitalId: 'county-1',
      priority: 'routine',
      status: 'awaiting_review',
      dueAt: new Date(),
    });
    const moved: RegionFile = {
      ...region,
      facilities: region.facilities.map((f) =>
        f.id === 'clinic-1' ? { ...f, parentId: 'county-2' } : f,
      ),
    };
    await expect(apply(moved)).rejects.toThrow(/clinic-1 cannot move under county-2: 1 open case/);
    // The county itself may move: the case stays with county-1, which stays above the clinic.
    await apply({
      facilities: [{ id: 'tertiary-2', kind: 'tertiary', name: 'Other', parentId: null }],
      users: [],
      devices: [],
    });
    await apply({
      facilities: [{ id: 'county-1', kind: 'county', name: 'County 1', parentId: 'tertiary-2' }],
      users: [],
      devices: [],
    });
  });
});
