import { createHash } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  Identifier,
  Observation,
  ObservationComponent,
  Organization,
  Patient,
  Practitioner,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  MEASUREMENT_KEYS,
  type CaseAnalysis,
  type CaseKind,
  type CasePriority,
  type CaseTransfer,
  type MeasurementReview,
  type PatientSummary,
} from '#contracts';
import {
  CHINA_RESIDENT_ID_SYSTEM,
  DICOM_DCM,
  ECG_WAVEFORM_CODE,
  ENDPOINT_CONNECTION_TYPE,
  LEAD_CODES,
  LOINC,
  MDC,
  MEASUREMENT_CODES,
  OBSERVATION_CATEGORY,
  REPORT_CODES,
  UCUM,
  V2_IDENTIFIER_TYPE,
  V2_SERVICE_SECTION,
  V3_OBSERVATION_VALUE,
} from './fhir-codes.js';

/**
 * A signed case as the FHIR view needs it: plain rows, read by FhirRepository. The patient
 * comes only as its summary, so the identifier reaches this file masked or not at all.
 */
export interface SignedCase {
  caseId: string;
  kind: CaseKind;
  examKind: string;
  priority: CasePriority;
  createdAt: Date;
  clinic: Facility;
  /** Where the clinic's referral went first (the county hospital, before any transfer). */
  firstHospital: Facility;
  diagnosis: {
    conclusion: string;
    findings: string[];
    signedAt: Date;
    reader: { id: string; name: string };
    /** The hospital that signed (after an escalation, the tertiary one). */
    hospital: Facility;
    measurementReview: MeasurementReview | null;
  };
  patient: PatientSummary | null;
  order: ExamOrderRow | null;
  recording: RecordingRow | null;
  analysis: CaseAnalysis | null;
  study: StudyRow | null;
  transfers: CaseTransfer[];
}

export interface Facility {
  id: string;
  name: string;
}

export interface ExamOrderRow {
  orderNumber: string;
  indication: string;
  createdAt: Date;
  modality: string | null;
  bodyPart: string | null;
}

export interface RecordingRow {
  startedAt: Date;
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  samplesPerLead: number;
}

export interface StudyRow {
  studyInstanceUid: string;
  description: string | null;
  /** DICOM DA, YYYYMMDD. */
  studyDate: string | null;
  modalities: string[];
  instanceCount: number;
  series: {
    seriesInstanceUid: string;
    modality: string | null;
    seriesNumber: number | null;
    description: string | null;
    instanceCount: number;
  }[];
}

