import type { RegionFile } from '#contracts';
import { facilityChangeProblems } from '../facilities/facility-changes.js';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { devicePlacementProblem, rolePlacementProblem } from '../facilities/hierarchy.js';
import type { SecretHasher } from '../identity/secret-hasher.js';
import { UsersRepository } from '../identity/users.repository.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import type { Database } from '../infra/database/database.js';
import { RegionFileError } from './region-file.js';

/** Passwords' argon2id is memory-hard; a few at a time keep a large region's first start bounded. */
const HASH_CONCURRENCY = 4;

export interface RegionSeedResult {
  facilities: number;
  usersCreated: number;
  devicesCreated: number;
}

/**
 * Applies a region: the one way facilities, accounts and boxes are seeded (REGION_FILE and
 * the demo). Idempotent. Facilities are upserted under the same rules as the admin API;
 * accounts and boxes are created when missing. With `credentials: 'keep'` (REGION_FILE)
 * an existing account or box is never touched, so a password changed since is kept; with
 * `'reset'` (the demo) they get the given credentials again and are enabled.
 */
export async function applyRegion(
  database: Database,
  hasher: SecretHasher,
  region: RegionFile,
  options: { source: string; credentials: 'keep' | 'reset' },
): Promise<RegionSeedResult> {
  const facilities = new FacilitiesRepository(database);
  const aeTitles = new ClinicAeTitlesRepository(database);
  const users = new UsersRepository(database);
  const devices = new DevicesRepository(database);
  const reset = options.credentials === 'reset';

  // Hashing is slow, so it happens before the transaction and only for what will be written.
  const knownUsers = reset
    ? new Set<string>()
    : await users.existing(region.users.map((u) => u.username));
  const knownDevices = reset
    ? new Set<string>()
    : new Set((await devices.hashesOf(region.devices.map((d) => d.id))).keys());
  const newUsers = await hashAll(
    region.users.filter((user) => !knownUsers.has(user.username)),
    async ({ password, passwordHash, ...user }) => ({
      ...user,
      passwordHash: passwordHash ?? (await hasher.hash(password ?? '')),
    }),
  );
  const newDevices = await hashAll(
    region.devices.filter((device) => !knownDevices.has(device.id)),
    async ({ secret, secretHash, ...device }) => ({
      ...device,
      secretHash: secretHash ?? (await hasher.hashMachineSecret(secret ?? '')),
    }),
  );

  return database.db.transaction(async (tx) => {
    const checked = await facilityChangeProblems(facilities, region.facilities, tx);
    const problems = [...checked.problems, ...checked.conflicts];
    const after = checked.after;
    const kindOf = new Map(after.map((facility) => [facility.id, facility.kind]));
    for (const user of region.users) {
      const kind = kindOf.get(user.facilityId);
      const problem = kind
        ? rolePlacementProblem(user.role, kind)
        : `facility ${user.facilityId} does not exist`;
      if (problem) problems.push(`user ${user.username}: ${problem}`);
    }
    for (const device of region.devices) {
      const kind = kindOf.get(device.facilityId);
      const problem = kind
        ? devicePlacementProblem(kind)
        : `facility ${device.facilityId} does not exist`;
      if (problem) problems.push(`device ${device.id}: ${problem}`);
    }
    // A clinic of the file that lists its titles gives up the ones it no longer lists.
    const relisted = new Set(
      region.facilities.filter((f) => f.aeTitles !== undefined).map((f) => f.id),
    );
    for (const facility of region.facilities) {
      if (facility.aeTitles === undefined) continue;
      const owned = await aeTitles.ownedElsewhere(facility.id, facility.aeTitles, tx);
      for (const other of owned.filter((o) => !relisted.has(o.clinicId))) {
        problems.push(
          `facility ${facility.id}: AE title ${other.aeTitle} belongs to ${other.clinicId}`,
        );
      }
    }
    if (problems.length > 0) throw new RegionFileError(options.source, problems);

    for (const { aeTitles: _titles, ...facility } of region.facilities) {
      await facilities.upsert(facility, tx);
    }
    // After every upsert, so a title moved from one clinic of the file to another is free.
    for (const facility of region.facilities) {
      if (facility.aeTitles !== undefined) await aeTitles.replace(facility.id, [], tx);
    }
    for (const facility of region.facilities) {
      if (facility.aeTitles !== undefined)
        await aeTitles.replace(facility.id, facility.aeTitles, tx);
    }
    let usersCreated = 0;
    for (const user of newUsers) {
      if (
        (await users.provision(user, options.credentials === 'keep' ? 'create' : 'reset', tx)) !==
        undefined
      ) {
        usersCreated += 1;
      }
    }
    let devicesCreated = 0;
    for (const device of newDevices) {
      if (
        await devices.provision(device, options.credentials === 'keep' ? 'create' : 'reset', tx)
      ) {
        devicesCreated += 1;
      }
    }
    return { facilities: region.facilities.length, usersCreated, devicesCreated };
  });
}

async function hashAll<T, R>(items: T[], hash: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += HASH_CONCURRENCY) {
    results.push(...(await Promise.all(items.slice(start, start + HASH_CONCURRENCY).map(hash))));
  }
  return results;
}
