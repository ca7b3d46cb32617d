import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegisterPatientSchema } from '#contracts';
import { ConfigError, loadConfig, type SmsGatewayConfig } from '../config/config.js';
import { TEST_PATIENT_KEYS } from '../config/testing/patient-keys.js';
import type { Database } from '../infra/database/database.js';
import { facilities, patients as patientsTable } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { createLogger } from '../infra/logging/logger.js';
import { HttpSmsGateway } from '../infra/sms/sms-gateway.js';
import { PatientIdentity } from '../records/patient-identity.js';
import { PatientsRepository } from '../records/patients.repository.js';
import { PatientsService } from '../records/patients.service.js';
import type { CodeRecipient, CodeRequest } from './consent-notifier.js';
import { SmsConsentNotifier, codeMessage } from './sms-consent-notifier.js';

/**
 * The SMS path for verification codes against a real HTTP server on a free local port (the
 * "gateway"), and a real database holding the patient's sealed mobile number. Each test
 * tells the server how to answer each request it gets.
 */

const MOBILE = '13800138000';
const CODE = '493817';
const TOKEN = 'sms-gateway-token-for-tests-0123';

type Answer = { status: number; retryAfter?: string } | 'hang';

interface Received {
  method: string;
  contentType: string | undefined;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  body: unknown;
}

