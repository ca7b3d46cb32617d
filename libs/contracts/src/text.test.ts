import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as contracts from '#contracts';
import { hasUnstorable, hostileString } from '../../../test/support/hostile-strings.js';

type Path = (string | number)[];
interface Leaf {
  path: Path;
  schema: StringSchema;
}
type StringSchema = z.ZodType<string> & { maxLength: number | null; format: string | null };

/**
 * What clients and boxes send: every exported strict object (responses are plain objects)
 * and every exported string schema (ids in routes). Found by walking the exports, so a new
 * request schema is covered the day it is added.
 */
const edgeSchemas = Object.entries(contracts).filter(([name, value]) => {
  if (!name.endsWith('Schema') || !(value instanceof z.ZodType)) return false;
  const def = value._zod.def;
  if (def.type === 'string') return true;
  return def.type === 'object' && (def as z.core.$ZodObjectDef).catchall?._zod.def.type === 'never';
}) as [string, z.ZodType][];

/** One valid message per edge schema that has a string in it; each test starts from it. */
const VALID: Record<string, unknown> = {
  ResourceIdSchema: 'clinic-1',
  ClinicEventReceivedSchema: { eventId: '42' },
  StreamWatchRequestSchema: { deviceId: 'box-1' },
  LoginRequestSchema: { username: 'reader1', password: 'secret' },
  RefreshRequestSchema: { refreshToken: 'opaque-token' },
  CreateFacilityRequestSchema: { id: 'clinic-9', kind: 'clinic', name: 'Clinic', parentId: 'c-1' },
  UpdateFacilityRequestSchema: { name: 'Clinic', parentId: 'county-1' },
  CreateUserRequestSchema: {
    username: 'reader9',
    displayName: 'Dr Reader',
    role: 'reader',
    facilityId: 'county-1',
    password: 'long enough',
  },
  UpdateUserRequestSchema: { displayName: 'Dr Reader', disabled: false },
  CreateDeviceRequestSchema: {
    id: 'box-9',
    facilityId: 'clinic-1',
    secret: '3f9c0a7d5e1b8264c0a1e2d3f4b5c6a7',
  },
  AeTitleSchema: 'CLINIC1_CT',
  ConsentCodeRequestSchema: {
    documentType: 'passport',
    idNumber: 'E12345678',
    purpose: 'compare with the earlier ECG',
  },
  ConsentVerifyRequestSchema: { code: '123456' },
  ConsentCodeSchema: '123456',
  DicomUidSchema: '1.2.840.113619.2.55.3',
  SetAeTitlesRequestSchema: { aeTitles: ['CLINIC1_CT', 'CLINIC1_DX'] },
  RegionFileSchema: {
    facilities: [{ id: 'clinic-1', kind: 'clinic', name: 'Clinic', parentId: null }],
    users: [
      {
        username: 'reader1',
        displayName: 'Dr Reader',
        role: 'reader',
        facilityId: 'county-1',
        password: 'long enough',
      },
    ],
    devices: [{ id: 'box-1', facilityId: 'clinic-1', secret: '3f9c0a7d5e1b8264c0a1e2d3f4b5c6a7' }],
  },
  AuditQuerySchema: { actor: 'anonymous', action: 'POST /api/auth/login' },
  SupervisionQuerySchema: { from: '2026-12-01', to: '2026-12-07' },
  SignDiagnosisSchema: { conclusion: 'Sinus rhythm', findings: ['normal axis'] },
  EscalateCaseSchema: { note: 'please look' },
  ReturnCaseSchema: { reason: 'lead V3 off' },
  NewPhraseSchema: { text: 'Sinus rhythm' },
  HospitalPolicyRequestSchema: { atDeadline: 'overflow', overflowHospitalId: 'county-2' },
  RecordingOpenSchema: {
    recordingId: '0b9f7c62-3d0e-4b8e-9a43-2a3c3f1f6e11',
    examKind: 'resting-12-lead',
    leads: ['I', 'II'],
    sampleRateHz: 500,
    microvoltsPerLsb: 5,
    startedAt: '2026-01-01T00:00:00Z',
    patientRef: 'P-1',
  },
  RecordingCloseSchema: {
    recordingId: '0b9f7c62-3d0e-4b8e-9a43-2a3c3f1f6e11',
    chunkCount: 1,
    samplesPerLead: 1,
    sha256: 'a'.repeat(64),
  },
  DeviceStatusSchema: { online: true, firmware: '1.2.3' },
  StreamOpenSchema: {
    streamId: '0b9f7c62-3d0e-4b8e-9a43-2a3c3f1f6e11',
    leads: ['II'],
    sampleRateHz: 250,
    microvoltsPerLsb: 5,
    startedAt: '2026-01-01T00:00:00Z',
  },
  StreamCloseSchema: { streamId: '0b9f7c62-3d0e-4b8e-9a43-2a3c3f1f6e11' },
  // GB 11643-1999's own example number; the patient is fictitious.
  nationalIdSchema: '11010519491231002X',
  RegisterPatientSchema: {
    documentType: 'passport',
    idNumber: 'E12345678',
    name: 'Test Patient',
    sex: 'female',
  },
  CreateExamOrderSchema: {
    patient: { documentType: 'resident_id', idNumber: '500101190001010017', name: '测试患者一' },
    kind: 'imaging',
    modality: 'DX',
    bodyPart: 'CHEST',
    indication: 'cough for three weeks',
    urgency: 'routine',
  },
};