export interface BundleOptions {
  /** The relay's public base, `https://relay.example` (fullUrls and the WADO-RS endpoint). */
  baseUrl: string;
  /** When the bundle is made (Bundle.timestamp). */
  at: Date;
  /**
   * The recording's samples (int16, interleaved by sample as stored): adds the waveform
   * Observation. Left out unless asked for, because it can be megabytes (docs/fhir.md).
   */
  samples?: Int16Array;
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * A facility id as a FHIR id. Facility ids may hold `_`, which FHIR ids may not: those get a
 * stable hash instead (the facility id itself stays in the Organization's identifier).
 */
export function organizationId(facilityId: string): string {
  if (FHIR_ID.test(facilityId)) return facilityId;
  return `f-${createHash('sha256').update(facilityId).digest('hex').slice(0, 40)}`;
}

export const WAVEFORM_SUFFIX = 'ecg';
const ENDPOINT_ID = 'dicomweb';

const ref = <T extends Resource>(type: T['resourceType'], id: string, display?: string) =>
  (display === undefined
    ? { reference: `${type}/${id}` }
    : { reference: `${type}/${id}`, display }) as Reference<T>;

/** FHIR's Patient, with the identifier masked and labelled so (security label MASKED). */
export function patientResource(patient: PatientSummary): Patient {
  return {
    resourceType: 'Patient',
    id: patient.id,
    meta: {
      security: [{ system: V3_OBSERVATION_VALUE, code: 'MASKED', display: 'masked' }],
    },
    identifier: [maskedIdentifier(patient)],
    name: [{ text: patient.name }],
    gender: patient.sex,
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
  };
}

function maskedIdentifier(patient: PatientSummary): Identifier {
  switch (patient.documentType) {
    case 'resident_id':
      return {
        use: 'official',
        type: {
          coding: [
            {
              system: V2_IDENTIFIER_TYPE,
              code: 'NI',
              display: 'National unique individual identifier',
            },
          ],
          text: 'Resident identity card (masked)',
        },
        system: CHINA_RESIDENT_ID_SYSTEM,
        value: patient.maskedIdentifier,
      };
    case 'passport':
      // No system: the issuing country is not recorded.
      return {
        use: 'official',
        type: {
          coding: [{ system: V2_IDENTIFIER_TYPE, code: 'PPN', display: 'Passport number' }],
          text: 'Passport (masked)',
        },
        value: patient.maskedIdentifier,
      };
    case 'other':
      return {
        use: 'official',
        type: { text: 'Other identity document (masked)' },
        value: patient.maskedIdentifier,
      };
  }
}

export function organizationResource(facility: Facility, baseUrl: string): Organization {
  return {
    resourceType: 'Organization',
    id: organizationId(facility.id),
    identifier: [{ system: `${baseUrl}/fhir/sid/facility`, value: facility.id }],
    active: true,
    name: facility.name,
  };
}

/** The reader, by name only: no licence number or contact is kept by the relay. */
export function practitionerResource(reader: { id: string; name: string }): Practitioner {
  return { resourceType: 'Practitioner', id: reader.id, name: [{ text: reader.name }] };
}

/** Whom the case is about; a case from before exam registration has no patient. */
function subjectOf(record: SignedCase): Reference<Patient> {
  return record.patient
    ? ref<Patient>('Patient', record.patient.id, record.patient.name)
    : ({ display: 'Patient not registered with this exam' } as Reference<Patient>);
}

/** The ECG measurements: the reader's correction where one was made, else the analysis'. */
export function measurementObservations(record: SignedCase): Observation[] {
  const analysis = record.analysis;
  if (record.kind !== 'ecg' || !analysis) return [];
  const review = record.diagnosis.measurementReview;
  const observations: Observation[] = [];
  for (const key of MEASUREMENT_KEYS) {
    const corrected = review?.corrections[key];
    const value = corrected ?? analysis.measurements[key];
    if (value === null || value === undefined) continue;
    const code = MEASUREMENT_CODES[key];
    const method =
      corrected !== undefined
        ? 'Measured by the reader (corrected the automatic value)'
        : review?.confirmed
          ? `Automatic (${analysis.algorithmVersion}), confirmed by the reader`
          : `Automatic (${analysis.algorithmVersion})`;
    observations.push({
      resourceType: 'Observation',
      id: `${record.caseId}-${code.suffix}`,
      status: 'final',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'procedure' }] }],
      code: { coding: [{ system: LOINC, code: code.code, display: code.display }] },
      subject: subjectOf(record),
      ...(record.recording ? { effectiveDateTime: record.recording.startedAt.toISOString() } : {}),
      issued: record.diagnosis.signedAt.toISOString(),
      method: { text: method },
      valueQuantity: { value, unit: code.unit, system: UCUM, code: code.unit },
    });
  }
  return observations;
}

/**
 * The waveform: one Observation, one component per lead with SampledData in µV (origin 0,
 * factor µV per count), as the FHIR R4 ECG example does.
 */
export function waveformObservation(
  record: SignedCase,
  recording: RecordingRow,
  samples: Int16Array,
): Observation {
  const leads = recording.leads.length;
  if (samples.length !== leads * recording.samplesPerLead) {
    throw new Error(
      `recording of case ${record.caseId}: ${samples.length} samples for ${leads} leads × ${recording.samplesPerLead}`,
    );
  }
  const period = round(1000 / recording.sampleRateHz);
  const factor = round(recording.microvoltsPerLsb);
  const component: ObservationComponent[] = recording.leads.map((lead, index) => {
    const values = new Array<number>(recording.samplesPerLead);
    for (let i = 0; i < recording.samplesPerLead; i += 1) values[i] = samples[i * leads + index]!;
    const coded = LEAD_CODES[lead];
    const code: CodeableConcept = coded
      ? { coding: [{ system: MDC, ...coded }], text: lead }
      : { text: lead };
    return {
      code,
      valueSampledData: {
        origin: { value: 0, unit: 'µV', system: UCUM, code: 'uV' },
        period,
        factor,
        dimensions: 1,
        data: values.join(' '),
      },
    };
  });
  return {
    resourceType: 'Observation',
    id: `${record.caseId}-${WAVEFORM_SUFFIX}`,
    status: 'final',
    category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'procedure' }] }],
    code: { coding: [ECG_WAVEFORM_CODE], text: `ECG waveform, ${leads} leads` },
    subject: subjectOf(record),
    effectiveDateTime: recording.startedAt.toISOString(),
    issued: record.diagnosis.signedAt.toISOString(),
    component,
  };
}