describe.each(DRIVERS)('verification codes by SMS through an HTTP gateway (%s)', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let server: Server;
  let url: string;
  const answers: Answer[] = [];
  const received: Received[] = [];
  const logLines: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void logLines.push(line) });
  let patients: PatientsService;
  let withMobile: CodeRecipient;
  let withoutMobile: CodeRecipient;

  const request: CodeRequest = {
    code: CODE,
    requestedByName: '李医生',
    facilityName: '南川区人民医院',
    purpose: '对比既往心电图',
    expiresAt: new Date('2026-12-07T11:35:00Z'),
  };

  function notifier(overrides: Partial<SmsGatewayConfig> = {}): SmsConsentNotifier {
    const config: SmsGatewayConfig = {
      url,
      token: TOKEN,
      timeoutMs: 2_000,
      attempts: 3,
      backoffMs: 5,
      ...overrides,
    };
    return new SmsConsentNotifier(new HttpSmsGateway(config, log), patients, log);
  }

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    await database.db
      .insert(facilities)
      .values({ id: 'clinic-1', kind: 'clinic', name: 'Clinic One', parentId: null });
    const identity = new PatientIdentity({
      hmacKey: Buffer.alloc(32, 3),
      sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 4) }],
    });
    patients = new PatientsService(new PatientsRepository(database), identity);
    const recipient = async (idNumber: string, mobile?: string) => {
      const { patient } = await patients.register(
        { documentType: 'passport', idNumber, name: '短信测试患者', mobile },
        { facilityId: 'clinic-1' },
      );
      return {
        patientId: patient.id,
        maskedIdentifier: patient.identifierMasked,
        name: patient.name,
        registeredBy: patient.registeredBy,
      };
    };
    withMobile = await recipient('SMSTEST001', MOBILE);
    withoutMobile = await recipient('SMSTEST002');

    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          contentType: req.headers['content-type'],
          authorization: req.headers['authorization'],
          idempotencyKey: req.headers['idempotency-key'] as string | undefined,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        });
        const answer = answers.shift() ?? { status: 200 };
        if (answer === 'hang') return; // never answers: the relay's timeout must end it
        res.writeHead(answer.status, {
          'content-type': 'application/json',
          ...(answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }),
        });
        // A gateway that echoes the number: the relay must not log what it answers.
        res.end(JSON.stringify({ to: MOBILE, status: answer.status }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms/send`;
  }, 60_000);

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await dispose();
  });

  beforeEach(() => {
    answers.length = 0;
    received.length = 0;
    logLines.length = 0;
  });

  /** Nothing the relay logged holds the number or the code. */
  function expectNothingInClearInTheLog(): void {
    const logged = logLines.join('\n');
    expect(logged).not.toContain(MOBILE);
    expect(logged).not.toContain(CODE);
    expect(logged).not.toContain(TOKEN);
  }

  const logged = (msg: string) =>
    logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l['msg'] === msg);

  it('keeps the mobile number sealed in the database, in clear only for the notifier', async () => {
    const [row] = await database.db.select().from(patientsTable).limit(1);
    const stored = JSON.stringify(await database.db.select().from(patientsTable));
    expect(row).toBeDefined();
    expect(stored).not.toContain(MOBILE);
    expect(stored).toMatch(/"mobileSealed":"k1\./);
    expect(await patients.mobileOf(withMobile.patientId)).toBe(MOBILE);
    expect(await patients.mobileOf(withoutMobile.patientId)).toBeNull();
  });

  it('posts the number and a Chinese message with the code, who asks, why and until when', async () => {
    await notifier().sendCode(withMobile, request);

    expect(received).toHaveLength(1);
    const [sent] = received as [Received];
    expect(sent.method).toBe('POST');
    expect(sent.contentType).toMatch(/^application\/json/);
    expect(sent.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.body).toEqual({ phoneNumber: MOBILE, message: codeMessage(request) });
    const message = (sent.body as { message: string }).message;
    for (const part of [
      '南川区人民医院',
      '李医生',
      '对比既往心电图',
      `验证码：${CODE}`,
      '前有效',
    ]) {
      expect(message).toContain(part);
    }
    expect(logged('consent code sent')).toEqual([
      expect.objectContaining({ patientId: withMobile.patientId, attempts: 1 }),
    ]);
    expectNothingInClearInTheLog();
  });

  it('retries a gateway that says "later" with backoff and the same idempotency key, until it takes the message', async () => {
    answers.push({ status: 503 }, { status: 429, retryAfter: '0' }, { status: 202 });
    const started = performance.now();
    await notifier({ backoffMs: 40 }).sendCode(withMobile, request);
    const took = performance.now() - started;

    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.idempotencyKey)).size).toBe(1);
    // Backoff: at least half of 40 ms, then half of 80 ms, waited between the attempts.
    expect(took).toBeGreaterThanOrEqual(20 + 40);
    expect(logged('SMS gateway attempt failed').map((l) => l['reason'])).toEqual([
      'HTTP 503',
      'HTTP 429',
    ]);
    expect(logged('consent code sent')).toEqual([expect.objectContaining({ attempts: 3 })]);
    expectNothingInClearInTheLog();
  });

  it('gives up after the configured attempts when the gateway never answers, and logs why without the number', async () => {
    answers.push('hang', 'hang');
    await notifier({ attempts: 2, timeoutMs: 200 }).sendCode(withMobile, request);

    expect(received).toHaveLength(2);
    expect(logged('consent code not sent: the SMS gateway did not take it')).toEqual([
      expect.objectContaining({
        patientId: withMobile.patientId,
        attempts: 2,
        reason: 'timeout',
      }),
    ]);
    expectNothingInClearInTheLog();
  });

  it('does not retry a refusal that another try cannot change (400, 401)', async () => {
    answers.push({ status: 401 });
    await notifier().sendCode(withMobile, request);
    expect(received).toHaveLength(1);
    expect(logged('consent code not sent: the SMS gateway did not take it')).toEqual([
      expect.objectContaining({ attempts: 1, reason: 'HTTP 401' }),
    ]);
    expectNothingInClearInTheLog();
  });

  it('sends nothing for a patient without a mobile number, and says so', async () => {
    await notifier().sendCode(withoutMobile, request);
    expect(received).toEqual([]);
    expect(logged('consent code not sent: the patient has no mobile number registered')).toEqual([
      expect.objectContaining({ patientId: withoutMobile.patientId }),
    ]);
  });

  it('keeps a number once registered: a later registration adds one only where none was', async () => {
    const register = (idNumber: string, mobile?: string) =>
      // Through the contract, as the registration route takes it: the number normalised.
      patients.register(
        RegisterPatientSchema.parse({
          documentType: 'passport',
          idNumber,
          name: '短信测试患者',
          mobile,
        }),
        { facilityId: 'clinic-1' },
      );
    const kept = (await register('SMSTEST003', '+86 138-0013-8000')).patient.id;
    expect(await patients.mobileOf(kept)).toBe(MOBILE);
    await register('SMSTEST003', '13900000000');
    expect(await patients.mobileOf(kept)).toBe(MOBILE);

    const added = (await register('SMSTEST004')).patient.id;
    expect(await patients.mobileOf(added)).toBeNull();
    await register('SMSTEST004', '0086 139 0000 0000');
    expect(await patients.mobileOf(added)).toBe('13900000000');
  });
});

describe('SMS gateway configuration', () => {
  it('needs the URL and the token together, an http(s) URL, and never echoes either', () => {
    const token = 'a-token-that-must-not-be-echoed';
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig({ ...TEST_PATIENT_KEYS, ...env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ CONSENT_SMS_TOKEN: token })).toContain('CONSENT_SMS_URL');
    expect(problems({ CONSENT_SMS_URL: 'https://sms.example.org/send' })).toContain(
      'CONSENT_SMS_TOKEN',
    );
    const badUrl = problems({
      CONSENT_SMS_URL: 'ftp://sms.example.org/x',
      CONSENT_SMS_TOKEN: token,
    });
    expect(badUrl).toContain('CONSENT_SMS_URL');
    expect(badUrl).not.toContain('sms.example.org');
    expect(badUrl).not.toContain(token);

    expect(loadConfig(TEST_PATIENT_KEYS).consent.sms).toBeNull();
    expect(
      loadConfig({
        ...TEST_PATIENT_KEYS,
        CONSENT_SMS_URL: 'https://sms.example.org/send',
        CONSENT_SMS_TOKEN: token,
        CONSENT_SMS_ATTEMPTS: '2',
      }).consent.sms,
    ).toEqual({
      url: 'https://sms.example.org/send',
      token,
      timeoutMs: 5_000,
      attempts: 2,
      backoffMs: 1_000,
    });
  });
});
