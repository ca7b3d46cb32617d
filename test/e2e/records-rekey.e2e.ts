import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentTicket, CreatedExamOrder } from '#contracts';
import { Database } from '../../apps/relay/src/infra/database/database.js';
import { patients } from '../../apps/relay/src/infra/database/schema.js';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * A rotation of PATIENT_ID_KEYS as an operator does it, with the relay as its own process:
 * the relay runs under k1 and a clinic registers a patient with a mobile number; the relay
 * stops; k2 is put first and `npm run records:rekey` (built) re-seals everything; k1 is
 * removed and the relay starts again. The patient is still found by their number, and a
 * verification code still reaches their mobile through the SMS gateway (a local HTTP server
 * here), so k2 alone opens what was sealed under k1.
 */

const HMAC_KEY = Buffer.alloc(32, 21).toString('base64');
const K1 = `k1:${Buffer.alloc(32, 22).toString('base64')}`;
const K2 = `k2:${Buffer.alloc(32, 23).toString('base64')}`;
const PASSPORT = 'REKEYE2E01';
const MOBILE = '13912345678';
const SMS_TOKEN = 'e2e-sms-gateway-token-0123456789';

/** The built command on the relay's store (its PGlite in DATA_DIR, or its DATABASE_URL). */
async function rekey(
  relay: RelayProcess,
  keys: string,
): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _ambient, ...env } = process.env;
  const database = relay.databaseUrl ? { DATABASE_URL: relay.databaseUrl } : {};
  const child = spawn(process.execPath, ['dist/scripts/records-rekey.js', '--batch-size', '2'], {
    env: {
      ...env,
      ...database,
      DATA_DIR: relay.dataDir,
      PATIENT_ID_HMAC_KEY: HMAC_KEY,
      PATIENT_ID_KEYS: keys,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('npm run records:rekey between two runs of the relay', () => {
  let relay: RelayProcess;
  let gateway: Server;
  let gatewayUrl: string;
  const texts: { phoneNumber: string; message: string }[] = [];

  beforeAll(async () => {
    gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.headers['authorization'] === `Bearer ${SMS_TOKEN}`) {
          texts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof texts)[0]);
          res.writeHead(200).end('{}');
        } else {
          res.writeHead(401).end();
        }
      });
    });
    gateway.listen(0, '127.0.0.1');
    await once(gateway, 'listening');
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
    relay = await RelayProcess.start({
      PATIENT_ID_HMAC_KEY: HMAC_KEY,
      PATIENT_ID_KEYS: K1,
      CONSENT_SMS_URL: gatewayUrl,
      CONSENT_SMS_TOKEN: SMS_TOKEN,
    });
  }, 120_000);

  afterAll(async () => {
    gateway?.closeAllConnections();
    gateway?.close();
    await relay?.dispose();
  });

  async function storedSealed(): Promise<
    { identifierSealed: string; mobileSealed: string | null }[]
  > {
    const database = await Database.open({
      databaseUrl: relay.databaseUrl,
      dataDir: relay.dataDir,
    });
    try {
      return await database.db
        .select({
          identifierSealed: patients.identifierSealed,
          mobileSealed: patients.mobileSealed,
        })
        .from(patients);
    } finally {
      await database.close();
    }
  }

  it('re-seals under the new key; the relay then finds the patient and texts the code with the new key alone', async () => {
    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const created = await clinic.post<CreatedExamOrder>('/api/records/orders', {
      patient: {
        documentType: 'passport',
        idNumber: PASSPORT,
        name: '轮换测试患者',
        mobile: MOBILE,
      },
      kind: 'ecg',
      indication: 'key rotation',
    });
    expect(created.status).toBe(201);
    const patientId = created.body.order.patient.id;
    expect(JSON.stringify(created.body)).not.toContain(MOBILE);

    // A PGlite is the relay's alone while it runs: the command refuses to open it. (A
    // PostgreSQL server takes both; the command is run between two runs there too.)
    if (!relay.databaseUrl) {
      const refused = await rekey(relay, `${K2},${K1}`);
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('stop it first');
    }

    await relay.stop();
    const under = (rows: Awaited<ReturnType<typeof storedSealed>>) =>
      rows.flatMap((row) => [row.identifierSealed, row.mobileSealed ?? '']).filter(Boolean);
    const before = await storedSealed();
    expect(under(before).length).toBeGreaterThan(0);
    expect(under(before).every((value) => value.startsWith('k1.'))).toBe(true);

    const run = await rekey(relay, `${K2},${K1}`);
    expect(run.output).toMatch(/patients: (\d+) examined, \1 re-sealed under key "k2"/);
    expect(run.output).toContain('"k1" may now be removed');
    expect(run.code).toBe(0);
    expect(run.output).not.toContain(PASSPORT);
    expect(run.output).not.toContain(MOBILE);
    expect(under(await storedSealed()).every((value) => value.startsWith('k2.'))).toBe(true);

    const again = await rekey(relay, `${K2},${K1}`);
    expect(again.code).toBe(0);
    expect(again.output).toMatch(/0 re-sealed under key "k2", (\d+) already under it/);

    // k1 is gone: the relay starts on k2 alone.
    await relay.launch({ PATIENT_ID_KEYS: K2 });
    const clinicAgain = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const found = await clinicAgain.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'passport', idNumber: PASSPORT, name: '轮换测试患者' },
      kind: 'ecg',
      indication: 'after the rotation',
    });
    expect(found.status).toBe(201);
    expect(found.body.patientRegistered).toBe(false);
    expect(found.body.order.patient.id).toBe(patientId);

    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const ticket = await reader.post<ConsentTicket>('/api/records/consent-requests', {
      documentType: 'passport',
      idNumber: PASSPORT,
      purpose: '轮换后对比心电图',
    });
    expect(ticket.status).toBe(201);
    await waitFor(() => texts.length === 1, { timeoutMs: 15_000, what: 'the SMS at the gateway' });
    expect(texts[0]!.phoneNumber).toBe(MOBILE);
    expect(texts[0]!.message).toContain('轮换后对比心电图');
    const code = /验证码：([0-9]{6})/.exec(texts[0]!.message)?.[1];
    expect(code).toBeDefined();
    const granted = await reader.post(
      `/api/records/consent-requests/${ticket.body.requestId}/verify`,
      { code },
    );
    expect(granted.status).toBe(200);
    await relay.waitForLog((line) => line.includes('consent code sent'));
    const logs = relay.logs.join('\n');
    expect(logs).not.toContain(MOBILE);
    // (The six digits alone could turn up by chance in a timestamp; the text cannot.)
    expect(logs).not.toContain(`验证码：${code}`);
    expect(logs).not.toContain(texts[0]!.message);
  });
});
