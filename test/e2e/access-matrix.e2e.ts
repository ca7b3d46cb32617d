import 'reflect-metadata';
import { MODULE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceTopic,
  DOWNLINK_CHANNELS,
  UPLINK_CHANNELS,
  type AccessGrant,
  type AuditPage,
  type ConsentTicket,
  type AuditRecord,
  type CaseDetail,
  type CaseReturnedNotice,
  type CaseSummary,
  type CreatedExamOrder,
  type DeviceSummary,
  type DiagnosisDelivery,
  type ExamOrder,
  type Phrase,
  type SessionUser,
  type WatchResult,
} from '#contracts';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { DOMAIN_MODULES } from '../../apps/relay/src/app.module.js';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { stowBody } from '../support/dicomweb.js';
import { waitFor } from '../support/wait.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

/**
 * Facility A is clinic-1 and its county hospital, county-1: its case (recorded by its own
 * box over MQTT), its phrase, its box, its reader. Everyone below belongs somewhere else
 * and tries A's things. `admin` is region-wide by design (an operator, not a facility's
 * member): it may read every case and run the admin API, but never acts as a reader and
 * has no phrases or boxes of A's. The health authority sees only statistics.
 */
const OTHERS = [
  'clinic2.staff', // another clinic of the same county
  'clinic4.staff', // a clinic of another county
  'county2.reader', // another county hospital
  'tertiary.reader', // the hospital above A's county, before anything is escalated to it
  'admin',
  'health.authority',
  'anonymous', // no token at all
] as const;
type Actor = (typeof OTHERS)[number];

/**
 * What each actor gets. 401/403/404: refused with that status, and audited with the actor
 * and the route. `own`: allowed, and the answer holds the caller's facility only (A's
 * resource is absent). `ok`: allowed by design (admin region-wide, the authority's own
 * statistics): a GET answers 200, a write with an empty body 400 (past access control,
 * stopped by validation, nothing changed).
 */
type Cell = 401 | 403 | 404 | 'own' | 'ok';
/** A fictitious resident ID (GB 11643 check character computed) for A's patient. */
const MATRIX_PATIENT_ID = '500101190001010113';
type Ids = {
  caseId: string;
  phraseId: string;
  boxId: string;
  userId: string;
  /** A's imaging study (STOW-RS by clinic A, marked complete: a case at county 1). */
  study: string;
  series: string;
  sop: string;
  /** A's open exam order (clinic 1 registered a demo patient's ECG). */
  orderNumber: string;
  /** That order's patient, registered by clinic 1. */
  patientId: string;
  /** County 1's reader asked for that patient's record: a code sent to clinic 1. */
  consentRequestId: string;
};
interface RouteRule {
  path: (ids: Ids) => string;
  /** A valid body, so a refusal is about access and not about the input. */
  body?: unknown;
  /** What an allowed write answers when it is past access control ('ok'); default 400. */
  okStatus?: number;
  cells: Record<Actor, Cell>;
}
/**
 * Login, refresh, logout and health (up or down only) take no access token; their refusals
 * are credentials.
 */
type PublicRule = 'public';

const CLINIC_STAFF_OF_B = { 'clinic2.staff': 403, 'clinic4.staff': 403 } as const;
/** A reader's action on A's case: other readers cannot see it, everyone else lacks the role. */
const READER_ACTION: Record<Actor, Cell> = {
  ...CLINIC_STAFF_OF_B,
  'county2.reader': 404,
  'tertiary.reader': 404,
  admin: 403,
  'health.authority': 403,
  anonymous: 401,
};
const CASE_READ: Record<Actor, Cell> = {
  'clinic2.staff': 404,
  'clinic4.staff': 404,
  'county2.reader': 404,
  'tertiary.reader': 404,
  admin: 'ok',
  'health.authority': 403,
  anonymous: 401,
};
const ADMIN_ONLY: Record<Actor, Cell> = {
  ...CLINIC_STAFF_OF_B,
  'county2.reader': 403,
  'tertiary.reader': 403,
  admin: 'ok',
  'health.authority': 403,
  anonymous: 401,
};
const PHRASES: Record<Actor, Cell> = {
  ...CLINIC_STAFF_OF_B,
  'county2.reader': 'own',
  'tertiary.reader': 'own',
  admin: 'own',
  'health.authority': 403,
  anonymous: 401,
};

/**
 * A's study over DICOMweb: other clinics and readers find nothing (404, like a missing
 * study), the operator roles have no image access at all (403, docs/imaging.md).
 */
const STUDY_READ: Record<Actor, Cell> = {
  'clinic2.staff': 404,
  'clinic4.staff': 404,
  'county2.reader': 404,
  'tertiary.reader': 404,
  admin: 403,
  'health.authority': 403,
  anonymous: 401,
};
const INSTANCE = (ids: Ids) =>
  `/dicomweb/studies/${ids.study}/series/${ids.series}/instances/${ids.sop}`;
/** STOW-RS by clinic staff stores into their own clinic: past access control, a JSON body is 415. */
const STOW: Record<Actor, Cell> = {
  'clinic2.staff': 'ok',
  'clinic4.staff': 'ok',
  'county2.reader': 403,
  'tertiary.reader': 403,
  admin: 403,
  'health.authority': 403,
  anonymous: 401,
};

/**
 * A's case as FHIR R4: the case scope as on /api/cases (another facility's reader or clinic
 * finds nothing), and like DICOMweb no patient record for the operator roles.
 */
