import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, RelayProcess } from '../support/relay-process.js';
import { TEST_PATIENT_KEYS } from '../../apps/relay/src/config/testing/patient-keys.js';

async function runRelayExpectingExit(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['dist/apps/relay/src/main.js'], {
    env: {
      ...process.env,
      PORT: '0',
      MQTT_PORT: '0',
      DICOM_PORT: '0',
      DATA_DIR: '/nonexistent/never-created',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('starting the relay', () => {
  it('refuses bad configuration, naming the keys and not their values', async () => {
    const { code, stderr } = await runRelayExpectingExit({
      PORT: 'eighty',
      AUTH_SECRET: 'too-short-to-sign',
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/PORT/);
    expect(stderr).toMatch(/AUTH_SECRET/);
    expect(stderr).not.toContain('too-short-to-sign');
    expect(stderr).not.toContain('eighty');
  });

  describe('demo accounts', () => {
    let relay: RelayProcess;
    beforeAll(async () => {
      relay = await RelayProcess.start();
    });
    afterAll(async () => {
      await relay?.dispose();
    });

    async function login(): Promise<number> {
      const response = await fetch(`${relay.httpUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'county1.reader', password: DEMO_PASSWORD }),
      });
      return response.status;
    }

    it('stop a password being guessed: after 10 failures even the right one waits', async () => {
      const attempt = async (password: string) =>
        (
          await fetch(`${relay.httpUrl}/api/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'clinic6.staff', password }),
          })
        ).status;
      for (let guess = 0; guess < 10; guess += 1) expect(await attempt(`guess-${guess}`)).toBe(401);
      expect(await attempt(DEMO_PASSWORD)).toBe(429);
      // Another user is not locked out by it.
      expect(await login()).toBe(200);
    });

    it('exist only while the relay runs in demo mode', async () => {
      expect(await login()).toBe(200);
      await relay.stop();
      await relay.launch({ DEMO: 'false', ...TEST_PATIENT_KEYS });
      expect(await login()).toBe(401);
    });
  });
});
