import { describe, expect, it } from 'vitest';
import { inspectInstance } from '#dicom';
import { makeInstance } from '#dicom/testing';
import { IMPLEMENTATION_CLASS_UID, part10Header } from './part10-header.js';

describe('part10Header (PS3.10 §7.1)', () => {
  it('with a C-STORE dataset after it, makes a file libs/dicom reads with the same UIDs', () => {
    const original = Buffer.from(makeInstance({ sopClass: 'CT', rows: 8, columns: 8 }));
    const metaLength = original.readUInt32LE(140);
    const dataset = original.subarray(144 + metaLength);
    const before = inspectInstance(original);
    if (!before.ok) throw new Error('generator made an unreadable file');
    const { sopClassUid, sopInstanceUid, transferSyntaxUid } = before.instance;
    const file = Buffer.concat([
      part10Header({ sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle: 'CT1' }),
      dataset,
    ]);
    const after = inspectInstance(file);
    expect(after.ok && after.instance).toMatchObject({
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid,
    });
    expect(file.subarray(128, 132).toString('ascii')).toBe('DICM');
    expect(file.includes(Buffer.from(IMPLEMENTATION_CLASS_UID))).toBe(true);
  });

  it('keeps every element at even length, odd UIDs padded', () => {
    const header = part10Header({
      sopClassUid: '1.2.3',
      sopInstanceUid: '1.2.34',
      transferSyntaxUid: '1.2.840.10008.1.2',
    });
    expect(header.length % 2).toBe(0);
    const groupLength = header.readUInt32LE(140);
    expect(header.length).toBe(144 + groupLength);
  });
});