/** The clinic's referral: the exam order when one was registered, else the case itself. */
export function serviceRequestResource(record: SignedCase, baseUrl: string): ServiceRequest {
  const order = record.order;
  const code = REPORT_CODES[record.kind];
  return {
    resourceType: 'ServiceRequest',
    id: record.caseId,
    ...(order
      ? { identifier: [{ system: `${baseUrl}/fhir/sid/order-number`, value: order.orderNumber }] }
      : {}),
    status: 'completed',
    intent: 'order',
    priority: record.priority,
    code: {
      coding: [code],
      text:
        record.kind === 'imaging' && order?.modality
          ? `${order.modality}${order.bodyPart ? ` ${order.bodyPart}` : ''}`
          : record.examKind,
    },
    subject: subjectOf(record),
    authoredOn: (order?.createdAt ?? record.createdAt).toISOString(),
    requester: ref<Organization>(
      'Organization',
      organizationId(record.clinic.id),
      record.clinic.name,
    ),
    performer: [
      ref<Organization>(
        'Organization',
        organizationId(record.firstHospital.id),
        record.firstHospital.name,
      ),
    ],
    ...(order ? { reasonCode: [{ text: order.indication }] } : {}),
  };
}

/**
 * The referral chain: each escalation or overflow as a Task owned by the hospital it went
 * to. The one that ended at the signing hospital is completed; one the case moved on from
 * is cancelled, naming where it went.
 */
export function transferTasks(record: SignedCase): Task[] {
  return record.transfers.map((transfer, index) => {
    const next = record.transfers[index + 1];
    const last = next === undefined;
    return {
      resourceType: 'Task',
      id: `${record.caseId}-transfer-${index + 1}`,
      status: last ? 'completed' : 'cancelled',
      ...(last ? {} : { statusReason: { text: `Passed on to ${next.toHospitalName}` } }),
      intent: 'order',
      priority: record.priority,
      code: {
        text:
          transfer.kind === 'escalated'
            ? 'Escalation to the hospital above'
            : 'Overflow to another hospital',
      },
      basedOn: [ref<ServiceRequest>('ServiceRequest', record.caseId)],
      focus: ref<ServiceRequest>('ServiceRequest', record.caseId),
      ...(record.patient ? { for: subjectOf(record) } : {}),
      authoredOn: transfer.at,
      ...(last ? { lastModified: record.diagnosis.signedAt.toISOString() } : {}),
      requester: ref<Organization>(
        'Organization',
        organizationId(transfer.fromHospitalId),
        transfer.fromHospitalName,
      ),
      owner: ref<Organization>(
        'Organization',
        organizationId(transfer.toHospitalId),
        transfer.toHospitalName,
      ),
      ...(transfer.note ? { note: [{ text: transfer.note }] } : {}),
    };
  });
}

