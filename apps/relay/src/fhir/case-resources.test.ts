import type { Bundle, DiagnosticReport, Observation, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { maskIdentifier, nationalIdCheckCharacter, type CaseAnalysis } from '#contracts';
import {
  caseBundle,
  caseReport,
  organizationId,
  type RecordingRow,
  type SignedCase,
} from './case-resources.js';
import { operationOutcome } from './fhir-error.filter.js';
import { fhirSchemaErrors } from './testing/fhir-schema.js';

const BASE = 'https://relay.example';
const AT = new Date('2026-12-07T10:00:00Z');
/** A fictitious resident ID with a valid GB 11643 check character. */
const FIRST_17 = '50010119800101001';
const NATIONAL_ID = FIRST_17 + nationalIdCheckCharacter(FIRST_17);

const ANALYSIS: CaseAnalysis = {
  algorithmVersion: 'ecg-1.4.0',
  heartRateBpm: 72,
  measurements: {
    heartRateBpm: 72,
    prMs: 160,
    qrsMs: 92,
    qtMs: 380,
    qtcMs: 416,
    axisDegrees: null,
  },
  flags: [],
  priority: 'routine',
  readable: true,
  qualityNotes: [],
};

const RECORDING: RecordingRow = {
  startedAt: new Date('2026-12-07T09:00:00Z'),
  leads: ['I', 'II', 'V9'],
  sampleRateHz: 500,
  microvoltsPerLsb: 4.880000114440918,
  samplesPerLead: 4,
};

function ecgCase(overrides: Partial<SignedCase> = {}): SignedCase {
  return {
    caseId: '2f1d7c1e-4a57-4f0e-9a6b-0d7a0d3c9b11',
    kind: 'ecg',
    examKind: 'resting-12-lead',
    priority: 'urgent',
    createdAt: new Date('2026-12-07T09:01:00Z'),
    clinic: { id: 'clinic-1', name: 'Clinic 1' },
    firstHospital: { id: 'county-1', name: 'County 1 Hospital' },
    diagnosis: {
      conclusion: 'Sinus rhythm. Inferior ST elevation.',
      findings: ['Sinus rhythm', 'ST elevation II, III, aVF'],
      signedAt: new Date('2026-12-07T09:30:00Z'),
      reader: { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', name: 'Dr. Tertiary' },
      hospital: { id: 'tertiary-1', name: 'City Heart Hospital' },
      measurementReview: { confirmed: false, corrections: { qrsMs: 104 } },
    },
    patient: {
      id: '0b6f3a3e-8a7f-4c38-9a55-5d3f3a1e7c21',
      name: '张三',
      sex: 'male',
      birthDate: '1980-01-01',
      maskedIdentifier: maskIdentifier(NATIONAL_ID),
      documentType: 'resident_id',
    },
    order: {
      orderNumber: 'K7M2XQ9P',
      indication: 'Chest pain for 2 hours',
      createdAt: new Date('2026-12-07T08:55:00Z'),
      modality: null,
      bodyPart: null,
    },
    recording: RECORDING,
    analysis: ANALYSIS,
    study: null,
    transfers: [
      {
        kind: 'escalated',
        at: '2026-12-07T09:10:00.000Z',
        byName: 'Dr. County',
        fromHospitalId: 'county-1',
        fromHospitalName: 'County 1 Hospital',
        toHospitalId: 'tertiary-1',
        toHospitalName: 'City Heart Hospital',
        note: 'Possible STEMI, please read',
        deadline: null,
      },
    ],
    ...overrides,
  };
}

/** Lead-interleaved samples: lead l of sample s is 100·l + s − 2 (negative values too). */
function samples(recording: RecordingRow): Int16Array {
  const leads = recording.leads.length;
  return Int16Array.from({ length: leads * recording.samplesPerLead }, (_, i) => {
    const [s, l] = [Math.floor(i / leads), i % leads];
    return 100 * l + s - 2;
  });
}

const resources = (bundle: Bundle): Resource[] => (bundle.entry ?? []).map((e) => e.resource!);
const one = <T extends Resource>(bundle: Bundle, type: T['resourceType'], id?: string): T => {
  const found = resources(bundle).filter(
    (r) => r.resourceType === type && (id === undefined || r.id === id),
  );
  expect(found, `${type}${id ? `/${id}` : ''}`).toHaveLength(1);
  return found[0] as T;
};

/** Every resource of the bundle and the bundle itself, against the official R4 schema. */
function schemaErrors(bundle: Bundle): string[] {
  return [bundle, ...resources(bundle)].flatMap((resource) => fhirSchemaErrors(resource));
}

/** Every `reference` in the bundle, and whether an entry of the bundle holds it. */
function danglingReferences(bundle: Bundle): string[] {
  const present = new Set(resources(bundle).map((r) => `${r.resourceType}/${r.id}`));
  const references = [...JSON.stringify(bundle).matchAll(/"reference":"([^"]+)"/g)].map(
    (m) => m[1]!,
  );
  expect(references.length).toBeGreaterThan(0);
  return references.filter((reference) => !present.has(reference));
}

describe('a signed case as FHIR R4 resources', { timeout: 60_000 }, () => {
  it('an escalated ECG case with its patient, order and waveform is a valid R4 collection Bundle', () => {
    const record = ecgCase();
    const bundle = caseBundle(record, {
      baseUrl: BASE,
      at: AT,
      samples: samples(RECORDING),
    });
    expect(schemaErrors(bundle)).toEqual([]);
    expect(danglingReferences(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ id: `case-${record.caseId}`, type: 'collection' });
    for (const entry of bundle.entry ?? []) {
      expect(entry.fullUrl).toBe(
        `${BASE}/fhir/${entry.resource!.resourceType}/${entry.resource!.id}`,
      );
    }
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('DiagnosticReport');

    const report = one<DiagnosticReport>(bundle, 'DiagnosticReport');
    expect(report).toMatchObject({
      id: record.caseId,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '11524-6' }] },
      conclusion: 'Sinus rhythm. Inferior ST elevation.',
      issued: '2026-12-07T09:30:00.000Z',
      subject: { reference: `Patient/${record.patient!.id}` },
      performer: [
        { reference: 'Organization/tertiary-1' },
        { reference: 'Practitioner/7c9e6679-7425-40de-944b-e07fc1f90ae7' },
      ],
    });
    // Five measurements (no axis was measured) and the waveform.
    expect(report.result).toHaveLength(6);
  });

  it("the Patient carries only the masked identifier, in China's resident ID system", () => {
    const bundle = caseBundle(ecgCase(), { baseUrl: BASE, at: AT });
    const patient = one(bundle, 'Patient');
    expect(patient).toMatchObject({
      gender: 'male',
      birthDate: '1980-01-01',
      name: [{ text: '张三' }],
      meta: { security: [{ code: 'MASKED' }] },
      identifier: [
        {
          system: 'urn:oid:2.16.156.10011.1.3',
          value: '5001**********' + NATIONAL_ID.slice(-4),
          type: { coding: [{ code: 'NI' }] },
        },
      ],
    });
    expect(JSON.stringify(bundle)).not.toContain(NATIONAL_ID);
    expect(JSON.stringify(bundle)).not.toContain(NATIONAL_ID.slice(4, 14));
  });

  it("measurements are LOINC in UCUM units, with the reader's correction over the analysis", () => {
    const bundle = caseBundle(ecgCase(), { baseUrl: BASE, at: AT });
    const byCode = new Map(
      resources(bundle)
        .filter((r): r is Observation => r.resourceType === 'Observation')
        .map((o) => [o.code.coding?.[0]?.code, o]),
    );
    expect(byCode.get('8867-4')?.valueQuantity).toEqual({
      value: 72,
      unit: '/min',
      system: 'http://unitsofmeasure.org',
      code: '/min',
    });
    expect(byCode.get('8625-6')?.valueQuantity?.value).toBe(160);
    expect(byCode.get('8633-0')?.valueQuantity?.value).toBe(104);
    expect(byCode.get('8633-0')?.method?.text).toMatch(/reader/);
    expect(byCode.get('8634-8')?.valueQuantity).toMatchObject({ value: 380, code: 'ms' });
    expect(byCode.get('8636-3')?.valueQuantity?.value).toBe(416);
    // No axis was measured: no Observation rather than an empty one.
    expect(byCode.has('8632-2')).toBe(false);
    // The waveform is left out unless asked for.
    expect(byCode.has('131328')).toBe(false);
  });

  it('the waveform is one SampledData per lead in µV, data the stored counts of that lead', () => {
    const record = ecgCase();
    const bundle = caseBundle(record, { baseUrl: BASE, at: AT, samples: samples(RECORDING) });
    const waveform = one<Observation>(bundle, 'Observation', `${record.caseId}-ecg`);
    expect(waveform.component?.map((c) => c.code.text)).toEqual(['I', 'II', 'V9']);
    expect(waveform.component?.[1]?.code.coding).toEqual([
      { system: 'urn:iso:std:iso:11073:10101', code: '131330', display: 'MDC_ECG_ELEC_POTL_II' },
    ]);
    // A lead MDC does not name keeps its name as text only.
    expect(waveform.component?.[2]?.code.coding).toBeUndefined();
    const lead2 = waveform.component?.[2]?.valueSampledData;
    expect(lead2).toMatchObject({
      origin: { value: 0, code: 'uV' },
      period: 2,
      factor: 4.88,
      dimensions: 1,
    });
    expect(lead2?.data?.split(' ').map(Number)).toEqual([198, 199, 200, 201]);
    expect(() => caseBundle(record, { baseUrl: BASE, at: AT, samples: new Int16Array(5) })).toThrow(
      /5 samples for 3 leads/,
    );
  });

  it('the referral is a ServiceRequest from the clinic to the county hospital, the escalation a Task owned by the tertiary one', () => {
    const record = ecgCase();
    const bundle = caseBundle(record, { baseUrl: BASE, at: AT });
    expect(one(bundle, 'ServiceRequest')).toMatchObject({
      status: 'completed',
      intent: 'order',
      priority: 'urgent',
      identifier: [{ system: `${BASE}/fhir/sid/order-number`, value: 'K7M2XQ9P' }],
      requester: { reference: 'Organization/clinic-1' },
      performer: [{ reference: 'Organization/county-1' }],
      reasonCode: [{ text: 'Chest pain for 2 hours' }],
    });
    expect(one(bundle, 'Task')).toMatchObject({
      status: 'completed',
      requester: { reference: 'Organization/county-1' },
      owner: { reference: 'Organization/tertiary-1' },
      focus: { reference: `ServiceRequest/${record.caseId}` },
      note: [{ text: 'Possible STEMI, please read' }],
    });
  });

  it('a transfer the case moved on from is a cancelled Task naming where it went', () => {
    const first = ecgCase().transfers[0]!;
    const record = ecgCase({
      transfers: [
        {
          ...first,
          toHospitalId: 'county-2',
          toHospitalName: 'County 2 Hospital',
          kind: 'overflowed',
        },
        { ...first, fromHospitalId: 'county-2', fromHospitalName: 'County 2 Hospital' },
      ],
    });
    const bundle = caseBundle(record, { baseUrl: BASE, at: AT });
    expect(schemaErrors(bundle)).toEqual([]);
    expect(danglingReferences(bundle)).toEqual([]);
    const tasks = resources(bundle).filter((r) => r.resourceType === 'Task');
    expect(tasks).toMatchObject([
      { status: 'cancelled', statusReason: { text: 'Passed on to City Heart Hospital' } },
      { status: 'completed' },
    ]);
  });

  it('an imaging case without a registered patient: ImagingStudy with its UID, series modalities and the WADO-RS endpoint', () => {
    const record = ecgCase({
      kind: 'imaging',
      examKind: 'imaging',
      patient: null,
      order: null,
      recording: null,
      analysis: null,
      transfers: [],
      diagnosis: {
        ...ecgCase().diagnosis,
        hospital: { id: 'county-1', name: 'County 1 Hospital' },
        measurementReview: null,
      },
      study: {
        studyInstanceUid: '1.2.826.0.1.3680043.8.498.1',
        description: 'CT chest',
        studyDate: '20261207',
        modalities: ['CT', 'SR'],
        instanceCount: 3,
        series: [
          {
            seriesInstanceUid: '1.2.826.0.1.3680043.8.498.2',
            modality: 'CT',
            seriesNumber: 1,
            description: 'Axial',
            instanceCount: 2,
          },
          {
            seriesInstanceUid: '1.2.826.0.1.3680043.8.498.3',
            modality: null,
            seriesNumber: null,
            description: null,
            instanceCount: 1,
          },
        ],
      },
    });
    const bundle = caseBundle(record, { baseUrl: BASE, at: AT });
    expect(schemaErrors(bundle)).toEqual([]);
    expect(danglingReferences(bundle)).toEqual([]);
    expect(resources(bundle).some((r) => r.resourceType === 'Patient')).toBe(false);
    expect(one(bundle, 'DiagnosticReport')).toMatchObject({
      code: { coding: [{ code: '18748-4' }] },
      category: [{ coding: [{ code: 'RAD' }] }],
      imagingStudy: [{ reference: `ImagingStudy/${record.caseId}` }],
      subject: { display: 'Patient not registered with this exam' },
    });
    expect(one(bundle, 'ImagingStudy')).toMatchObject({
      identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.826.0.1.3680043.8.498.1' }],
      started: '2026-12-07',
      numberOfSeries: 2,
      numberOfInstances: 3,
      modality: [
        { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' },
        { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'SR' },
      ],
      series: [
        { uid: '1.2.826.0.1.3680043.8.498.2', modality: { code: 'CT' }, numberOfInstances: 2 },
        { uid: '1.2.826.0.1.3680043.8.498.3', modality: { code: 'OT' }, numberOfInstances: 1 },
      ],
      endpoint: [{ reference: 'Endpoint/dicomweb' }],
    });
    expect(one(bundle, 'Endpoint')).toMatchObject({
      address: `${BASE}/dicomweb`,
      connectionType: { code: 'dicom-wado-rs' },
    });
    expect(resources(bundle).some((r) => r.resourceType === 'Observation')).toBe(false);
  });

  it('the DiagnosticReport read alone is valid and lists the measurements, not the waveform', () => {
    const report = caseReport(ecgCase());
    expect(fhirSchemaErrors(report)).toEqual([]);
    expect(report.result?.map((r) => r.reference)).not.toContain(
      `Observation/${ecgCase().caseId}-ecg`,
    );
    expect(report.result).toHaveLength(5);
  });

  it('the schema check itself fails an invalid resource', () => {
    const report = caseReport(ecgCase());
    expect(fhirSchemaErrors({ ...report, status: 'signed' })).not.toEqual([]);
    expect(fhirSchemaErrors({ ...report, conclusionText: 'x' })).not.toEqual([]);
  });

  it('facility ids that are no FHIR ids get a stable hash id; errors are valid OperationOutcomes', () => {
    expect(organizationId('county-1')).toBe('county-1');
    const odd = organizationId('county_1');
    expect(odd).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(organizationId('county_1')).toBe(odd);
    expect(organizationId('county_2')).not.toBe(odd);
    const outcome = operationOutcome({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'No such case',
    });
    expect(fhirSchemaErrors(outcome)).toEqual([]);
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'not-found' });
  });
});
