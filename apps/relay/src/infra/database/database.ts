import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** Both drivers share this type, so domain code never knows which one it runs on. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query surface as the database. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either handle; inside a transaction always pass the transaction (PGlite has one connection). */
export type Queryable = Db | Tx;

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * The relay's PostgreSQL-compatible store: PostgreSQL when DATABASE_URL is set, otherwise
 * PGlite persisted under DATA_DIR/pg. Same schema and migrations on both.
 */
export class Database {
  private constructor(
    readonly db: Db,
    readonly driver: 'pglite' | 'postgres',
    private readonly closeDriver: () => Promise<void>,
  ) {}

  static async open(options: { databaseUrl?: string; dataDir: string }): Promise<Database> {
    if (options.databaseUrl) {
      const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
      // A client losing its server must not become an unhandled 'error' event, which would
      // end the process: the pool listens on idle clients only, so each client gets a
      // listener of its own for the time it is checked out (inside a transaction, say). The
      // query or transaction it was serving fails with the same error and is handled there;
      // the pool then drops the broken client. Found by the fault suite (docs/faults.md):
      // PostgreSQL restarted under load took the relay down.
      pool.on('error', () => undefined);
      pool.on('connect', (client) => client.on('error', () => undefined));
      const db = drizzlePg(pool, { schema });
      await migratePg(db, { migrationsFolder });
      return new Database(db as unknown as Db, 'postgres', () => pool.end());
    }
    const dir = join(options.dataDir, 'pg');
    await mkdir(dir, { recursive: true });
    const client = await PGlite.create(dir);
    const db = drizzlePglite(client, { schema });
    await migratePglite(db, { migrationsFolder });
    return new Database(db as unknown as Db, 'pglite', () => client.close());
  }

  async ping(): Promise<void> {
    await this.db.execute(sql`select 1`);
  }

  async close(): Promise<void> {
    await this.closeDriver();
  }
}