const FHIR_READ: Record<Actor, Cell> = { ...STUDY_READ };

/** Exam orders are clinic staff's, of their own clinic only; nobody else has the role. */
const CLINIC_STAFF_ONLY: Record<Actor, Cell> = {
  'clinic2.staff': 'own',
  'clinic4.staff': 'own',
  'county2.reader': 403,
  'tertiary.reader': 403,
  admin: 403,
  'health.authority': 403,
  anonymous: 401,
};
const ORDER_ACTION: Record<Actor, Cell> = {
  ...CLINIC_STAFF_ONLY,
  'clinic2.staff': 404,
  'clinic4.staff': 404,
};

/**
 * The shared record (docs/consent.md): A's patient has no case any of these holds and no
 * grant, so to readers and clinic staff the patient does not exist (404, like a missing one);
 * the operator roles may not ask at all. Only the registering clinic (and admins) list grants.
 */
const RECORD_READ: Record<Actor, Cell> = {
  'clinic2.staff': 404,
  'clinic4.staff': 404,
  'county2.reader': 404,
  'tertiary.reader': 404,
  admin: 403,
  'health.authority': 403,
  anonymous: 401,
};

/** Every route the relay serves. A route added without a line here fails the test. */
const MATRIX: Record<string, RouteRule | PublicRule> = {
  'POST /api/auth/login': 'public',
  'POST /api/auth/refresh': 'public',
  'POST /api/auth/logout': 'public',
  'GET /health': 'public',
  'GET /health/details': { path: () => '/health/details', cells: ADMIN_ONLY },
  'GET /api/me': {
    path: () => '/api/me',
    cells: { ...allOk(), anonymous: 401 },
  },
  'GET /api/worklist': {
    path: () => '/api/worklist',
    cells: {
      'clinic2.staff': 'own',
      'clinic4.staff': 'own',
      'county2.reader': 'own',
      'tertiary.reader': 'own',
      admin: 'ok',
      'health.authority': 403,
      anonymous: 401,
    },
  },
  'GET /api/cases/:id': { path: (ids) => `/api/cases/${ids.caseId}`, cells: CASE_READ },
  'GET /api/cases/:id/ecg': { path: (ids) => `/api/cases/${ids.caseId}/ecg`, cells: CASE_READ },
  'POST /api/cases/:id/claim': {
    path: (ids) => `/api/cases/${ids.caseId}/claim`,
    cells: READER_ACTION,
  },
  'POST /api/cases/:id/lease': {
    path: (ids) => `/api/cases/${ids.caseId}/lease`,
    cells: READER_ACTION,
  },
  'POST /api/cases/:id/release': {
    path: (ids) => `/api/cases/${ids.caseId}/release`,
    cells: READER_ACTION,
  },
  'POST /api/cases/:id/escalate': {
    path: (ids) => `/api/cases/${ids.caseId}/escalate`,
    body: { note: 'matrix: please take this one' },
    cells: READER_ACTION,
  },
  'POST /api/cases/:id/return': {
    path: (ids) => `/api/cases/${ids.caseId}/return`,
    body: { reason: 'matrix: record again' },
    cells: READER_ACTION,
  },
  'POST /api/cases/:id/sign': {
    path: (ids) => `/api/cases/${ids.caseId}/sign`,
    body: { conclusion: 'matrix: forged diagnosis' },
    cells: READER_ACTION,
  },
  'GET /api/phrases': { path: () => '/api/phrases', cells: PHRASES },
  'POST /api/phrases': {
    path: () => '/api/phrases',
    body: { text: 'matrix: a phrase of my own hospital' },
    cells: PHRASES,
  },
  'DELETE /api/phrases/:id': {
    path: (ids) => `/api/phrases/${ids.phraseId}`,
    cells: { ...PHRASES, 'county2.reader': 404, 'tertiary.reader': 404, admin: 404 },
  },
  'GET /api/devices': {
    path: () => '/api/devices',
    cells: {
      'clinic2.staff': 'own',
      'clinic4.staff': 'own',
      'county2.reader': 403,
      'tertiary.reader': 403,
      admin: 'ok',
      'health.authority': 403,
      anonymous: 401,
    },
  },
  'POST /api/devices/:id/stream/snapshot': {
    path: (ids) => `/api/devices/${ids.boxId}/stream/snapshot`,
    body: { seconds: 10 },
    cells: { ...READER_ACTION, 'clinic2.staff': 404, 'clinic4.staff': 404 },
  },
  'GET /api/stats': {
    path: () => '/api/stats',
    cells: { ...ADMIN_ONLY, 'health.authority': 'ok' },
  },
  // The supervision is the health authority's (its region; figures only).
  'GET /api/stats/supervision': {
    path: () => '/api/stats/supervision',
    cells: { ...ADMIN_ONLY, admin: 403, 'health.authority': 'ok' },
  },
  'GET /api/stats/supervision.csv': {
    path: () => '/api/stats/supervision.csv',
    cells: { ...ADMIN_ONLY, admin: 403, 'health.authority': 'ok' },
  },
  'GET /api/admin/hospitals/:id/policy': {
    path: () => '/api/admin/hospitals/county-1/policy',
    cells: ADMIN_ONLY,
  },
  'PUT /api/admin/hospitals/:id/policy': {
    path: () => '/api/admin/hospitals/county-1/policy',
    body: { atDeadline: 'escalate' },
    cells: ADMIN_ONLY,
  },
  'GET /api/admin/facilities': { path: () => '/api/admin/facilities', cells: ADMIN_ONLY },
  'POST /api/admin/facilities': {
    path: () => '/api/admin/facilities',
    body: { id: 'matrix-clinic', kind: 'clinic', name: 'Matrix clinic', parentId: 'county-1' },
    cells: ADMIN_ONLY,
  },
  'PATCH /api/admin/facilities/:id': {
    path: () => '/api/admin/facilities/clinic-1',
    body: { parentId: 'county-2' },
    cells: ADMIN_ONLY,
  },
  'GET /api/admin/facilities/:id/ae-titles': {
    path: () => '/api/admin/facilities/clinic-1/ae-titles',
    cells: ADMIN_ONLY,
  },
  'PUT /api/admin/facilities/:id/ae-titles': {
    path: () => '/api/admin/facilities/clinic-1/ae-titles',
    body: { aeTitles: ['MATRIX_CT'] },
    cells: ADMIN_ONLY,
  },
  'GET /api/admin/users': { path: () => '/api/admin/users', cells: ADMIN_ONLY },
  'POST /api/admin/users': {
    path: () => '/api/admin/users',
    body: {
      username: 'matrix.reader',
      displayName: 'Matrix',
      role: 'reader',
      facilityId: 'county-1',
      password: 'matrix-password',
    },
    cells: ADMIN_ONLY,
  },
  'PATCH /api/admin/users/:id': {
    path: (ids) => `/api/admin/users/${ids.userId}`,
    body: { disabled: true },
    cells: ADMIN_ONLY,
  },
  'POST /api/admin/devices': {
    path: () => '/api/admin/devices',
    body: { id: 'matrix-box', facilityId: 'clinic-1', secret: 'matrix-secret-0123456789' },
    cells: ADMIN_ONLY,
  },
  'PATCH /api/admin/devices/:id': {
    path: (ids) => `/api/admin/devices/${ids.boxId}`,
    body: { disabled: true },
    cells: ADMIN_ONLY,
  },
  'GET /api/admin/audit': { path: () => '/api/admin/audit', cells: ADMIN_ONLY },
  'GET /api/imaging/studies': {
    path: () => '/api/imaging/studies',
    cells: {
      'clinic2.staff': 'own',
      'clinic4.staff': 'own',
      'county2.reader': 403,
      'tertiary.reader': 403,
      admin: 403,
      'health.authority': 403,
      anonymous: 401,
    },
  },
  'POST /api/imaging/studies/:study/complete': {
    path: (ids) => `/api/imaging/studies/${ids.study}/complete`,
    body: { priority: 'stat' },
    cells: {
      'clinic2.staff': 404,
      'clinic4.staff': 404,
      'county2.reader': 403,
      'tertiary.reader': 403,
      admin: 403,
      'health.authority': 403,
      anonymous: 401,
    },
  },
  'GET /api/records/orders': { path: () => '/api/records/orders', cells: CLINIC_STAFF_ONLY },
  'POST /api/records/orders': {
    path: () => '/api/records/orders',
    body: {
      patient: { documentType: 'passport', idNumber: 'MATRIX123', name: 'Matrix Patient' },
      kind: 'ecg',
      indication: 'matrix',
    },
    cells: { ...CLINIC_STAFF_ONLY, 'clinic2.staff': 'ok', 'clinic4.staff': 'ok' },
  },
  'POST /api/records/orders/:orderNumber/go-ahead': {
    path: (ids) => `/api/records/orders/${ids.orderNumber}/go-ahead`,
    cells: ORDER_ACTION,
  },
  'POST /api/records/orders/:orderNumber/cancel': {
    path: (ids) => `/api/records/orders/${ids.orderNumber}/cancel`,
    cells: ORDER_ACTION,
  },
  // "Who looked at my record": the registering clinic's staff (clinic 1 is A, not among the
  // actors) and administrators; other clinics find no such patient.
  'GET /api/records/patients/:patientId/access-log': {
    path: (ids) => `/api/records/patients/${ids.patientId}/access-log`,
    cells: { ...CLINIC_STAFF_ONLY, 'clinic2.staff': 404, 'clinic4.staff': 404, admin: 'ok' },
  },
  'POST /api/records/consent-requests': {
    path: () => '/api/records/consent-requests',
    body: { documentType: 'passport', idNumber: 'MATRIX123', purpose: 'matrix' },
    cells: {
      'clinic2.staff': 'ok',
      'clinic4.staff': 'ok',
      'county2.reader': 'ok',
      'tertiary.reader': 'ok',
      admin: 403,
      'health.authority': 403,
      anonymous: 401,
    },
  },
  // County 1's request: anyone else's try is refused like a wrong code, and not counted.
  'POST /api/records/consent-requests/:requestId/verify': {
    path: (ids) => `/api/records/consent-requests/${ids.consentRequestId}/verify`,
    body: { code: '000000' },
    cells: {
      ...RECORD_READ,
      'clinic2.staff': 403,
      'clinic4.staff': 403,
      'county2.reader': 403,
      'tertiary.reader': 403,
    },
  },
  'GET /api/records/patients/:patientId/history': {
    path: (ids) => `/api/records/patients/${ids.patientId}/history`,
    cells: RECORD_READ,
  },
  'GET /api/records/cases/:caseId/history': {
    path: (ids) => `/api/records/cases/${ids.caseId}/history`,
    cells: RECORD_READ,
  },
  'GET /api/records/patients/:patientId/cases/:caseId/ecg': {
    path: (ids) => `/api/records/patients/${ids.patientId}/cases/${ids.caseId}/ecg`,
    cells: RECORD_READ,
  },
  'GET /api/records/patients/:patientId/grants': {
    path: (ids) => `/api/records/patients/${ids.patientId}/grants`,
    cells: { ...RECORD_READ, 'county2.reader': 403, 'tertiary.reader': 403, admin: 'ok' },
  },
  // Only the registering clinic (A's, not among the actors) revokes; other clinics find no
  // such patient, every other role is refused by its role. No grant of A's is live here.
  'POST /api/records/patients/:patientId/grants/:grantId/revoke': {
    path: (ids) =>
      `/api/records/patients/${ids.patientId}/grants/00000000-0000-4000-8000-000000000000/revoke`,
    cells: { ...CLINIC_STAFF_ONLY, 'clinic2.staff': 404, 'clinic4.staff': 404 },
  },
  'GET /fhir/DiagnosticReport/:id': {
    path: (ids) => `/fhir/DiagnosticReport/${ids.caseId}`,
    cells: FHIR_READ,
  },
  'GET /fhir/Bundle/:id': { path: (ids) => `/fhir/Bundle/case-${ids.caseId}`, cells: FHIR_READ },
  // An ECG file from clinic staff becomes their own clinic's recording: past access control a
  // JSON body is not a file (415, docs/ecg-upload.md); the other roles lack the role.
  'POST /api/ecg-files': {
    path: () => '/api/ecg-files',
    body: {},
    okStatus: 415,
    cells: STOW,
  },
  'POST /dicomweb/studies': { path: () => '/dicomweb/studies', okStatus: 415, cells: STOW },
  'POST /dicomweb/studies/:study': {
    path: (ids) => `/dicomweb/studies/${ids.study}`,
    okStatus: 415,
    cells: STOW,
  },
  'GET /dicomweb/studies': {
    path: () => '/dicomweb/studies',
    cells: {
      'clinic2.staff': 'own',
      'clinic4.staff': 'own',
      'county2.reader': 'own',
      'tertiary.reader': 'own',
      admin: 403,
      'health.authority': 403,
      anonymous: 401,
    },
  },
  'GET /dicomweb/studies/:study': {
    path: (ids) => `/dicomweb/studies/${ids.study}`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/metadata': {
    path: (ids) => `/dicomweb/studies/${ids.study}/metadata`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series': {
    path: (ids) => `/dicomweb/studies/${ids.study}/series`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/instances': {
    path: (ids) => `/dicomweb/studies/${ids.study}/instances`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series': {
    path: (ids) => `/dicomweb/studies/${ids.study}/series/${ids.series}`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/metadata': {
    path: (ids) => `/dicomweb/studies/${ids.study}/series/${ids.series}/metadata`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances': {
    path: (ids) => `/dicomweb/studies/${ids.study}/series/${ids.series}/instances`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances/:sop': {
    path: INSTANCE,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances/:sop/metadata': {
    path: (ids) => `${INSTANCE(ids)}/metadata`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances/:sop/frames/:frames': {
    path: (ids) => `${INSTANCE(ids)}/frames/1`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances/:sop/thumbnail': {
    path: (ids) => `${INSTANCE(ids)}/thumbnail`,
    cells: STUDY_READ,
  },
  'GET /dicomweb/studies/:study/series/:series/instances/:sop/rendered': {
    path: (ids) => `${INSTANCE(ids)}/rendered`,
    cells: STUDY_READ,
  },
};