/** Every string in a schema, with where it sits in a message (array elements at 0). */
function stringLeaves(schema: z.ZodType, path: Path = []): Leaf[] {
  // Not `instanceof z.ZodString`: z.uuid(), z.iso.datetime() … are string formats beside it.
  if (schema._zod.def.type === 'string') return [{ path, schema: schema as StringSchema }];
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, child]) =>
      stringLeaves(child as z.ZodType, [...path, key]),
    );
  }
  if (schema instanceof z.ZodArray) return stringLeaves(schema.element as z.ZodType, [...path, 0]);
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault
  ) {
    return stringLeaves(schema.unwrap() as z.ZodType, path);
  }
  if (schema instanceof z.ZodPipe) return stringLeaves(schema.in as z.ZodType, path);
  return [];
}

function withValueAt(message: unknown, path: Path, value: string): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(message) as Record<string | number, unknown>;
  let node = copy;
  for (const [index, key] of path.slice(0, -1).entries()) {
    node[key] ??= typeof path[index + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path.at(-1)!] = value;
  return copy;
}

function valueAt(message: unknown, path: Path): string {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string | number, unknown>)[key],
    message,
  ) as string;
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

const cases = edgeSchemas.flatMap(([name, schema]) =>
  stringLeaves(schema).map((leaf) => ({
    name,
    schema,
    leaf,
    title: `${name}${leaf.path.length > 0 ? `.${leaf.path.join('.')}` : ''}`,
  })),
);

describe('text fields of the contracts', () => {
  it('finds the request schemas, and each one with a string has a valid example', () => {
    expect(edgeSchemas.map(([name]) => name)).toEqual(
      expect.arrayContaining(['LoginRequestSchema', 'RecordingOpenSchema', 'AuditQuerySchema']),
    );
    for (const [name, schema] of edgeSchemas) {
      if (stringLeaves(schema).length === 0) continue;
      expect(VALID, `add a valid ${name} to VALID`).toHaveProperty(name);
      expect(schema.safeParse(VALID[name]).error, name).toBeUndefined();
    }
  });

  it.each(cases)('$title is bounded', ({ leaf }) => {
    // A length limit, or a format (uuid, datetime, a regex) that bounds it.
    expect(leaf.schema.maxLength ?? leaf.schema.format).not.toBeNull();
  });

  it.each(cases)('$title refuses NUL and unpaired surrogates', ({ name, schema, leaf }) => {
    for (const bad of ['ok\u0000', 'ok\uD800', '\uDC00ok', 'o\uDBFFk']) {
      expect(schema.safeParse(withValueAt(VALID[name], leaf.path, bad)).success).toBe(false);
    }
    // A well-formed pair is one ordinary character (U+1F600), not two halves.
    const paired = schema.safeParse(withValueAt(VALID[name], leaf.path, 'II😀'));
    if (paired.success) expect(stringsIn(paired.data).some((s) => s.includes('😀'))).toBe(true);
  });

  it.each(cases)(
    '$title yields only text PostgreSQL can store, whatever string arrives',
    ({ name, schema, leaf }) => {
      const maximum = leaf.schema.maxLength ?? Infinity;
      fc.assert(
        fc.property(hostileString, (hostile) => {
          const parsed = schema.safeParse(withValueAt(VALID[name], leaf.path, hostile));
          if (!parsed.success) return;
          for (const value of stringsIn(parsed.data)) expect(hasUnstorable(value)).toBe(false);
          // zod and PostgreSQL both count characters (code points), not UTF-16 units.
          expect([...valueAt(parsed.data, leaf.path)].length).toBeLessThanOrEqual(maximum);
        }),
        { numRuns: 60 },
      );
    },
  );
});

describe('toStorableText', () => {
  it('replaces exactly what isStorableText refuses, and leaves storable text alone', () => {
    expect(contracts.toStorableText('a\u0000b\uD800c\uDC00d\uD83D\uDE00')).toBe(
      'a\uFFFDb\uFFFDc\uFFFDd\uD83D\uDE00',
    );
    fc.assert(
      fc.property(hostileString, (value) => {
        const stored = contracts.toStorableText(value);
        expect(contracts.isStorableText(stored)).toBe(true);
        if (contracts.isStorableText(value)) expect(stored).toBe(value);
      }),
    );
  });
});
