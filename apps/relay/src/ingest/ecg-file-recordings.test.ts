import { describe, expect, it } from 'vitest';
import { examKindOf, ecgFileRecordingId, startedAtOf } from './ecg-file-recordings.js';

describe('ecgFileRecordingId', () => {
  it('is the RFC 9562 UUIDv5 of clinic and file key (a SOP Instance UID here) (checked against Python uuid.uuid5)', () => {
    // python3 -c "import uuid;print(uuid.uuid5(uuid.UUID('6f1c7a52-3c1e-4b8e-9a57-0d6a2f4c9b13'),'clinic-1\n1.2.840.113619.2.1'))"
    expect(ecgFileRecordingId('clinic-1', '1.2.840.113619.2.1')).toBe(
      'f25386bd-d6c9-5e45-98f0-191aeebb7156',
    );
  });

  it('is the same on every re-send and differs between clinics and instances', () => {
    const id = ecgFileRecordingId('clinic-1', '1.2.3');
    expect(ecgFileRecordingId('clinic-1', '1.2.3')).toBe(id);
    expect(ecgFileRecordingId('clinic-2', '1.2.3')).not.toBe(id);
    expect(ecgFileRecordingId('clinic-1', '1.2.4')).not.toBe(id);
  });
});

describe('startedAtOf', () => {
  it('keeps a zoned time as its UTC instant, without a warning', () => {
    const warnings: string[] = [];
    expect(startedAtOf('2026-03-01T10:00:00+08:00', warnings)).toBe('2026-03-01T02:00:00.000Z');
    expect(startedAtOf('2026-03-01T10:00:00Z', warnings)).toBe('2026-03-01T10:00:00.000Z');
    expect(warnings).toEqual([]);
  });

  it("reads a cart's wall-clock time in the region's zone (China Standard Time) and says so", () => {
    const warnings: string[] = [];
    expect(startedAtOf('2002-11-22T09:10:00', warnings)).toBe('2002-11-22T01:10:00.000Z');
    expect(warnings).toEqual(['the acquisition time has no time zone; read as Asia/Shanghai']);
  });

  it('leaves out a time it cannot read', () => {
    const warnings: string[] = [];
    expect(startedAtOf('22/11/2002', warnings)).toBeNull();
    expect(startedAtOf(null, warnings)).toBeNull();
    expect(warnings).toHaveLength(1);
  });
});

describe('examKindOf', () => {
  it('is a resting 12-lead ECG with all twelve leads in any order, else a rhythm strip', () => {
    expect(
      examKindOf(['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6', 'III', 'aVR', 'aVL', 'aVF']),
    ).toBe('resting-12-lead');
    expect(examKindOf(['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'])).toBe('rhythm-strip');
  });
});