function allOk(): Record<Exclude<Actor, 'anonymous'>, Cell> {
  return {
    'clinic2.staff': 'ok',
    'clinic4.staff': 'ok',
    'county2.reader': 'ok',
    'tertiary.reader': 'ok',
    admin: 'ok',
    'health.authority': 'ok',
  };
}

/** Every `METHOD /path` the relay's controllers declare, read from Nest's own metadata. */
function declaredRoutes(): string[] {
  const routes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (entry: unknown) => {
    const module = (entry as { module?: unknown }).module ?? entry;
    if (typeof module !== 'function' || seen.has(module)) return;
    seen.add(module);
    for (const imported of metadata<unknown[]>(MODULE_METADATA.IMPORTS, module) ?? []) {
      visit(imported);
    }
    for (const controller of metadata<(new () => object)[]>(MODULE_METADATA.CONTROLLERS, module) ??
      []) {
      const base = metadata<string>(PATH_METADATA, controller) ?? '';
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = metadata<RequestMethod>(METHOD_METADATA, handler);
        if (method === undefined) continue;
        const path = [base, metadata<string>(PATH_METADATA, handler) ?? '']
          .flatMap((part) => part.split('/'))
          .filter((part) => part !== '');
        routes.push(`${RequestMethod[method]} /${path.join('/')}`);
      }
    }
  };
  DOMAIN_MODULES.forEach(visit);
  return routes;
}

