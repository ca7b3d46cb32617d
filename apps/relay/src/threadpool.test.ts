import { describe, expect, it } from 'vitest';
import { loadConfig } from './config/config.js';
import { TEST_PATIENT_KEYS } from './config/testing/patient-keys.js';
import { DEFAULT_THREADPOOL_SIZE, sizeThreadpool } from './threadpool.js';

describe('sizeThreadpool', () => {
  it("gives libuv's pool the relay's default when the operator set nothing (or an empty value)", () => {
    const unset: NodeJS.ProcessEnv = {};
    sizeThreadpool(unset);
    expect(unset['UV_THREADPOOL_SIZE']).toBe(String(DEFAULT_THREADPOOL_SIZE));
    const empty: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '' };
    sizeThreadpool(empty);
    expect(empty['UV_THREADPOOL_SIZE']).toBe(String(DEFAULT_THREADPOOL_SIZE));
  });

  it("keeps the operator's own value", () => {
    const env: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '48' };
    sizeThreadpool(env);
    expect(env['UV_THREADPOOL_SIZE']).toBe('48');
  });

  it('has the configuration refuse a size libuv would silently change (not a number, 0, above 1024)', () => {
    for (const bad of ['many', '0', '1025', '2.5']) {
      expect(() => loadConfig({ UV_THREADPOOL_SIZE: bad })).toThrow(/UV_THREADPOOL_SIZE/);
    }
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, UV_THREADPOOL_SIZE: '64' })).not.toThrow();
  });
});
