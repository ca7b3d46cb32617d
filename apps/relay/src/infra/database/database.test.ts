import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { Database } from './database.js';
import { facilities } from './schema.js';

describe('Database (embedded PGlite)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('applies the migrations and keeps data across a reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-db-'));
    dirs.push(dataDir);
    const first = await Database.open({ dataDir });
    await first.db.insert(facilities).values({ id: 'clinic-x', kind: 'clinic', name: 'Clinic X' });
    await first.close();

    const second = await Database.open({ dataDir });
    const rows = await second.db.select().from(facilities);
    await second.close();
    expect(rows.map((row) => row.id)).toEqual(['clinic-x']);
  });
});

// .ci/run provides a PostgreSQL server; on a machine without one this block is skipped.
const postgresUrl = process.env['TEST_DATABASE_URL'];

describe.skipIf(!postgresUrl)(
  'Database (PostgreSQL via DATABASE_URL; needs TEST_DATABASE_URL)',
  () => {
    it('applies the same migrations on a new database and round-trips a row', async () => {
      // Each run gets its own database, so runs never see each other's tables or migrations.
      const name = `telerelay_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = new URL(postgresUrl!);
      url.pathname = `/${name}`;
      const database = await Database.open({ databaseUrl: url.toString(), dataDir: tmpdir() });
      try {
        expect(database.driver).toBe('postgres');
        await database.db
          .insert(facilities)
          .values({ id: 'county-x', kind: 'county', name: 'County X' });
        const rows = await database.db.select().from(facilities);
        expect(rows.map((row) => row.id)).toEqual(['county-x']);
      } finally {
        await database.close();
        await admin.query(`drop database ${name}`);
        await admin.end();
      }
    });
    // Found by the fault suite (PostgreSQL restarted under load): a pooled client that lost
    // its server while checked out emitted an 'error' nobody listened to, and the process died.
    it('outlives the server dropping a connection in the middle of a transaction', async () => {
      const name = `telerelay_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = new URL(postgresUrl!);
      url.pathname = `/${name}`;
      const database = await Database.open({ databaseUrl: url.toString(), dataDir: tmpdir() });
      try {
        const transaction = database.db.transaction(async (tx) => {
          // node-postgres's result; Db's type covers PGlite's as well.
          const result = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as {
            rows: { pid: number }[];
          };
          const pid = result.rows[0]!.pid;
          await admin.query('select pg_terminate_backend($1)', [pid]);
          // The server closes the connection while the transaction holds its client.
          for (;;) {
            const left = await admin.query('select 1 from pg_stat_activity where pid = $1', [pid]);
            if (left.rowCount === 0) break;
          }
          await tx.execute(sql`select 1`);
        });
        await expect(transaction).rejects.toThrow();
        // The pool dropped the broken client; the database works on.
        await database.ping();
      } finally {
        await database.close();
        await admin.query(`drop database ${name}`);
        await admin.end();
      }
    });
  },
);