function metadata<T>(key: string, target: unknown): T | undefined {
  return Reflect.getMetadata(key, target as object) as T | undefined;
}

describe('access matrix: every route, room and topic, as each role of another facility', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  let boxA: DemoDevice;
  let admin: ConsoleClient;
  let readerA: ConsoleClient;
  let readerSocketA: ConsoleSocket;
  const clients = new Map<Exclude<Actor, 'anonymous'>, ConsoleClient>();
  const sockets: ConsoleSocket[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let ids: Ids;
  let consentCode: string;

  beforeAll(async () => {
    relay = await RelayProcess.start({
      // Nothing may move A's case to the tertiary hospital while the matrix runs.
      ECG_SLA_SECONDS: '3600',
      ECG_STAT_SLA_SECONDS: '3600',
      // The MQTT part reconnects box B once per refused publish.
      MQTT_CONNECTS_PER_DEVICE_PER_MINUTE: '1000',
    });
    devices = await relay.demoDevices();
    boxA = devices.find((device) => device.clinicId === 'clinic-1')!;
    const logins = await Promise.all(
      OTHERS.filter((actor) => actor !== 'anonymous').map(
        async (actor) => [actor, await ConsoleClient.login(relay.httpUrl, actor)] as const,
      ),
    );
    for (const [actor, client] of logins) clients.set(actor, client);
    admin = clients.get('admin')!;
    readerA = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    readerSocketA = await readerA.connectSocket();
    sockets.push(readerSocketA);

    const caseId = await recordCaseOfA(51);
    const phrase = await readerA.post<Phrase>('/api/phrases', { text: 'Sinus rhythm.' });
    expect(phrase.status).toBe(201);
    const me = await readerA.get<SessionUser>('/api/me');
    const study = await studyOfA();
    const { orderNumber, patientId } = await orderOfA();
    const consent = await consentRequestOfA();
    consentCode = consent.code;
    ids = {
      caseId,
      phraseId: phrase.body.id,
      boxId: boxA.deviceId,
      userId: me.body.id,
      orderNumber,
      patientId,
      consentRequestId: consent.requestId,
      ...study,
    };
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await relay?.dispose();
  });

  /** A's imaging study: clinic A stores one CT instance by STOW-RS and marks it complete. */
  async function studyOfA(): Promise<{ study: string; series: string; sop: string }> {
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const [study, series, sop] = [syntheticUid(), syntheticUid(), syntheticUid()];
    const file = makeInstance({
      sopClass: 'CT',
      studyInstanceUid: study,
      seriesInstanceUid: series,
      sopInstanceUid: sop,
      rows: 16,
      columns: 16,
    });
    const { body, contentType } = stowBody([file]);
    const stored = await fetch(`${relay.httpUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinicA.token}`, 'content-type': contentType },
      body: new Uint8Array(body),
    });
    expect(stored.status).toBe(200);
    const done = await clinicA.post(`/api/imaging/studies/${study}/complete`, {});
    expect(done.status).toBe(200);
    return { study, series, sop };
  }

  /**
   * County 1's reader asks for A's patient's record; the demo notifier shows the code on
   * clinic 1's page (its socket), which the matrix keeps to prove nobody spent its tries.
   */
  async function consentRequestOfA(): Promise<{ requestId: string; code: string }> {
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const socket = await clinicA.connectSocket();
    sockets.push(socket);
    const notice = nextEvent(socket, 'consent.code', () => true);
    const ticket = await readerA.post<ConsentTicket>('/api/records/consent-requests', {
      documentType: 'resident_id',
      idNumber: MATRIX_PATIENT_ID,
      purpose: 'access matrix',
    });
    expect(ticket.status).toBe(201);
    return { requestId: ticket.body.requestId, code: (await notice).code };
  }

  /** A's exam order: clinic A registers an ECG of a fictitious patient. */
  async function orderOfA(): Promise<{ orderNumber: string; patientId: string }> {
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const created = await clinicA.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'resident_id', idNumber: MATRIX_PATIENT_ID, name: '矩阵患者' },
      kind: 'ecg',
      indication: 'access matrix',
    });
    expect(created.status).toBe(201);
    return {
      orderNumber: created.body.order.orderNumber,
      patientId: created.body.order.patient.id,
    };
  }

  /** A real case of clinic A: its own box records over MQTT, the analysis lists it at county 1. */
  async function recordCaseOfA(seed: number): Promise<string> {
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: boxA.deviceId,
      secret: boxA.secret,
    });
    await box.start();
    try {
      const { caseId } = await box.record({ durationSeconds: 4, seed });
      await nextEvent(readerSocketA, 'worklist.case-added', (summary) => summary.id === caseId);
      return caseId!;
    } finally {
      await box.stop();
    }
  }

  function actorOf(actor: Actor): string {
    return actor === 'anonymous' ? 'anonymous' : `user:${clients.get(actor)!.session.user.id}`;
  }

  async function call(actor: Actor, method: string, path: string, body?: unknown) {
    const token = actor === 'anonymous' ? undefined : clients.get(actor)!.token;
    const response = await fetch(`${relay.httpUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? parsedOrText(text) : undefined };
  }

  /** JSON answers parsed; others (the supervision's CSV) as their text. */
  function parsedOrText(text: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  /** Every audit row since `since`, through the admin API, following its pages. */
  async function auditSince(since: string, filter = ''): Promise<AuditRecord[]> {
    const rows: AuditRecord[] = [];
    let before: number | null = null;
    do {
      const query: string = `since=${encodeURIComponent(since)}&limit=500${filter}${before ? `&before=${before}` : ''}`;
      const page: { status: number; body: AuditPage } = await admin.get<AuditPage>(
        `/api/admin/audit?${query}`,
      );
      expect(page.status).toBe(200);
      rows.push(...page.body.entries);
      before = page.body.nextBefore;
    } while (before !== null);
    return rows;
  }

  /** Audit rows written off the request path (MQTT hooks) land a moment later: poll the API. */
  async function auditRow(
    since: string,
    actor: string,
    action: string,
    matches: (row: AuditRecord) => boolean = () => true,
  ): Promise<AuditRecord> {
    const filter = `&actor=${encodeURIComponent(actor)}&action=${encodeURIComponent(action)}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const row = (await auditSince(since, filter)).find(matches);
      if (row) return row;
      if (Date.now() > deadline) throw new Error(`no audit row ${actor} ${action}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('covers exactly the routes the relay declares', () => {
    expect(declaredRoutes().sort()).toEqual(Object.keys(MATRIX).sort());
  });

  it("refuses A's case, phrase, box, users and the admin API to every other facility and role, and audits each refusal", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const cells = Object.entries(MATRIX).flatMap(([route, rule]) =>
      rule === 'public'
        ? []
        : OTHERS.map((actor) => ({ route, rule, actor, expected: rule.cells[actor] })),
    );
    const results = await inPool(8, cells, async ({ route, rule, actor, expected }) => {
      const method = route.slice(0, route.indexOf(' '));
      const body = expected === 'ok' && method !== 'GET' ? {} : rule.body;
      const answer = await call(actor, method, rule.path(ids), body);
      return { route, actor, expected, ...answer };
    });

    const matrix = Object.fromEntries(
      Object.keys(MATRIX)
        .filter((route) => MATRIX[route] !== 'public')
        .map((route) => [
          route,
          Object.fromEntries(
            results.filter((r) => r.route === route).map((r) => [r.actor, r.status]),
          ),
        ]),
    );
    console.table(matrix);

    const audited = new Set(
      (await auditSince(since, '&outcome=denied')).map((row) => `${row.actor} ${row.action}`),
    );
    const problems: string[] = [];
    for (const { route, actor, expected, status, body } of results) {
      const where = `${actor} → ${route}: ${status}`;
      if (typeof expected === 'number') {
        if (status !== expected) problems.push(`${where}, expected ${expected}`);
        if (!audited.has(`${actorOf(actor)} ${route}`)) problems.push(`${where}, not audited`);
      } else if (expected === 'ok') {
        const want = route.startsWith('GET ')
          ? 200
          : ((MATRIX[route] as RouteRule).okStatus ?? 400);
        if (status !== want) problems.push(`${where}, expected ${want} (allowed)`);
      } else {
        if (status < 200 || status >= 300) problems.push(`${where}, expected 2xx (own facility)`);
        const leaked = JSON.stringify(body ?? '');
        for (const id of [
          ids.caseId,
          ids.phraseId,
          ids.boxId,
          ids.study,
          ids.orderNumber,
          ids.patientId,
        ]) {
          if (leaked.includes(id)) problems.push(`${where}, answer holds A's ${id}`);
        }
      }
    }
    expect(problems).toEqual([]);

    // Nothing of A's changed: the case still waits, unclaimed; the phrase, the reader, the
    // clinic's place and the county's policy are as they were; no box or user was added.
    const stillWaiting = await readerA.get<CaseDetail>(`/api/cases/${ids.caseId}`);
    expect(stillWaiting.body).toMatchObject({ status: 'awaiting_review', claimedById: null });
    expect((await readerA.get<Phrase[]>('/api/phrases')).body.map((p) => p.id)).toEqual([
      ids.phraseId,
    ]);
    expect((await readerA.get('/api/me')).status).toBe(200);
    const facilities =
      await admin.get<{ id: string; parentId: string | null }[]>('/api/admin/facilities');
    expect(facilities.body.find((f) => f.id === 'clinic-1')?.parentId).toBe('county-1');
    expect(facilities.body.find((f) => f.id === 'matrix-clinic')).toBeUndefined();
    expect(
      (await admin.get<{ updatedAt: string | null }>('/api/admin/hospitals/county-1/policy')).body
        .updatedAt,
    ).toBeNull();
    const boxes = await admin.get<DeviceSummary[]>('/api/devices');
    expect(boxes.body.find((d) => d.id === 'matrix-box')).toBeUndefined();
    expect(boxes.body.find((d) => d.id === ids.boxId)?.disabled).toBe(false);
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const orders = await clinicA.get<ExamOrder[]>('/api/records/orders');
    expect(orders.body.find((o) => o.orderNumber === ids.orderNumber)?.status).toBe('open');
    const users = await admin.get<{ username: string }[]>('/api/admin/users');
    expect(users.body.find((u) => u.username === 'matrix.reader')).toBeUndefined();
    // Nobody else's try counted on county 1's consent request: its own code still opens it.
    const granted = await readerA.post<AccessGrant>(
      `/api/records/consent-requests/${ids.consentRequestId}/verify`,
      { code: consentCode },
    );
    expect(granted.status).toBe(200);
    expect(granted.body.patientId).toBe(ids.patientId);
  });

  it('refuses and audits bad credentials on the public routes', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const wrong = await call('anonymous', 'POST', '/api/auth/login', {
      username: 'clinic1.staff',
      password: 'not-the-password',
    });
    const refresh = await call('anonymous', 'POST', '/api/auth/refresh', {
      refreshToken: 'forged-refresh-token',
    });
    const logout = await call('anonymous', 'POST', '/api/auth/logout', {
      refreshToken: 'forged-refresh-token',
    });
    expect([wrong.status, refresh.status, logout.status]).toEqual([401, 401, 401]);
    const health = await call('anonymous', 'GET', '/health');
    expect(health.status).toBe(200);
    expect(Object.keys(health.body as object).sort()).toEqual(['checkedAt', 'status']);
    await auditRow(since, `user:${clinicA.session.user.id}`, 'auth.login', (row) =>
      Boolean(row.outcome === 'denied' && row.detail?.['reason'] === 'bad credentials'),
    );
    await auditRow(since, 'anonymous', 'auth.refresh', (row) => row.outcome === 'denied');
    await auditRow(since, 'anonymous', 'auth.logout', (row) => row.outcome === 'denied');
  });

  it("keeps A's rooms to A: other sockets hear nothing of A's cases, and cannot watch A's box or acknowledge A's events", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    // Without a token there is no socket at all, and the attempt is audited.
    const anonymous = await connectAnonymously();
    expect(anonymous).toMatch(/UNAUTHENTICATED/);
    await auditRow(since, 'anonymous', 'socket.connect');

    const heard = new Map<Actor, string[]>();
    const observers = new Map<Exclude<Actor, 'anonymous'>, ConsoleSocket>();
    for (const [actor, client] of clients) {
      const socket = await client.connectSocket();
      sockets.push(socket);
      observers.set(actor, socket);
      const events: string[] = [];
      heard.set(actor, events);
      socket.onAny((event: string, payload: unknown) =>
        events.push(`${event} ${JSON.stringify(payload)}`),
      );
    }
    const clinicA = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const clinicSocketA = await clinicA.connectSocket();
    sockets.push(clinicSocketA);

    // Two more of A's cases: one signed, one returned, both owed to clinic A.
    const signedId = await recordCaseOfA(52);
    const returnedId = await recordCaseOfA(31);
    const diagnosis = nextEvent(
      clinicSocketA,
      'diagnosis.signed',
      (d) => d.diagnosis.caseId === signedId,
    );
    const returned = nextEvent(clinicSocketA, 'case.returned', (n) => n.caseId === returnedId);
    expect((await readerA.post(`/api/cases/${signedId}/claim`)).status).toBe(200);
    expect(
      (await readerA.post(`/api/cases/${signedId}/sign`, { conclusion: 'Sinus rhythm.' })).status,
    ).toBe(200);
    expect((await readerA.post(`/api/cases/${returnedId}/claim`)).status).toBe(200);
    expect(
      (await readerA.post(`/api/cases/${returnedId}/return`, { reason: 'Lead V3 off.' })).status,
    ).toBe(200);
    const signedEvent = (await diagnosis).eventId;
    const returnedEvent = (await returned).eventId;

    // One round trip on each observer's own connection: anything the relay sent it before
    // (A's events included, had they leaked) has arrived by the time the answer does.
    await Promise.all([...observers.values()].map((socket) => roundTrip(socket)));
    for (const [actor, events] of heard) {
      // A's region's health authority hears that its figures moved: facility ids, nothing
      // of the case (docs/supervision.md).
      const told =
        actor === 'health.authority'
          ? events.filter(
              (event) => !/^supervision\.changed \{"facilityIds":\["[\w.",-]*\]\}$/.test(event),
            )
          : events;
      expect({ actor, events: told }).toEqual({ actor, events: [] });
    }

    // Acknowledging A's events from another clinic, or as a reader, is refused and audited,
    // and the events stay owed to A.
    const ackSince = new Date(Date.now() - 1000).toISOString();
    observers.get('clinic2.staff')!.emit('diagnosis.received', { eventId: signedEvent });
    observers.get('clinic4.staff')!.emit('diagnosis.received', { eventId: returnedEvent });
    observers.get('county2.reader')!.emit('diagnosis.received', { eventId: signedEvent });
    for (const actor of ['clinic2.staff', 'clinic4.staff', 'county2.reader'] as const) {
      await auditRow(ackSince, actorOf(actor), 'socket.diagnosis.received', (row) =>
        ['NOT_FOUND', 'FORBIDDEN'].includes(String(row.detail?.['code'])),
      );
    }
    const signedCase = await readerA.get<CaseSummary>(`/api/cases/${signedId}`);
    expect(signedCase.body.clinicReceivedAt).toBeNull();
    const replayed: DiagnosisDelivery[] = [];
    const returnedAgain: CaseReturnedNotice[] = [];
    const again = await clinicA.connectSocketCollectingAll({
      'diagnosis.signed': replayed,
      'case.returned': returnedAgain,
    });
    sockets.push(again);
    await waitFor(
      () =>
        replayed.some((d) => d.eventId === signedEvent) &&
        returnedAgain.some((n) => n.eventId === returnedEvent),
      { what: 'the signed and the returned event, still owed to clinic A, replayed to it' },
    );

    // Watching A's box: its own clinic may; every other facility and role is refused.
    const own = await watch(clinicSocketA, boxA.deviceId);
    expect(own.ok).toBe(true);
    const watchSince = new Date(Date.now() - 1000).toISOString();
    for (const [actor, socket] of observers) {
      expect({ actor, result: await watch(socket, boxA.deviceId) }).toMatchObject({
        actor,
        result: { ok: false },
      });
      await auditRow(
        watchSince,
        actorOf(actor),
        'socket.stream.watch',
        (row) => row.subject === `device:${boxA.deviceId}`,
      );
    }
  });

  it("refuses box B every topic of box A's, wildcards and relay-only channels, and audits each", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const boxB = devices.find((device) => device.clinicId === 'clinic-2')!;
    const connectB = () =>
      mqtt.connectAsync(relay.mqttUrl, {
        protocolVersion: 4,
        clientId: boxB.deviceId,
        username: boxB.deviceId,
        password: boxB.secret,
        reconnectPeriod: 0,
      });

    // Box A listens on its own downlink: nothing B sends may reach it.
    const listenerA = await mqtt.connectAsync(relay.mqttUrl, {
      protocolVersion: 4,
      clientId: boxA.deviceId,
      username: boxA.deviceId,
      password: boxA.secret,
      reconnectPeriod: 0,
    });
    cleanups.push(() => listenerA.endAsync(true));
    const reachedA: string[] = [];
    listenerA.on('message', (topic, payload) => {
      if (payload.toString().includes('forged-by-b')) reachedA.push(topic);
    });
    const ownTopics = DOWNLINK_CHANNELS.map((channel) => deviceTopic(boxA.deviceId, channel));
    await listenerA.subscribeAsync(ownTopics, { qos: 1 });

    const channels = [...UPLINK_CHANNELS, ...DOWNLINK_CHANNELS];
    const subscriber = await connectB();
    cleanups.push(() => subscriber.endAsync(true));
    const filters = [
      ...channels.map((channel) => deviceTopic(boxA.deviceId, channel)),
      'telerelay/v1/+/diagnosis',
      'telerelay/v1/#',
      '#',
      '$SYS/#',
    ];
    for (const filter of filters) {
      expect({ filter, qos: await grantedQos(subscriber, filter) }).toEqual({ filter, qos: 128 });
    }
    // B's own relay-only channels cannot be published to either (a forged diagnosis).
    const publishTopics = [
      ...channels.map((channel) => deviceTopic(boxA.deviceId, channel)),
      deviceTopic(boxB.deviceId, 'diagnosis'),
    ];
    for (const topic of publishTopics) {
      const publisher = await connectB();
      expect({ topic, refused: await publishIsRefused(publisher, topic) }).toEqual({
        topic,
        refused: true,
      });
      await publisher.endAsync(true);
    }
    const wildcard = await connectB();
    expect(await publishIsRefused(wildcard, 'telerelay/v1/+/rec/open')).toBe(true);
    await wildcard.endAsync(true);

    const actor = `device:${boxB.deviceId}`;
    for (const filter of filters) {
      await auditRow(since, actor, 'mqtt.subscribe', (row) => row.subject === filter);
    }
    for (const topic of publishTopics) {
      await auditRow(since, actor, 'mqtt.publish', (row) => row.subject === topic);
    }
    await auditRow(since, actor, 'mqtt.publish', (row) =>
      String(row.detail?.['reason']).includes('not allowed in PUBLISH'),
    );
    // A round trip on A's connection: a forged message would have arrived before its answer.
    await listenerA.publishAsync(deviceTopic(boxA.deviceId, 'status'), '{}', { qos: 1 });
    expect(reachedA).toEqual([]);
  });

  /** The SUBACK's answer for one filter: 128 (0x80) is a refusal [MQTT-3.9.3]. */
  async function grantedQos(client: mqtt.MqttClient, filter: string): Promise<number | undefined> {
    try {
      return (await client.subscribeAsync(filter, { qos: 1 }))[0]?.qos;
    } catch (error) {
      // mqtt.js rejects a refused filter, carrying the SUBACK.
      return (error as { packet?: { granted?: number[] } }).packet?.granted?.[0];
    }
  }

  /** Publishes QoS 1 and reports whether the broker dropped the link instead of a PUBACK. */
  async function publishIsRefused(client: mqtt.MqttClient, topic: string): Promise<boolean> {
    const closed = new Promise<'closed'>((resolve) =>
      client.once('close', () => resolve('closed')),
    );
    const acked = client.publishAsync(topic, '{"forged-by-b":true}', { qos: 1 }).then(
      () => 'puback' as const,
      () => 'closed' as const,
    );
    return (await Promise.race([closed, acked])) === 'closed';
  }

  async function connectAnonymously(): Promise<string> {
    const socket = io(relay.httpUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      return await new Promise<string>((resolve, reject) => {
        socket.once('connect_error', (error) => resolve(error.message));
        socket.once('session.ready', () => reject(new Error('connected without a token')));
      });
    } finally {
      socket.disconnect();
    }
  }
});

function watch(socket: ConsoleSocket, deviceId: string): Promise<WatchResult> {
  return new Promise((resolve) => socket.emit('stream.watch', { deviceId }, resolve));
}

/**
 * A request and its answer on this socket's connection. A `stream.watch` without a device
 * id is answered at once and changes nothing (an invalid request, not a refusal).
 */
function roundTrip(socket: ConsoleSocket): Promise<WatchResult> {
  return new Promise((resolve) => socket.emit('stream.watch', {} as { deviceId: string }, resolve));
}

/** Runs `work` over `items`, at most `size` at a time, results in order. */
async function inPool<T, R>(size: number, items: T[], work: (item: T) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}
