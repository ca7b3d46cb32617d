import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminUser, CaseSummary, DeviceError, StoredAck, WatchResult } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { buildRecording } from '../../device-simulator/src/recording-builder.js';
import { ConsoleClient, nextEvent } from '../support/clients.js';
import { hostileString } from '../support/hostile-strings.js';
import { RawBox } from '../support/raw-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

/** Runs per REST route: enough to meet NUL, surrogates and 64 KB, quick on two cores. */
const RUNS_PER_ROUTE = 30;
/** Routes that hash a password (argon2) on every call take fewer runs. */
const HASHING_ROUTES = new Set([
  'POST /api/auth/login username',
  'POST /api/auth/login password',
  'POST /api/admin/users displayName',
]);
const MQTT_RUNS = 12;
/**
 * A box's message must fit one MQTT packet: a longer one closes the connection by design
 * (broker-hardening.e2e.ts), so the box gets the tail of a long string, hostile end kept.
 */
const packetString = hostileString.map((text) => text.slice(-8 * 1024));

/**
 * Percent-encodes the last 1024 UTF-16 units for a path or query, an unpaired surrogate
 * included (as the three bytes UTF-8 would give it, which no decoder accepts), where
 * encodeURIComponent would throw.
 */
function percentEncode(value: string): string {
  let encoded = '';
  // Node answers a request head over 16 KB with 431 and closes the socket while the client
  // is still writing (EPIPE), before the relay sees it; the tail keeps the hostile end.
  for (const char of value.slice(-1024)) {
    const code = char.codePointAt(0)!;
    if (code < 0xd800 || code > 0xdfff) {
      encoded += encodeURIComponent(char);
      continue;
    }
    const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
    encoded += bytes.map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
  }
  return encoded;
}

