/**
 * The code systems and codes the FHIR view uses (docs/fhir.md says why each was chosen).
 * LOINC check digits were verified with the LOINC MOD 10 algorithm.
 */

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
/** ISO/IEEE 11073-10101 (MDC) as FHIR names it. */
export const MDC = 'urn:iso:std:iso:11073:10101';
/** DICOM PS3.16 Controlled Terminology: modality codes (CID 29). */
export const DICOM_DCM = 'http://dicom.nema.org/resources/ontology/DCM';
/** HL7 v2 table 0074, diagnostic service section. */
export const V2_SERVICE_SECTION = 'http://terminology.hl7.org/CodeSystem/v2-0074';
/** HL7 v2 table 0203, identifier type. */
export const V2_IDENTIFIER_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** HL7 v3 ObservationValue: holds the security label MASKED. */
export const V3_OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
export const ENDPOINT_CONNECTION_TYPE =
  'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';

/**
 * China's resident identity number (公民身份号码) namespace in the national health information
 * standards' OID registry (WS/T 500 documents: `2.16.156.10011.1.3`, 患者身份证号标识).
 */
export const CHINA_RESIDENT_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';

export const REPORT_CODES = {
  ecg: { system: LOINC, code: '11524-6', display: 'EKG study' },
  imaging: { system: LOINC, code: '18748-4', display: 'Diagnostic imaging study' },
} as const;

/** The ECG measurements as LOINC observations, with their UCUM unit. */
export const MEASUREMENT_CODES = {
  heartRateBpm: { code: '8867-4', display: 'Heart rate', unit: '/min', suffix: 'hr' },
  prMs: { code: '8625-6', display: 'P-R Interval', unit: 'ms', suffix: 'pr' },
  qrsMs: { code: '8633-0', display: 'QRS duration', unit: 'ms', suffix: 'qrs' },
  qtMs: { code: '8634-8', display: 'Q-T interval', unit: 'ms', suffix: 'qt' },
  qtcMs: { code: '8636-3', display: 'Q-T interval corrected', unit: 'ms', suffix: 'qtc' },
  axisDegrees: { code: '8632-2', display: 'QRS axis', unit: 'deg', suffix: 'axis' },
} as const;

/** MDC_ECG_ELEC_POTL: the electrical potential of the ECG, the waveform observation's code. */
export const ECG_WAVEFORM_CODE = { system: MDC, code: '131328', display: 'MDC_ECG_ELEC_POTL' };

/**
 * The leads as MDC codes (partition 2, SCADA: 2·65536 + term code; MDC_ECG_ELEC_POTL_I = 257).
 * A lead not listed keeps its name as text only.
 */
export const LEAD_CODES: Readonly<Record<string, { code: string; display: string }>> = {
  I: { code: '131329', display: 'MDC_ECG_ELEC_POTL_I' },
  II: { code: '131330', display: 'MDC_ECG_ELEC_POTL_II' },
  III: { code: '131389', display: 'MDC_ECG_ELEC_POTL_III' },
  aVR: { code: '131390', display: 'MDC_ECG_ELEC_POTL_AVR' },
  aVL: { code: '131391', display: 'MDC_ECG_ELEC_POTL_AVL' },
  aVF: { code: '131392', display: 'MDC_ECG_ELEC_POTL_AVF' },
  V1: { code: '131331', display: 'MDC_ECG_ELEC_POTL_V1' },
  V2: { code: '131332', display: 'MDC_ECG_ELEC_POTL_V2' },
  V3: { code: '131333', display: 'MDC_ECG_ELEC_POTL_V3' },
  V4: { code: '131334', display: 'MDC_ECG_ELEC_POTL_V4' },
  V5: { code: '131335', display: 'MDC_ECG_ELEC_POTL_V5' },
  V6: { code: '131336', display: 'MDC_ECG_ELEC_POTL_V6' },
};
