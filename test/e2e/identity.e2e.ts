import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AdminUser,
  ApiError,
  CaseSummary,
  Facility,
  LoginResponse,
  RegionFile,
  RegionStats,
} from '#contracts';
import { TEST_PATIENT_KEYS } from '../../apps/relay/src/config/testing/patient-keys.js';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';

const REGION_PASSWORD = 'region-reader-password';
const region = {
  facilities: [
    { id: 'tertiary-1', kind: 'tertiary', name: 'City Heart Hospital', parentId: null },
    { id: 'county-r', kind: 'county', name: 'Region County', parentId: 'tertiary-1' },
    { id: 'clinic-r', kind: 'clinic', name: 'Region Clinic', parentId: 'county-r' },
  ],
  users: [
    {
      username: 'region.reader',
      displayName: 'Dr. Region',
      role: 'reader',
      facilityId: 'county-r',
      password: REGION_PASSWORD,
    },
  ],
  devices: [{ id: 'region-box-1', facilityId: 'clinic-r', secret: 'region-box-secret-0001' }],
} satisfies RegionFile;

async function postJson<T>(baseUrl: string, path: string, body: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Resolves when the socket is disconnected by the server, with the reason. */
function serverDisconnect(socket: ConsoleSocket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

/** A handshake with this token: 'ready' or the refusal message. */
async function handshake(baseUrl: string, token: string): Promise<string> {
  const socket = io(baseUrl, {
    path: '/socket.io',
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('session.ready', () => resolve('ready'));
      socket.once('connect_error', (error) => resolve(error.message));
    });
  } finally {
    socket.disconnect();
  }
}

describe('identity: sessions that really end, the health authority, the hierarchy as data', () => {
  let relay: RelayProcess;
  let regionDir: string;
  let admin: ConsoleClient;
  const sockets: ConsoleSocket[] = [];
  const boxes: SimulatedBox[] = [];

  beforeAll(async () => {
    regionDir = await mkdtemp(join(tmpdir(), 'telerelay-region-'));
    const regionFile = join(regionDir, 'region.json');
    await writeFile(regionFile, JSON.stringify(region));
    relay = await RelayProcess.start({ REGION_FILE: regionFile });
    admin = await ConsoleClient.login(relay.httpUrl, 'admin');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(boxes.map((box) => box.stop()));
    await relay?.dispose();
    await rm(regionDir, { recursive: true, force: true });
  });

  it('seeds the REGION_FILE at start, alongside the demo region', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'region.reader', REGION_PASSWORD);
    expect(reader.session.user).toMatchObject({ facilityId: 'county-r', facilityKind: 'county' });
    const facilities = await admin.get<Facility[]>('/api/admin/facilities');
    expect(facilities.body).toContainEqual({
      id: 'clinic-r',
      kind: 'clinic',
      name: 'Region Clinic',
      parentId: 'county-r',
      disabled: false,
    });
    expect(facilities.body.map((f) => f.id)).toContain('clinic-6');
  });

  it('rotates the refresh token, and a reused one ends the whole session', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const first = reader.session;
    const renewed = await postJson<LoginResponse>(relay.httpUrl, '/api/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(renewed.status).toBe(200);
    expect(renewed.body.refreshToken).not.toBe(first.refreshToken);
    expect(renewed.body.user.username).toBe('county1.reader');
    const meWith = (token: string) =>
      fetch(`${relay.httpUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.status,
      );
    expect(await meWith(renewed.body.accessToken)).toBe(200);

    // The old refresh token again: a copy is in someone else's hands.
    const reused = await postJson<ApiError>(relay.httpUrl, '/api/auth/refresh', {
      refreshToken: first.refreshToken,
    });
    expect(reused.status).toBe(401);
    // Every token of the session is dead, the newest pair included.
    const after = await postJson(relay.httpUrl, '/api/auth/refresh', {
      refreshToken: renewed.body.refreshToken,
    });
    expect(after.status).toBe(401);
    expect(await meWith(renewed.body.accessToken)).toBe(401);
    expect(await meWith(first.accessToken)).toBe(401);
  });

  it('logout refuses the access token on REST, disconnects the socket and refuses it again', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const other = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const socket = await reader.connectSocket();
    const otherSocket = await other.connectSocket();
    sockets.push(socket, otherSocket);
    expect((await reader.get('/api/worklist')).status).toBe(200);

    const disconnected = serverDisconnect(socket);
    const loggedOut = await postJson(relay.httpUrl, '/api/auth/logout', {
      refreshToken: reader.session.refreshToken,
    });
    expect(loggedOut.status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    expect((await reader.get('/api/worklist')).status).toBe(401);
    expect(await handshake(relay.httpUrl, reader.token)).toMatch(/^UNAUTHENTICATED/);
    const refreshed = await postJson(relay.httpUrl, '/api/auth/refresh', {
      refreshToken: reader.session.refreshToken,
    });
    expect(refreshed.status).toBe(401);

    // The same user's other session is untouched.
    expect(otherSocket.connected).toBe(true);
    expect((await other.get('/api/worklist')).status).toBe(200);
  });

  it('gives the health authority its statistics and nothing else; others get no statistics', async () => {
    const authority = await ConsoleClient.login(relay.httpUrl, 'health.authority');
    const stats = await authority.get<RegionStats>('/api/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.regionId).toBe('tertiary-1');
    const ids = stats.body.facilities.map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['tertiary-1', 'county-1', 'clinic-1', 'county-r']));
    for (const facility of stats.body.facilities) {
      expect(Object.keys(facility).sort()).toEqual(
        [
          'claimed',
          'escalated',
          'id',
          'kind',
          'name',
          'parentId',
          'repeatExamWarnings',
          'repeatExamsWentAhead',
          'returned',
          'signed',
          'turnaroundSeconds',
          'waiting',
        ].sort(),
      );
    }

    const anyCase = '00000000-0000-4000-8000-000000000001';
    expect((await authority.get(`/api/cases/${anyCase}`)).status).toBe(403);
    expect((await authority.get('/api/worklist')).status).toBe(403);
    expect((await authority.get('/api/devices')).status).toBe(403);
    expect((await authority.get('/api/admin/facilities')).status).toBe(403);

    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const staff = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    expect((await reader.get('/api/stats')).status).toBe(403);
    expect((await staff.get('/api/stats')).status).toBe(403);
  });

  it('refuses the admin API to everyone but admins', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'tertiary.reader');
    expect((await reader.get('/api/admin/facilities')).status).toBe(403);
    const attempt = await reader.post('/api/admin/facilities', {
      id: 'county-x',
      kind: 'county',
      name: 'Not allowed',
      parentId: 'tertiary-1',
    });
    expect(attempt.status).toBe(403);
    expect((await reader.post('/api/admin/devices', {})).status).toBe(403);
    expect((await reader.get('/api/admin/users')).status).toBe(403);
  });

  it('enforces the hierarchy rules on the admin API', async () => {
    const underTertiary = await admin.post<ApiError>('/api/admin/facilities', {
      id: 'clinic-bad',
      kind: 'clinic',
      name: 'Clinic under a tertiary',
      parentId: 'tertiary-1',
    });
    expect(underTertiary.status).toBe(400);
    expect(underTertiary.body.message).toMatch(/must be a county/);
    const again = await admin.post<ApiError>('/api/admin/facilities', {
      id: 'county-1',
      kind: 'county',
      name: 'Duplicate',
      parentId: 'tertiary-1',
    });
    expect(again.status).toBe(409);
    const badId = await admin.post<ApiError>('/api/admin/facilities', {
      id: 'county:9',
      kind: 'county',
      name: 'Bad id',
      parentId: 'tertiary-1',
    });
    expect(badId.status).toBe(400);
  });

  it('a county and clinic created at runtime read their first case without a restart', async () => {
    const county = await admin.post<Facility>('/api/admin/facilities', {
      id: 'county-9',
      kind: 'county',
      name: 'County 9 Hospital',
      parentId: 'tertiary-1',
    });
    expect(county.status).toBe(201);
    expect(
      (
        await admin.post('/api/admin/facilities', {
          id: 'clinic-9',
          kind: 'clinic',
          name: 'Township Clinic 9',
          parentId: 'county-9',
        })
      ).status,
    ).toBe(201);
    const user = await admin.post<AdminUser>('/api/admin/users', {
      username: 'county9.reader',
      displayName: 'Dr. County 9',
      role: 'reader',
      facilityId: 'county-9',
      password: 'county-nine-password',
    });
    expect(user.status).toBe(201);
    const secret = 'box-nine-secret-000000';
    expect(
      (await admin.post('/api/admin/devices', { id: 'box-9', facilityId: 'clinic-9', secret }))
        .status,
    ).toBe(201);

    const reader = await ConsoleClient.login(
      relay.httpUrl,
      'county9.reader',
      'county-nine-password',
    );
    const socket = await reader.connectSocket();
    sockets.push(socket);
    const listed = nextEvent(socket, 'worklist.case-added', undefined, 60_000);
    const box = new SimulatedBox({ brokerUrl: relay.mqttUrl, deviceId: 'box-9', secret });
    boxes.push(box);
    await box.start();
    const sent = await box.record({ durationSeconds: 10, finding: 'normal', seed: 9 });
    const summary: CaseSummary = await listed;
    expect(summary).toMatchObject({
      id: sent.caseId,
      clinicId: 'clinic-9',
      hospitalId: 'county-9',
    });

    // Moving the clinic now would strand that open case at county 9.
    const move = await admin.patch<ApiError>('/api/admin/facilities/clinic-9', {
      parentId: 'county-1',
    });
    expect(move.status).toBe(409);
    expect(move.body.message).toMatch(/1 open case/);
    const renamed = await admin.patch<Facility>('/api/admin/facilities/clinic-9', {
      name: 'Township Clinic Nine',
    });
    expect(renamed.body).toMatchObject({ name: 'Township Clinic Nine', parentId: 'county-9' });

    // Disabling the reader ends the session: REST, socket and refresh.
    const dropped = serverDisconnect(socket);
    const disabled = await admin.patch<AdminUser>(`/api/admin/users/${user.body.id}`, {
      disabled: true,
    });
    expect(disabled.body.disabled).toBe(true);
    expect(await dropped).toBe('io server disconnect');
    expect((await reader.get('/api/worklist')).status).toBe(401);
    const refresh = await postJson(relay.httpUrl, '/api/auth/refresh', {
      refreshToken: reader.session.refreshToken,
    });
    expect(refresh.status).toBe(401);
  });
});

describe('an invalid REGION_FILE', () => {
  it('stops the relay at start with exit code 2 and names the problem, not the secrets', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-region-bad-'));
    try {
      const path = join(dir, 'region.json');
      await writeFile(
        path,
        JSON.stringify({
          facilities: [{ id: 'clinic-z', kind: 'hospital', name: 'Z', parentId: null }],
          users: [
            {
              username: 'z.staff',
              displayName: 'Z',
              role: 'clinic_staff',
              facilityId: 'clinic-z',
              password: 'hunter2',
            },
          ],
        }),
      );
      const child = spawn(process.execPath, ['dist/apps/relay/src/main.js'], {
        env: {
          ...process.env,
          PORT: '0',
          MQTT_PORT: '0',
          DICOM_PORT: '0',
          DATA_DIR: dir,
          REGION_FILE: path,
          // Not DEMO: real patient keys, so the refusal is the region file's.
          ...TEST_PATIENT_KEYS,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(2);
      expect(stderr).toContain(`REGION_FILE ${path}`);
      expect(stderr).toMatch(/users\.0\.password: .*8 characters/);
      expect(stderr).not.toContain('hunter2');
      // Problems are reported together, not one per start.
      expect(stderr).toMatch(/facilities\.0\.kind/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
