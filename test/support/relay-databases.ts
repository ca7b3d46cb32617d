import pg from 'pg';

/**
 * The stores an end-to-end file runs the relay on: its embedded PGlite always, and a
 * PostgreSQL server as well where CI gives one (`TEST_DATABASE_URL`, started by .ci/run),
 * since the README recommends PostgreSQL beyond a hundred boxes and only a server runs
 * transactions truly at once.
 */
export const RELAY_DATABASES: readonly string[] = process.env['TEST_DATABASE_URL']
  ? ['PGlite', 'PostgreSQL']
  : ['PGlite'];

/** A database of the relay's own for one file: the environment to start it with, and its drop. */
export async function relayDatabase(
  store: string,
): Promise<{ env: NodeJS.ProcessEnv; drop: () => Promise<void> }> {
  const serverUrl = process.env['TEST_DATABASE_URL'];
  if (store === 'PGlite' || !serverUrl) return { env: {}, drop: async () => undefined };
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
