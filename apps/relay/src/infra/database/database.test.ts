import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
