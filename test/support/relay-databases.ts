import pg from 'pg';

export type RelayStore = 'PGlite' | 'PostgreSQL';

/**
 * The store this run of the end-to-end tier puts every relay on. The tier runs twice where a
 * PostgreSQL server is given (`TEST_DATABASE_URL`, started by .ci/run): as the `e2e` project
 * on each relay's embedded PGlite, and as `e2e-postgres` on a database of its own on the
 * server (vitest.config.ts sets E2E_STORE), since the README recommends PostgreSQL beyond a
 * hundred boxes and only a server runs transactions truly at once.
 */
export const E2E_STORE: RelayStore =
  process.env['E2E_STORE'] === 'PostgreSQL' ? 'PostgreSQL' : 'PGlite';

/** A database of the relay's own for one file: the environment to start it with, and its drop. */
export async function relayDatabase(
  store: RelayStore,
): Promise<{ env: NodeJS.ProcessEnv; drop: () => Promise<void> }> {
  const serverUrl = process.env['TEST_DATABASE_URL'];
  if (store === 'PGlite') return { env: {}, drop: async () => undefined };
  if (!serverUrl) throw new Error('a relay on PostgreSQL needs TEST_DATABASE_URL');
  const name = `telerelay_e2e_${process.pid}_${Date.now()}`;
  // A connection per statement: the fault suite restarts the server in between.
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}
