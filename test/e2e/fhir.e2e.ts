import { randomUUID } from 'node:crypto';
import type { Bundle, DiagnosticReport, Observation, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  maskIdentifier,
  nationalIdCheckCharacter,
  type AuditPage,
  type CaseEcg,
  type CreatedExamOrder,
  type PatientAccessPage,
} from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { fhirSchemaErrors } from '../../apps/relay/src/fhir/testing/fhir-schema.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';

const FHIR_JSON = /^application\/fhir\+json/;
/** A fictitious resident ID (born 15 March 1985, a woman) with a valid GB 11643 check character. */
const FIRST_17 = '11010519850315002';
const NATIONAL_ID = FIRST_17 + nationalIdCheckCharacter(FIRST_17);

describe('FHIR R4 for the regional platform: a signed ECG case read as a Bundle and a DiagnosticReport', () => {
  let relay: RelayProcess;
  let county1: ConsoleClient;
  let clinic1: ConsoleClient;
  let readerSocket: ConsoleSocket;
  let caseId: string;
  let unsignedId: string;

  async function get(client: ConsoleClient | undefined, path: string) {
    const response = await fetch(`${relay.httpUrl}${path}`, {
      headers: client ? { authorization: `Bearer ${client.token}` } : {},
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as unknown,
    };
  }

  async function record(seed: number, orderNumber?: string): Promise<string> {
    const device = (await relay.demoDevices()).find((d) => d.clinicId === 'clinic-1')!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    try {
      const listed = nextEvent(readerSocket, 'worklist.case-added');
      const { caseId: id } = await box.record({
        durationSeconds: 4,
        finding: 'normal',
        seed,
        ...(orderNumber === undefined ? {} : { orderNumber }),
      });
      expect((await listed).id).toBe(id);
      return id!;
    } finally {
      await box.stop();
    }
  }

  beforeAll(async () => {
    // Compiling the R4 schema blocks the event loop for seconds: done before any connection
    // is open, so no kept-alive socket times out unseen while it runs.
    for (const resourceType of [
      'Bundle',
      'DiagnosticReport',
      'Observation',
      'OperationOutcome',
      'ServiceRequest',
      'Organization',
      'Practitioner',
    ]) {
      fhirSchemaErrors({ resourceType });
    }
    relay = await RelayProcess.start();
    [county1, clinic1] = await Promise.all([
      ConsoleClient.login(relay.httpUrl, 'county1.reader'),
      ConsoleClient.login(relay.httpUrl, 'clinic1.staff'),
    ]);
    readerSocket = await county1.connectSocket();
    // The box records; the county reader claims and signs with a corrected QRS.
    caseId = await record(11);
    expect((await county1.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const signed = await county1.post(`/api/cases/${caseId}/sign`, {
      conclusion: 'Sinus rhythm, normal ECG.',
      findings: ['Sinus rhythm'],
      measurementReview: { confirmed: false, corrections: { qrsMs: 96 } },
    });
    expect(signed.status).toBe(200);
    unsignedId = await record(12);
  });

  afterAll(async () => {
    readerSocket?.disconnect();
    await relay?.dispose();
  });

  it('the county reader and the clinic read a schema-valid collection Bundle of the case', async () => {
    for (const client of [county1, clinic1]) {
      const answer = await get(client, `/fhir/Bundle/case-${caseId}`);
      expect(answer.status).toBe(200);
      expect(answer.type).toMatch(FHIR_JSON);
      const bundle = answer.body as Bundle;
      const resources = (bundle.entry ?? []).map((entry) => entry.resource!);
      expect([bundle, ...resources].flatMap((r) => fhirSchemaErrors(r))).toEqual([]);
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
      for (const entry of bundle.entry ?? []) {
        expect(entry.fullUrl).toBe(
          `${relay.httpUrl}/fhir/${entry.resource!.resourceType}/${entry.resource!.id}`,
        );
      }
      expect(resources.map((r) => r.resourceType)).toEqual(
        expect.arrayContaining([
          'DiagnosticReport',
          'ServiceRequest',
          'Organization',
          'Practitioner',
        ]),
      );
      // Every reference points at an entry of the bundle.
      const present = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
      const references = [...JSON.stringify(bundle).matchAll(/"reference":"([^"]+)"/g)].map(
        (m) => m[1]!,
      );
      expect(references.filter((reference) => !present.has(reference))).toEqual([]);
      const qrs = resources.find(
        (r): r is Observation =>
          r.resourceType === 'Observation' && r.code.coding?.[0]?.code === '8633-0',
      );
      expect(qrs?.valueQuantity).toMatchObject({ value: 96, code: 'ms' });
      expect(resources.some((r) => r.id === `${caseId}-ecg`)).toBe(false);
    }
  });

  it('the DiagnosticReport: final, EKG study, the conclusion, issued when signed, performed by County 1 and its reader', async () => {
    const answer = await get(county1, `/fhir/DiagnosticReport/${caseId}`);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(FHIR_JSON);
    const report = answer.body as DiagnosticReport;
    expect(fhirSchemaErrors(report)).toEqual([]);
    const detail = await county1.get<{ diagnosis: { signedAt: string; signedBy: string } }>(
      `/api/cases/${caseId}`,
    );
    expect(report).toMatchObject({
      resourceType: 'DiagnosticReport',
      id: caseId,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '11524-6' }] },
      conclusion: 'Sinus rhythm, normal ECG.',
      issued: detail.body.diagnosis.signedAt,
      performer: [
        { reference: 'Organization/county-1' },
        { reference: `Practitioner/${detail.body.diagnosis.signedBy}` },
      ],
    });
  });

  it('?waveform=true adds one SampledData per lead holding the stored samples', async () => {
    const answer = await get(county1, `/fhir/Bundle/case-${caseId}?waveform=true`);
    expect(answer.status).toBe(200);
    const bundle = answer.body as Bundle;
    const waveform = bundle.entry?.find((e) => e.resource?.id === `${caseId}-ecg`)
      ?.resource as Observation;
    expect(fhirSchemaErrors(waveform)).toEqual([]);
    const ecg = await county1.get<CaseEcg>(`/api/cases/${caseId}/ecg`);
    const bytes = Buffer.from(ecg.body.samples, 'base64');
    const leads = ecg.body.leads.length;
    expect(waveform.component?.map((c) => c.code.text)).toEqual(ecg.body.leads);
    const lead = 1;
    const expected = Array.from({ length: ecg.body.samplesPerLead }, (_, i) =>
      bytes.readInt16LE((i * leads + lead) * 2),
    );
    const sampled = waveform.component![lead]!.valueSampledData!;
    expect(sampled.data!.split(' ').map(Number)).toEqual(expected);
    expect(sampled.period).toBeCloseTo(1000 / ecg.body.sampleRateHz, 6);
    expect(sampled.factor).toBeCloseTo(ecg.body.microvoltsPerLsb, 5);
  });

  it('another county, the tertiary hospital and another clinic get 404 as for a missing case; the operator roles 403; all as OperationOutcome', async () => {
    const others = await Promise.all(
      ['county2.reader', 'tertiary.reader', 'clinic2.staff', 'clinic4.staff', 'admin'].map(
        (username) => ConsoleClient.login(relay.httpUrl, username),
      ),
    );
    const missing = await get(county1, `/fhir/Bundle/case-${randomUUID()}`);
    expect(missing.status).toBe(404);
    for (const path of [`/fhir/Bundle/case-${caseId}`, `/fhir/DiagnosticReport/${caseId}`]) {
      const answers = await Promise.all(others.map((client) => get(client, path)));
      expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404, 403]);
      for (const answer of answers) {
        expect(answer.type).toMatch(FHIR_JSON);
        expect(fhirSchemaErrors(answer.body)).toEqual([]);
      }
      // Not in scope reads exactly like missing.
      expect(answers[0]!.body).toEqual(missing.body);
      expect((answers[4]!.body as OperationOutcome).issue[0]?.code).toBe('forbidden');
    }
    const anonymous = await get(undefined, `/fhir/DiagnosticReport/${caseId}`);
    expect(anonymous.status).toBe(401);
    expect((anonymous.body as OperationOutcome).issue[0]?.code).toBe('login');
  });

  it('an unsigned case has no report yet: 404 OperationOutcome, to its own clinic too', async () => {
    for (const path of [
      `/fhir/Bundle/case-${unsignedId}`,
      `/fhir/DiagnosticReport/${unsignedId}`,
    ]) {
      const answer = await get(clinic1, path);
      expect(answer.status).toBe(404);
      expect((answer.body as OperationOutcome).issue[0]?.code).toBe('not-found');
    }
    expect((await get(county1, '/fhir/Bundle/not-a-case')).status).toBe(404);
    expect((await get(county1, `/fhir/Bundle/case-${caseId}?waveform=maybe`)).status).toBe(400);
  });

  it("a registered patient's case: the Patient with the identifier masked, and the number nowhere in the answer or the relay's log", async () => {
    const created = await clinic1.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'resident_id', idNumber: NATIONAL_ID, name: '王芳' },
      kind: 'ecg',
      indication: 'Palpitations',
    });
    expect(created.status).toBe(201);
    const patientCase = await record(13, created.body.order.orderNumber);
    expect((await county1.post(`/api/cases/${patientCase}/claim`)).status).toBe(200);
    expect(
      (await county1.post(`/api/cases/${patientCase}/sign`, { conclusion: 'Sinus tachycardia.' }))
        .status,
    ).toBe(200);

    const answer = await get(clinic1, `/fhir/Bundle/case-${patientCase}`);
    expect(answer.status).toBe(200);
    const bundle = answer.body as Bundle;
    const resources = (bundle.entry ?? []).map((entry) => entry.resource!);
    expect([bundle, ...resources].flatMap((r) => fhirSchemaErrors(r))).toEqual([]);
    const patient = resources.find((r) => r.resourceType === 'Patient');
    expect(patient).toMatchObject({
      id: created.body.order.patient.id,
      name: [{ text: '王芳' }],
      gender: 'female',
      birthDate: '1985-03-15',
      identifier: [{ system: 'urn:oid:2.16.156.10011.1.3', value: maskIdentifier(NATIONAL_ID) }],
    });
    expect(resources.find((r) => r.resourceType === 'DiagnosticReport')).toMatchObject({
      subject: { reference: `Patient/${created.body.order.patient.id}` },
    });
    expect(resources.find((r) => r.resourceType === 'ServiceRequest')).toMatchObject({
      identifier: [{ value: created.body.order.orderNumber }],
      reasonCode: [{ text: 'Palpitations' }],
    });
    const report = await get(county1, `/fhir/DiagnosticReport/${patientCase}`);
    expect(report.status).toBe(200);
    expect(JSON.stringify([bundle, report.body])).not.toContain(NATIONAL_ID);
    expect(relay.logs.join('\n')).not.toContain(NATIONAL_ID);

    // The reads are audited by the patient's lookup key, never the number: they are in the
    // patient's "who looked at my record", which the registering clinic can show.
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const page = await admin.get<AuditPage>('/api/admin/audit?limit=500');
    const reads = page.body.entries.filter(
      (row) => row.action === 'fhir.read' && row.subject === `case:${patientCase}`,
    );
    expect(reads).toHaveLength(2);
    expect(JSON.stringify(page.body)).not.toContain(NATIONAL_ID);
    const looked = await admin.get<PatientAccessPage>(
      `/api/records/patients/${created.body.order.patient.id}/access-log`,
    );
    expect(looked.status).toBe(200);
    expect(looked.body.entries.filter((entry) => entry.action === 'fhir.read')).toHaveLength(2);
  });

  it('each read is in the audit trail, the refusals too', async () => {
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const page = await admin.get<AuditPage>('/api/admin/audit?limit=500');
    const reads = page.body.entries.filter(
      (row) => row.action === 'fhir.read' && row.subject === `case:${caseId}`,
    );
    expect(reads.filter((row) => row.actor === `user:${county1.session.user.id}`).length).toBe(3);
    expect(reads.filter((row) => row.actor === `user:${clinic1.session.user.id}`).length).toBe(1);
    const refused = page.body.entries.filter(
      (row) => row.outcome === 'denied' && row.action === 'GET /fhir/Bundle/:id',
    );
    expect(refused.length).toBeGreaterThanOrEqual(5);
  });
});