describe('hostile strings at the edge', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  let admin: ConsoleClient;
  let reader: ConsoleClient;
  /** Cases of clinic-1 claimed by county1.reader: one each to sign, return and escalate. */
  const claimed: Record<'sign' | 'return' | 'escalate', string> = {
    sign: '',
    return: '',
    escalate: '',
  };
  let userId: string;
  let created = 0;

  /** Status of a request, whatever its body (a 413 or 431 may not be JSON). */
  async function status(
    method: string,
    path: string,
    options: { token?: string; body?: string } = {},
  ): Promise<number> {
    const response = await fetch(`${relay.httpUrl}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body,
    });
    await response.arrayBuffer();
    return response.status;
  }

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
    admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const socket = await reader.connectSocket();
    const device = devices.find((d) => d.clinicId === 'clinic-1')!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    for (const [index, action] of (['sign', 'return', 'escalate'] as const).entries()) {
      const listed = nextEvent(socket, 'worklist.case-added', (s) => s.clinicId === 'clinic-1');
      const { caseId } = await box.record({ durationSeconds: 3, seed: 61 + index });
      await listed;
      claimed[action] = caseId!;
      expect((await reader.post<CaseSummary>(`/api/cases/${caseId}/claim`)).status).toBe(200);
    }
    await box.stop();
    socket.disconnect();
    const user = await admin.post<AdminUser>('/api/admin/users', {
      username: 'hostile.target',
      displayName: 'Target',
      role: 'reader',
      facilityId: 'county-1',
      password: 'long enough password',
    });
    expect(user.status).toBe(201);
    userId = user.body.id;
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  /**
   * Every REST input with text that reaches the database, as a function of one string.
   * The reader's cases stay claimed while the string is refused; once an ordinary string
   * signs or returns one, later runs get a 409, which is as good an answer as any below 500.
   */
  const ROUTES: Record<string, (text: string) => Promise<number>> = {
    'POST /api/auth/login username': (text) =>
      status('POST', '/api/auth/login', {
        body: JSON.stringify({ username: text, password: 'x' }),
      }),
    'POST /api/auth/login password': (text) =>
      status('POST', '/api/auth/login', {
        body: JSON.stringify({ username: 'county1.reader', password: text }),
      }),
    'POST /api/cases/:id/sign conclusion': (text) =>
      status('POST', `/api/cases/${claimed.sign}/sign`, {
        token: reader.token,
        body: JSON.stringify({ conclusion: text }),
      }),
    'POST /api/cases/:id/sign findings': (text) =>
      status('POST', `/api/cases/${claimed.sign}/sign`, {
        token: reader.token,
        body: JSON.stringify({ conclusion: 'Sinus rhythm', findings: [text] }),
      }),
    'POST /api/cases/:id/return reason': (text) =>
      status('POST', `/api/cases/${claimed.return}/return`, {
        token: reader.token,
        body: JSON.stringify({ reason: text }),
      }),
    'POST /api/cases/:id/escalate note': (text) =>
      status('POST', `/api/cases/${claimed.escalate}/escalate`, {
        token: reader.token,
        body: JSON.stringify({ note: text }),
      }),
    'POST /api/phrases text': (text) =>
      status('POST', '/api/phrases', { token: reader.token, body: JSON.stringify({ text }) }),
    'POST /api/admin/users displayName': (text) =>
      status('POST', '/api/admin/users', {
        token: admin.token,
        body: JSON.stringify({
          username: `hostile.${(created += 1)}`,
          displayName: text,
          role: 'reader',
          facilityId: 'county-1',
          password: 'long enough password',
        }),
      }),
    'PATCH /api/admin/users/:id displayName': (text) =>
      status('PATCH', `/api/admin/users/${userId}`, {
        token: admin.token,
        body: JSON.stringify({ displayName: text }),
      }),
    'POST /api/admin/facilities name': (text) =>
      status('POST', '/api/admin/facilities', {
        token: admin.token,
        body: JSON.stringify({
          id: `hostile-${(created += 1)}`,
          kind: 'clinic',
          name: text,
          parentId: 'county-2',
        }),
      }),
    'PATCH /api/admin/facilities/:id name': (text) =>
      status('PATCH', '/api/admin/facilities/clinic-6', {
        token: admin.token,
        body: JSON.stringify({ name: text }),
      }),
    'PATCH /api/admin/facilities/:id id': (text) =>
      status('PATCH', `/api/admin/facilities/${percentEncode(text)}`, {
        token: admin.token,
        body: JSON.stringify({ name: 'Renamed' }),
      }),
    'GET /api/admin/audit actor': (text) =>
      status('GET', `/api/admin/audit?actor=${percentEncode(text)}`, { token: admin.token }),
    'GET /api/admin/audit action': (text) =>
      status('GET', `/api/admin/audit?action=${percentEncode(text)}`, { token: admin.token }),
    'GET /api/admin/hospitals/:id/policy id': (text) =>
      status('GET', `/api/admin/hospitals/${percentEncode(text)}/policy`, { token: admin.token }),
    'PUT /api/admin/hospitals/:id/policy overflowHospitalId': (text) =>
      status('PUT', '/api/admin/hospitals/county-1/policy', {
        token: admin.token,
        body: JSON.stringify({ atDeadline: 'overflow', overflowHospitalId: text }),
      }),
    'POST /api/devices/:id/stream/snapshot id': (text) =>
      status('POST', `/api/devices/${percentEncode(text)}/stream/snapshot`, {
        token: reader.token,
        body: JSON.stringify({}),
      }),
  };

  /** The inputs named in issue 10, each of which answered 500. */
  const NUL_CASES: [string, string][] = [
    ['POST /api/auth/login username', 'a\u0000'],
    ['POST /api/cases/:id/sign conclusion', 'Sinus\u0000 rhythm'],
    ['POST /api/cases/:id/sign findings', 'normal\u0000axis'],
    ['POST /api/cases/:id/return reason', 'lead\u0000 off'],
    ['POST /api/cases/:id/escalate note', 'please\u0000'],
    ['POST /api/phrases text', 'phrase\u0000'],
    ['POST /api/admin/users displayName', 'Dr\u0000 Who'],
    ['PATCH /api/admin/users/:id displayName', 'Dr\u0000 Who'],
    ['POST /api/admin/facilities name', 'Clinic\u0000'],
    ['PATCH /api/admin/facilities/:id name', 'Clinic\u0000'],
    ['GET /api/admin/audit actor', '\u0000'],
    ['GET /api/admin/hospitals/:id/policy id', '\u0000'],
    ['POST /api/devices/:id/stream/snapshot id', '\u0000'],
    ['POST /api/cases/:id/sign conclusion', 'Sinus \uD800rhythm'],
    ['POST /api/phrases text', 'phrase\uDC00'],
  ];

  it.each(NUL_CASES)('%s refuses %j with a 400', async (route, text) => {
    expect(await ROUTES[route]!(text)).toBe(400);
  });

  it.each(Object.keys(ROUTES))('%s answers below 500 whatever string arrives', async (route) => {
    await fc.assert(
      fc.asyncProperty(hostileString, async (text) => {
        expect(await ROUTES[route]!(text)).toBeLessThan(500);
      }),
      { numRuns: HASHING_ROUTES.has(route) ? RUNS_PER_ROUTE / 2 : RUNS_PER_ROUTE },
    );
  });

  describe('a box', () => {
    let box: RawBox;

    beforeAll(async () => {
      box = await RawBox.connect(
        relay.mqttUrl,
        devices.find((d) => d.clinicId === 'clinic-2')!,
      );
    });

    afterAll(async () => {
      await box?.kill();
    });

    /** The first ack or error about this recording. */
    async function answerTo(recordingId: string, from: number) {
      return box.next(
        (reply) => (reply.body as { recordingId?: string }).recordingId === recordingId,
        from,
      );
    }

    /**
     * A whole recording, open to close, each message waiting for its PUBACK (and the open
     * for its ack); resolves with the ack that says it is complete.
     */
    async function recordWhole(seed: number): Promise<StoredAck> {
      const built = buildRecording({ durationSeconds: 1, seed });
      const { recordingId } = built.entry.open;
      const from = box.replies.length;
      await box.publish('rec/open', JSON.stringify(built.entry.open));
      await box.ack(recordingId, () => true, from);
      for (const frame of built.entry.frames) await box.publish('rec/chunk', frame!);
      await box.publish('rec/close', JSON.stringify(built.entry.close));
      return box.ack(recordingId, (ack) => ack.complete, from);
    }

    it.each([
      ['patientRef', { patientRef: 'P-1\u0000' }],
      ['lead name', { leadName: 'I\u0000' }],
      ['patientRef with an unpaired surrogate', { patientRef: 'P-\uD800' }],
    ])(
      'is told INVALID_MESSAGE, not retryable, for a %s it cannot store, and its next recording completes',
      async (_field, hostile) => {
        const built = buildRecording({ durationSeconds: 1, seed: 80 });
        const { leadName, ...fields } = hostile as { leadName?: string; patientRef?: string };
        const leads = built.entry.open.leads;
        const open = {
          ...built.entry.open,
          ...fields,
          ...(leadName !== undefined && { leads: [leadName, ...leads.slice(1)] }),
        };
        const { recordingId } = open;
        const from = box.replies.length;
        await box.publish('rec/open', JSON.stringify(open));
        const reply = await answerTo(recordingId, from);
        expect(reply).toMatchObject({
          channel: 'error',
          body: { code: 'INVALID_MESSAGE', retryable: false },
        });
        expect((await recordWhole(81)).complete).toBe(true);
      },
    );

    it('is refused or stored, never left hanging, whatever string its messages carry', async () => {
      await fc.assert(
        fc.asyncProperty(
          packetString,
          fc.constantFrom('patientRef', 'lead', 'firmware', 'stream lead'),
          async (text, field) => {
            const from = box.replies.length;
            if (field === 'firmware' || field === 'stream lead') {
              // Neither is answered when it is fine, so a recording behind it shows the
              // relay took the message in its stride.
              if (field === 'firmware') {
                await box.publish('status', JSON.stringify({ online: true, firmware: text }));
              } else {
                await box.publish(
                  'stream/open',
                  JSON.stringify({
                    streamId: randomUUID(),
                    leads: [text],
                    sampleRateHz: 250,
                    microvoltsPerLsb: 5,
                    startedAt: new Date().toISOString(),
                  }),
                );
                await box.publish('stream/close', JSON.stringify({ streamId: randomUUID() }));
              }
              expect((await recordWhole(90)).complete).toBe(true);
              return;
            }
            const built = buildRecording({ durationSeconds: 1, seed: 91 });
            const open = {
              ...built.entry.open,
              ...(field === 'patientRef'
                ? { patientRef: text }
                : { leads: [text, ...built.entry.open.leads.slice(1)] }),
            };
            await box.publish('rec/open', JSON.stringify(open));
            const reply = await answerTo(open.recordingId, from);
            if (reply.channel === 'error') {
              expect(reply.body).toMatchObject({
                code: 'INVALID_MESSAGE',
                retryable: false,
              } satisfies Partial<DeviceError>);
              return;
            }
            // Taken: the rest of the recording must be stored, not resent forever.
            for (const frame of built.entry.frames) await box.publish('rec/chunk', frame!);
            await box.publish('rec/close', JSON.stringify(built.entry.close));
            const done = await box.ack(open.recordingId, (ack) => ack.complete, from);
            expect(done.caseId).toBeDefined();
          },
        ),
        { numRuns: MQTT_RUNS },
      );
    });
  });

  describe('a console socket', () => {
    it('answers a stream.watch or an acknowledgement it cannot parse as invalid, and goes on working', async () => {
      const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
      const socket = await clinic.connectSocket();
      const watch = (deviceId: string) =>
        socket.timeout(10_000).emitWithAck('stream.watch', { deviceId }) as Promise<WatchResult>;
      try {
        await fc.assert(
          fc.asyncProperty(
            hostileString.map((text) => text.slice(-1024)),
            async (text) => {
              socket.emit('diagnosis.received', { eventId: text });
              expect(await watch(text)).toMatchObject({ ok: false });
            },
          ),
          { numRuns: 20 },
        );
        const own = devices.find((d) => d.clinicId === 'clinic-1')!;
        expect(await watch(own.deviceId)).toMatchObject({ ok: true });
      } finally {
        socket.disconnect();
      }
    });
  });

  it('logged no failed request or failed ingest on the way', () => {
    const failures = relay.logs.filter(
      (line) => line.includes('"request failed"') || line.includes('"ingest failed"'),
    );
    expect(failures).toEqual([]);
  });
});
