import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Database } from '../database/database.js';
import { facilities, users } from '../database/schema.js';
import { requestCorrelationId, withCorrelation } from './correlation.js';
import { createLogger } from './logger.js';
import { NestPinoLogger } from './nest-logger.js';

/** A logger writing to memory, and its lines as text and as parsed JSON. */
function capturedLogger() {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return {
    log,
    text: () => lines.join(''),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('log redaction', () => {
  it('censors a secret at any depth, inside arrays and in any case', () => {
    const { log, text, entries } = capturedLogger();
    log.info(
      {
        request: { body: { user: { credentials: { password: 'deep-password-1' } } } },
        batch: [{ patientRef: 'PATIENT-REF-1' }, [[{ nationalId: 'NATIONAL-ID-1' }]]],
        order: { patient: { documentType: 'resident_id', idNumber: 'ID-NUMBER-1' } },
        headers: { Authorization: 'Bearer header-token-1' },
        deviceId: 'box-1',
      },
      'nested',
    );
    for (const value of [
      'deep-password-1',
      'PATIENT-REF-1',
      'NATIONAL-ID-1',
      'ID-NUMBER-1',
      'header-token-1',
    ]) {
      expect(text()).not.toContain(value);
    }
    const [entry] = entries();
    expect(entry).toMatchObject({
      msg: 'nested',
      deviceId: 'box-1',
      request: { body: { user: { credentials: { password: '[redacted]' } } } },
      batch: [{ patientRef: '[redacted]' }, [[{ nationalId: '[redacted]' }]]],
      order: { patient: { documentType: 'resident_id', idNumber: '[redacted]' } },
      headers: { Authorization: '[redacted]' },
    });
  });

  it('writes a cyclic or very deep object as far as its bound, without throwing', () => {
    const { log, entries } = capturedLogger();
    const cyclic: Record<string, unknown> = { id: 'a' };
    cyclic['self'] = cyclic;
    let deep: Record<string, unknown> = { password: 'bottom-password' };
    for (let level = 0; level < 50; level += 1) deep = { next: deep };
    log.info({ cyclic, deep }, 'bounded');
    const [entry] = entries();
    expect(entry?.['msg']).toBe('bounded');
    expect(JSON.stringify(entry)).not.toContain('bottom-password');
    expect(JSON.stringify(entry)).toContain('[too deep]');
  });
});

describe('the correlation id in the log', () => {
  it('writes the id of the work under way on every line, across awaits, and none outside', async () => {
    const { log, entries } = capturedLogger();
    log.info('before');
    await withCorrelation('rec-7f3a', async () => {
      log.info({ caseId: 'case-1' }, 'stored');
      await new Promise((resolve) => setImmediate(resolve));
      // Work started inside carries the id on, even while another id is in use elsewhere.
      await Promise.all([
        withCorrelation('req-other', async () => log.info('elsewhere')),
        Promise.resolve().then(() => log.info('queued')),
      ]);
    });
    log.info('after');
    expect(entries().map((entry) => [entry['msg'], entry['correlationId']])).toEqual([
      ['before', undefined],
      ['stored', 'rec-7f3a'],
      ['elsewhere', 'req-other'],
      ['queued', 'rec-7f3a'],
      ['after', undefined],
    ]);
  });

  it('keeps a well-formed x-request-id and replaces anything that could forge a line', () => {
    expect(requestCorrelationId('haproxy-0A1B:2C3D.42_x')).toBe('haproxy-0A1B:2C3D.42_x');
    expect(requestCorrelationId(['first-id', 'second-id'])).toBe('first-id');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'a'.repeat(65), 'id\n{"msg":"forged"}', 'two words', 'é']) {
      const id = requestCorrelationId(bad);
      expect(id).toMatch(uuid);
    }
    expect(requestCorrelationId(undefined)).not.toBe(requestCorrelationId(undefined));
  });
});

describe('a failed query in the log', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function failedQueries(): Promise<{ errors: Error[]; params: string[] }> {
    const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-log-'));
    dirs.push(dataDir);
    const database = await Database.open({ dataDir });
    const user = {
      username: 'dup-user-7431',
      displayName: 'Dr Duplicate 7431',
      passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$SECRET-HASH-7431',
      role: 'reader' as const,
      facilityId: 'county-7431',
    };
    const errors: Error[] = [];
    try {
      await database.db
        .insert(facilities)
        .values({ id: 'county-7431', kind: 'county', name: 'County 7431' });
      await database.db.insert(users).values(user);
      // The unique username fails, with every value of the row as a parameter.
      await database.db
        .insert(users)
        .values(user)
        .catch((error: Error) => errors.push(error));
      // A NUL fails in the driver, with the value in the parameters.
      await database.db
        .insert(facilities)
        .values({ id: 'clinic-7431', kind: 'clinic', name: 'NUL-NAME-7431\u0000' })
        .catch((error: Error) => errors.push(error));
    } finally {
      await database.close();
    }
    return { errors, params: Object.values(user).concat('NUL-NAME-7431', 'clinic-7431') };
  }

  it('carries no parameter, however the error is logged', async () => {
    const { errors, params } = await failedQueries();
    expect(errors).toHaveLength(2);
    const { log, text, entries } = capturedLogger();
    const nest = new NestPinoLogger(log);
    for (const error of errors) {
      log.error({ err: error, route: 'POST /api/admin/users' }, 'request failed');
      log.error(error);
      log.warn({ err: error.message }, 'job failed');
      log.error({ detail: { reason: error } }, 'nested error');
      nest.error(error.message, error.stack, 'ExceptionsHandler');
    }
    expect(entries()).toHaveLength(10);
    for (const value of params.filter((param) => param !== 'reader')) {
      expect(text()).not.toContain(value);
    }
    // What is left still says which query and which rule failed.
    const [first] = entries();
    expect(first?.['err']).toMatchObject({
      type: 'DrizzleQueryError',
      message: expect.stringContaining('insert into "users"'),
      cause: { code: '23505', constraint: 'users_username_unique' },
    });
  });
});
