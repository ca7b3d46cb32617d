import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The layering of docs/architecture.md is held by `no-restricted-imports` in eslint.config.js.
 * These lint snippets as if they were files of the relay, through the real config, so the
 * rule cannot quietly stop firing (a renamed folder, a reordered block, a widened glob).
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const src = 'apps/relay/src';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    // Only the import rule, and without type information: the paths need not exist.
    overrideConfig: tseslint.configs.disableTypeChecked,
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  });
});

/** The messages of `no-restricted-imports` for `code` linted as the file at `path`. */
async function refusals(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: `${root}${path}` });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports' || message.fatal)
    .map((message) => message.message);
}

const outsideParts = [
  "import { Redis } from 'ioredis';",
  "import { Queue } from 'bullmq';",
  "import { Aedes } from 'aedes';",
  "import { RateLimiterRedis } from 'rate-limiter-flexible';",
  "import dcmjsDimse from 'dcmjs-dimse';",
  "import { Counter } from 'prom-client';",
];
const database = [
  "import { eq } from 'drizzle-orm';",
  "import { drizzle } from 'drizzle-orm/pglite';",
  "import { PGlite } from '@electric-sql/pglite';",
  "import pg from 'pg';",
  "import { cases } from '../infra/database/schema.js';",
];
const socketIo = [
  "import type { Server } from 'socket.io';",
  "import { IoAdapter } from '@nestjs/platform-socket.io';",
];

describe('layering: what a domain file may import', () => {
  it.each([...outsideParts, ...database, ...socketIo])(
    'a domain service may not: %s',
    async (code) => {
      expect(await refusals(`${src}/ingest/ingest.service.ts`, code)).toHaveLength(1);
    },
    30_000,
  );

  it('a domain service may use infra adapters, contracts and Nest', async () => {
    const code = [
      "import { Injectable } from '@nestjs/common';",
      "import { Database } from '../infra/database/database.js';",
      "import { RedisConnections } from '../infra/redis/redis-connections.js';",
      "import type { DeviceSummary } from '#contracts';",
    ].join('\n');
    expect(await refusals(`${src}/ingest/ingest.service.ts`, code)).toEqual([]);
  });

  it.each(outsideParts)('infra may: %s', async (code) => {
    expect(await refusals(`${src}/infra/redis/some.store.ts`, code)).toEqual([]);
  });

  it.each(database)('a repository may: %s', async (code) => {
    expect(await refusals(`${src}/ingest/recordings.repository.ts`, code)).toEqual([]);
  });

  it.each([...outsideParts, ...socketIo])('a repository may not: %s', async (code) => {
    expect(await refusals(`${src}/audit/audit.repository.ts`, code)).toHaveLength(1);
  });

  it.each(socketIo)('a gateway may: %s', async (code) => {
    expect(await refusals(`${src}/streams/streams.gateway.ts`, code)).toEqual([]);
  });

  it.each([...outsideParts, ...database])('a gateway may not: %s', async (code) => {
    expect(await refusals(`${src}/streams/streams.gateway.ts`, code)).toHaveLength(1);
  });

  it('a test may, to run against a real adapter', async () => {
    const code = [...outsideParts, ...database, ...socketIo].join('\n');
    expect(await refusals(`${src}/ingest/ingest.service.test.ts`, code)).toEqual([]);
  });

  it('every file of the case workflow but its repositories is held to it (no allow-list)', async () => {
    const drizzle = "import { eq } from 'drizzle-orm';";
    const tables = "import { cases } from '../infra/database/schema.js';";
    for (const file of [
      'case-transitions.ts',
      'case-scope.ts',
      'worklist.service.ts',
      'worklist-queries.ts',
      'deadline-desk.ts',
      'clinic-inbox.ts',
      'box-delivery.ts',
    ]) {
      expect(await refusals(`${src}/worklist/${file}`, drizzle), file).toHaveLength(1);
      expect(await refusals(`${src}/worklist/${file}`, tables), file).toHaveLength(1);
    }
    expect(await refusals(`${src}/worklist/case-transitions.repository.ts`, drizzle)).toEqual([]);
  });
});

describe('layering: infra knows no domain', () => {
  it('refuses an import of every folder of the relay but infra, common and config', async () => {
    const folders = (await readdir(`${root}${src}`, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && !['infra', 'common', 'config'].includes(entry.name))
      .map((entry) => entry.name);
    expect(folders).toContain('ingest');
    for (const folder of folders) {
      const deep = `import { x } from '../../${folder}/x.js';`;
      const shallow = `import { x } from '../${folder}/x.js';`;
      expect(await refusals(`${src}/infra/redis/some.store.ts`, deep), folder).toHaveLength(1);
      expect(await refusals(`${src}/infra/infrastructure.module.ts`, shallow), folder).toHaveLength(
        1,
      );
    }
    const app = "import { AppModule } from '../app.module.js';";
    expect(await refusals(`${src}/infra/infrastructure.module.ts`, app)).toHaveLength(1);
  }, 30_000);

  it('lets infra use its own parts, common and config', async () => {
    const code = [
      "import { Database } from '../database/database.js';",
      "import { CONFIG } from '../../common/tokens.js';",
      "import type { RelayConfig } from '../../config/config.js';",
      "import { Redis } from 'ioredis';",
    ].join('\n');
    expect(await refusals(`${src}/infra/redis/some.store.ts`, code)).toEqual([]);
  });
});

describe('time is a dependency: domain code reads the Clock', () => {
  let timeLint: ESLint;
  beforeAll(() => {
    timeLint = new ESLint({
      cwd: root,
      overrideConfig: tseslint.configs.disableTypeChecked,
      ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-syntax',
    });
  });

  async function wallClockReads(path: string, code: string): Promise<number> {
    const [result] = await timeLint.lintText(`${code}\nexport {};\n`, {
      filePath: `${root}${path}`,
    });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').length;
  }

  const reads = ['const a = Date.now();', 'const b = new Date();', 'const c = { now: Date.now };'];

  it.each(reads)('a domain file may not: %s', async (code) => {
    expect(await wallClockReads(`${src}/outbox/outbox.ts`, code)).toBe(1);
  });

  it('a domain file may make a date from a value; infra, the SystemClock and tests may read the wall clock', async () => {
    expect(await wallClockReads(`${src}/outbox/outbox.ts`, 'const d = new Date(0);')).toBe(0);
    for (const path of [
      `${src}/infra/queue/job-queues.ts`,
      `${src}/common/clock.ts`,
      `${src}/outbox/outbox.medium.test.ts`,
      `${src}/worklist/testing/worklist-world.ts`,
    ]) {
      expect(await wallClockReads(path, reads.join('\n')), path).toBe(0);
    }
  });
});