export function imagingStudyResource(record: SignedCase, study: StudyRow): ImagingStudy {
  const endpoint = [ref<Endpoint>('Endpoint', ENDPOINT_ID)];
  const started = study.studyDate?.match(/^(\d{4})(\d{2})(\d{2})$/);
  return {
    resourceType: 'ImagingStudy',
    id: record.caseId,
    // FHIR R4 ImagingStudy: the Study Instance UID as urn:dicom:uid with an urn:oid: value.
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${study.studyInstanceUid}` }],
    status: 'available',
    modality: study.modalities.map((code) => ({ system: DICOM_DCM, code })),
    subject: subjectOf(record),
    ...(started ? { started: `${started[1]}-${started[2]}-${started[3]}` } : {}),
    basedOn: [ref<ServiceRequest>('ServiceRequest', record.caseId)],
    endpoint,
    numberOfSeries: study.series.length,
    numberOfInstances: study.instanceCount,
    ...(study.description ? { description: study.description } : {}),
    series: study.series.map((series) => ({
      uid: series.seriesInstanceUid,
      ...(series.seriesNumber === null ? {} : { number: series.seriesNumber }),
      // PS3.3 C.7.3.1: Modality is type 1; a series stored without one is "OT" (other).
      modality: { system: DICOM_DCM, code: series.modality ?? 'OT' },
      ...(series.description ? { description: series.description } : {}),
      numberOfInstances: series.instanceCount,
      endpoint,
    })),
  };
}

/** Where the images are: the relay's own WADO-RS (PS3.18), behind the same sign-in. */
export function dicomwebEndpoint(baseUrl: string): Endpoint {
  return {
    resourceType: 'Endpoint',
    id: ENDPOINT_ID,
    status: 'active',
    connectionType: {
      system: ENDPOINT_CONNECTION_TYPE,
      code: 'dicom-wado-rs',
      display: 'DICOM WADO-RS',
    },
    name: 'Telerelay DICOMweb',
    payloadType: [{ text: 'DICOM' }],
    payloadMimeType: ['application/dicom'],
    address: `${baseUrl}/dicomweb`,
  };
}

/** The signed report: what the reading hospital concluded, with what it rests on. */
export function diagnosticReportResource(
  record: SignedCase,
  results: Observation[],
): DiagnosticReport {
  const { diagnosis } = record;
  const reader = ref<Practitioner>('Practitioner', diagnosis.reader.id, diagnosis.reader.name);
  return {
    resourceType: 'DiagnosticReport',
    id: record.caseId,
    basedOn: [ref<ServiceRequest>('ServiceRequest', record.caseId)],
    // A signed diagnosis is never changed by the relay, so never `amended` (docs/fhir.md).
    status: 'final',
    category: [
      {
        coding: [
          record.kind === 'ecg'
            ? {
                system: V2_SERVICE_SECTION,
                code: 'EC',
                display: 'Electrocardiac (e.g., EKG, EEC, Holter)',
              }
            : { system: V2_SERVICE_SECTION, code: 'RAD', display: 'Radiology' },
        ],
      },
    ],
    code: { coding: [REPORT_CODES[record.kind]] },
    subject: subjectOf(record),
    ...(record.recording ? { effectiveDateTime: record.recording.startedAt.toISOString() } : {}),
    issued: diagnosis.signedAt.toISOString(),
    performer: [
      ref<Organization>(
        'Organization',
        organizationId(diagnosis.hospital.id),
        diagnosis.hospital.name,
      ),
      reader,
    ],
    resultsInterpreter: [reader],
    ...(results.length > 0
      ? { result: results.map((o) => ref<Observation>('Observation', o.id!)) }
      : {}),
    ...(record.study ? { imagingStudy: [ref<ImagingStudy>('ImagingStudy', record.caseId)] } : {}),
    conclusion: diagnosis.conclusion,
    ...(diagnosis.findings.length > 0
      ? { conclusionCode: diagnosis.findings.map((text) => ({ text })) }
      : {}),
  };
}

/** The DiagnosticReport alone, as `GET /fhir/DiagnosticReport/{id}` answers it. */
export function caseReport(record: SignedCase): DiagnosticReport {
  return diagnosticReportResource(record, measurementObservations(record));
}

/**
 * Every resource of a signed case, as a `collection` Bundle (a `document` would need a
 * Composition the relay does not write). The DiagnosticReport comes first.
 */
export function caseBundle(record: SignedCase, options: BundleOptions): Bundle {
  const observations = measurementObservations(record);
  if (options.samples && record.recording) {
    observations.push(waveformObservation(record, record.recording, options.samples));
  }
  const facilities = new Map<string, Facility>();
  for (const facility of [record.clinic, record.firstHospital, record.diagnosis.hospital]) {
    facilities.set(facility.id, facility);
  }
  for (const transfer of record.transfers) {
    facilities.set(transfer.fromHospitalId, {
      id: transfer.fromHospitalId,
      name: transfer.fromHospitalName,
    });
    facilities.set(transfer.toHospitalId, {
      id: transfer.toHospitalId,
      name: transfer.toHospitalName,
    });
  }
  const resources: Resource[] = [
    diagnosticReportResource(record, observations),
    ...(record.patient ? [patientResource(record.patient)] : []),
    serviceRequestResource(record, options.baseUrl),
    ...transferTasks(record),
    ...observations,
    ...(record.study
      ? [imagingStudyResource(record, record.study), dicomwebEndpoint(options.baseUrl)]
      : []),
    ...[...facilities.values()].map((facility) => organizationResource(facility, options.baseUrl)),
    practitionerResource(record.diagnosis.reader),
  ];
  return {
    resourceType: 'Bundle',
    id: `case-${record.caseId}`,
    type: 'collection',
    timestamp: options.at.toISOString(),
    entry: resources.map((resource): BundleEntry => ({
      fullUrl: `${options.baseUrl}/fhir/${resource.resourceType}/${resource.id}`,
      resource,
    })),
  };
}

/** Six decimals: enough for a period of 1000/360 ms or a float32 µV factor, without noise. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
