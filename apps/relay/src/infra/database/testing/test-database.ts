import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../database.js';

/**
 * A database of a medium test file's own (docs/development.md, "Tests"): PGlite in a temp
 * directory always, and a fresh PostgreSQL database when `TEST_DATABASE_URL` names a server
 * (CI's, started by .ci/run), created for the file and dropped after it.
 */

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
    const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-medium-'));
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
