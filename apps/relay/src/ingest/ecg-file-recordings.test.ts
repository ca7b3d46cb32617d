import { describe, expect, it } from 'vitest';
import { ecgFileRecordingId } from './ecg-file-recordings.js';

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
