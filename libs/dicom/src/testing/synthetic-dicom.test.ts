import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import {
  IMPLICIT_VR_LITTLE_ENDIAN,
  SYNTHETIC_SOP_CLASS_UIDS,
  makeInstance,
  type SyntheticSopClass,
} from '#dicom/testing';

describe('makeInstance (synthetic DICOM for tests)', () => {
  it.each(Object.keys(SYNTHETIC_SOP_CLASS_UIDS) as SyntheticSopClass[])(
    'writes a Part 10 %s file that dicom-parser reads back',
    (sopClass) => {
      const bytes = makeInstance({ sopClass, patientId: 'P-42', accessionNumber: 'A-7' });
      expect(String.fromCharCode(...bytes.subarray(128, 132))).toBe('DICM');
      const dataSet = dicomParser.parseDicom(bytes);
      expect(dataSet.string('x00080016')).toBe(SYNTHETIC_SOP_CLASS_UIDS[sopClass]);
      expect(dataSet.string('x00100020')).toBe('P-42');
      expect(dataSet.string('x00080050')).toBe('A-7');
    },
  );

  it('writes the options it is given: size, frames, syntax', () => {
    const bytes = makeInstance({ rows: 10, columns: 20, frames: 3, transferSyntax: 'implicit' });
    const dataSet = dicomParser.parseDicom(bytes);
    expect(dataSet.string('x00020010')).toBe(IMPLICIT_VR_LITTLE_ENDIAN);
    expect(dataSet.uint16('x00280010')).toBe(10);
    expect(dataSet.uint16('x00280011')).toBe(20);
    expect(dataSet.intString('x00280008')).toBe(3);
    expect(dataSet.elements['x7fe00010']?.length).toBe(10 * 20 * 3 * 2);
  });
});
