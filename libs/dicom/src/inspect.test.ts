import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import {
  ACCEPTED_SOP_CLASSES,
  FAILURE_REASONS,
  inspectInstance,
  type DicomRefusalCode,
  type Inspection,
} from '#dicom';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  SYNTHETIC_SOP_CLASS_UIDS,
  jpegBaselineFrame,
  makeInstance,
  replaceValue,
  withNestedSequence,
  type SyntheticSopClass,
} from '#dicom/testing';

const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

function refusalOf(inspection: Inspection) {
  if (inspection.ok) throw new Error('expected a refusal, the instance was accepted');
  return inspection.refusal;
}
function instanceOf(inspection: Inspection) {
  if (!inspection.ok)
    throw new Error(`expected acceptance: ${inspection.refusal.code} ${inspection.refusal.reason}`);
  return inspection.instance;
}

describe('inspectInstance accepts each accepted SOP class', () => {
  const syntheticOf: Record<string, SyntheticSopClass> = {
    [SYNTHETIC_SOP_CLASS_UIDS.ECG12]: 'ECG12',
    [SYNTHETIC_SOP_CLASS_UIDS.ECG]: 'ECG',
    [SYNTHETIC_SOP_CLASS_UIDS.PDF]: 'PDF',
  };
  it.each(Object.entries(ACCEPTED_SOP_CLASSES))('%s (%s)', (uid) => {
    const sopClass = syntheticOf[uid];
    const bytes = sopClass
      ? makeInstance({ sopClass })
      : makeInstance({ sopClass: 'CT', attributes: { SOPClassUID: uid } });
    const instance = instanceOf(inspectInstance(bytes));
    expect(instance.sopClassUid).toBe(uid);
    expect(instance.isEcgWaveform).toBe(sopClass === 'ECG12' || sopClass === 'ECG');
    expect(instance.image === null).toBe(sopClass !== undefined);
  });

  it('reads identifiers, patient, study and image attributes of a CT slice', () => {
    const bytes = makeInstance({
      sopClass: 'CT',
      rows: 32,
      columns: 48,
      patientId: 'P-77',
      patientName: 'Li^Hua',
      accessionNumber: 'ACC-9',
      studyDate: '20261130',
      studyInstanceUid: '1.2.3.4',
      seriesInstanceUid: '1.2.3.4.5',
      sopInstanceUid: '1.2.3.4.5.6',
      windowCenter: 40,
      windowWidth: 400,
    });
    const instance = instanceOf(inspectInstance(bytes));
    expect(instance).toMatchObject({
      sopInstanceUid: '1.2.3.4.5.6',
      studyInstanceUid: '1.2.3.4',
      seriesInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      modality: 'CT',
      patient: { id: 'P-77', name: 'Li^Hua', sex: 'O', birthDate: '19700101' },
      study: { date: '20261130', accessionNumber: 'ACC-9' },
      series: { number: 1 },
      instanceNumber: 1,
      image: {
        rows: 32,
        columns: 48,
        samplesPerPixel: 1,
        bitsAllocated: 16,
        bitsStored: 12,
        photometricInterpretation: 'MONOCHROME2',
        numberOfFrames: 1,
        windowCenter: 40,
        windowWidth: 400,
        rescaleSlope: 1,
        rescaleIntercept: -1024,
      },
      pixelData: { length: 32 * 48 * 2, encapsulated: false },
    });
    // The offset points at the pixel values themselves.
    const view = new DataView(bytes.buffer, bytes.byteOffset + instance.pixelData!.offset, 4);
    expect(view.getUint16(2, true)).toBeGreaterThan(view.getUint16(0, true));
  });

  it.each([
    ['Implicit VR Little Endian', 'implicit'],
    ['Deflated Explicit VR Little Endian', DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN],
  ])('accepts %s', (_name, transferSyntax) => {
    const bytes = makeInstance({ sopClass: 'MR', frames: 2, transferSyntax });
    const instance = instanceOf(inspectInstance(bytes));
    expect(instance.image?.numberOfFrames).toBe(2);
    expect(instance.json['00100020']).toEqual({ vr: 'LO', Value: ['TEST-0001'] });
  });

  it('accepts encapsulated JPEG Baseline frames and checks the frame header', () => {
    const frames = [jpegBaselineFrame(16, 8, 1), jpegBaselineFrame(16, 8, 2)];
    const options = {
      sopClass: 'SC' as const,
      rows: 8,
      columns: 16,
      frames: 2,
      photometricInterpretation: 'RGB' as const,
      transferSyntax: JPEG_BASELINE,
      pixelData: frames,
      attributes: { PhotometricInterpretation: 'YBR_FULL_422' },
    };
    const instance = instanceOf(inspectInstance(makeInstance(options)));
    expect(instance.pixelData?.encapsulated).toBe(true);
    const wrongSize = refusalOf(
      inspectInstance(makeInstance({ ...options, attributes: { ...options.attributes, Rows: 9 } })),
    );
    expect(wrongSize.code).toBe('PIXEL_DATA_MISMATCH');
    expect(wrongSize.reason).toMatch(/JPEG frame is 16×8/);
  });
});

describe('inspectInstance refuses, with a code, a reason and a PS3.4 status', () => {
  const ct = (options: Parameters<typeof makeInstance>[0] = {}) =>
    makeInstance({ sopClass: 'CT', ...options });
  const cases: [string, () => Uint8Array, DicomRefusalCode, RegExp][] = [
    [
      'bytes that are not DICOM',
      () => new TextEncoder().encode('{"not":"dicom"}'),
      'NOT_DICOM',
      /DICM/,
    ],
    ['a file without the 128-byte preamble', () => ct().subarray(128), 'NOT_DICOM', /DICM/],
    [
      'a file cut short inside Pixel Data',
      () => ct().subarray(0, ct().length - 100),
      'TRUNCATED',
      /Pixel Data/,
    ],
    [
      'a file cut short inside an element header',
      () => ct().subarray(0, 400 + 3),
      'TRUNCATED',
      /ends|longer/,
    ],
    [
      'a missing Study Instance UID',
      () => ct({ attributes: { StudyInstanceUID: undefined } }),
      'MISSING_ATTRIBUTE',
      /Study Instance UID/,
    ],
    [
      'a UID with letters in it',
      () => ct({ seriesInstanceUid: '1.2.abc.4' }),
      'MISSING_ATTRIBUTE',
      /not a valid UID/,
    ],
    [
      'a UID longer than 64 characters',
      () => replaceValue(ct(), 'x00080018', `1.${'2'.repeat(70)}`),
      'MISSING_ATTRIBUTE',
      /not a valid UID/,
    ],
    [
      'an image without Rows',
      () => ct({ attributes: { Rows: undefined } }),
      'MISSING_ATTRIBUTE',
      /Rows/,
    ],
    [
      'a PDF that is not a PDF',
      () =>
        makeInstance({
          sopClass: 'PDF',
          attributes: { MIMETypeOfEncapsulatedDocument: 'text/plain' },
        }),
      'MISSING_ATTRIBUTE',
      /application\/pdf/,
    ],
    [
      'an ECG without a Waveform Sequence',
      () => makeInstance({ sopClass: 'ECG12', attributes: { WaveformSequence: undefined } }),
      'MISSING_ATTRIBUTE',
      /Waveform Sequence/,
    ],
    [
      'an RT Dose (a class not accepted)',
      () => ct({ attributes: { SOPClassUID: '1.2.840.10008.5.1.4.1.1.481.2' } }),
      'SOP_CLASS_NOT_ACCEPTED',
      /1\.2\.840\.10008\.5\.1\.4\.1\.1\.481\.2/,
    ],
    [
      'MPEG-2 (a syntax not accepted)',
      () => ct({ transferSyntax: '1.2.840.10008.1.2.4.100', pixelData: [new Uint8Array(10)] }),
      'TRANSFER_SYNTAX_NOT_ACCEPTED',
      /1\.2\.840\.10008\.1\.2\.4\.100/,
    ],
    [
      'Pixel Data one row short',
      () => ct({ rows: 4, columns: 4, pixelData: new Uint8Array(4 * 3 * 2) }),
      'PIXEL_DATA_MISMATCH',
      /holds 24 bytes.*needs 32/,
    ],
    [
      'Pixel Data one frame long',
      () => ct({ rows: 4, columns: 4, pixelData: new Uint8Array(4 * 4 * 2 * 2) }),
      'PIXEL_DATA_MISMATCH',
      /needs 32/,
    ],
    [
      'Number of Frames that is not a number',
      () => ct({ frames: 2, attributes: { NumberOfFrames: '2A' } }),
      'PIXEL_DATA_MISMATCH',
      /Number of Frames/,
    ],
    [
      'three frames in two fragments',
      () =>
        ct({
          rows: 8,
          columns: 16,
          frames: 3,
          transferSyntax: JPEG_BASELINE,
          pixelData: [jpegBaselineFrame(16, 8, 1), jpegBaselineFrame(16, 8, 2)],
          photometricInterpretation: 'RGB',
          attributes: { PhotometricInterpretation: 'YBR_FULL_422' },
        }),
      'PIXEL_DATA_MISMATCH',
      /lists 2 frames, but Number of Frames is 3/,
    ],
  ];

  it.each(cases)('%s', (_name, make, code, reason) => {
    const refusal = refusalOf(inspectInstance(make()));
    expect(refusal.code).toBe(code);
    expect(refusal.reason).toMatch(reason);
    expect(refusal.failureReason).toBe(FAILURE_REASONS[code]);
  });

  it('names the SOP class and instance of a refused class, and maps it to 0x0122', () => {
    const bytes = ct({
      sopInstanceUid: '1.2.3.99',
      attributes: { SOPClassUID: '1.2.840.10008.5.1.4.1.1.481.2' },
    });
    expect(refusalOf(inspectInstance(bytes))).toMatchObject({
      failureReason: 0x0122,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.481.2',
      sopInstanceUid: '1.2.3.99',
    });
  });

  it('allows the one pad byte after odd-length native Pixel Data, and no more', () => {
    // 3 × 3 × 8 bits = 9 bytes; the value is padded to 10 (PS3.5 §7.1.1).
    const padded = ct({
      rows: 3,
      columns: 3,
      bitsAllocated: 8,
      pixelData: new Uint8Array(10).fill(7),
    });
    expect(instanceOf(inspectInstance(padded)).pixelData?.length).toBe(10);
    const over = ct({ rows: 3, columns: 3, bitsAllocated: 8, pixelData: new Uint8Array(12) });
    expect(refusalOf(inspectInstance(over)).code).toBe('PIXEL_DATA_MISMATCH');
  });

  it('refuses Waveform Data shorter than channels × samples', () => {
    const bytes = makeInstance({
      sopClass: 'ECG12',
      waveform: { leads: ['I', 'II'], sampleRateHz: 500, samples: new Int16Array(2 * 100) },
    });
    const parsed = dicomParser.parseDicom(bytes);
    const group = parsed.elements['x54000100']!.items![0]!.dataSet!;
    // Claim one sample more than Waveform Data holds: patch Number of Waveform Samples in place.
    const samples = group.elements['x003a0010']!;
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(samples.dataOffset, 101, true);
    const refusal = refusalOf(inspectInstance(bytes));
    expect(refusal.code).toBe('PIXEL_DATA_MISMATCH');
    expect(refusal.reason).toMatch(/Waveform Data .* holds 400 bytes.*needs 404/);
  });

  it('refuses a sequence nested 10,000 deep as TOO_DEEP, without throwing', () => {
    const deep = withNestedSequence(ct(), 10_000);
    // dicom-parser alone overflows its stack on this file; that is what the pre-scan prevents.
    expect(() => dicomParser.parseDicom(deep)).toThrow();
    let inspection: Inspection | undefined;
    expect(() => (inspection = inspectInstance(deep))).not.toThrow();
    expect(refusalOf(inspection!)).toMatchObject({ code: 'TOO_DEEP', failureReason: 0xa700 });
    expect(refusalOf(inspection!).reason).toMatch(/nested more than 32 levels/);
  });

  it.each([
    ['an Implicit VR file', 'implicit'],
    ['UN with an undefined length (items in implicit VR)', 'un'],
  ] as const)('refuses deep nesting in %s as TOO_DEEP too', (_name, encoding) => {
    const file = ct({ transferSyntax: encoding === 'implicit' ? 'implicit' : 'explicit' });
    const deep = withNestedSequence(file, 10_000, encoding);
    expect(() => dicomParser.parseDicom(deep)).toThrow();
    expect(refusalOf(inspectInstance(deep)).code).toBe('TOO_DEEP');
    expect(inspectInstance(withNestedSequence(file, 3, encoding)).ok).toBe(true);
  });

  it('accepts nesting within the limit', () => {
    expect(inspectInstance(withNestedSequence(ct(), 5)).ok).toBe(true);
    expect(refusalOf(inspectInstance(withNestedSequence(ct(), 5), { maxDepth: 4 })).code).toBe(
      'TOO_DEEP',
    );
  });

  it('refuses a file over the byte or element limits as TOO_LARGE', () => {
    const bytes = ct();
    expect(refusalOf(inspectInstance(bytes, { maxBytes: bytes.length - 1 })).code).toBe(
      'TOO_LARGE',
    );
    expect(refusalOf(inspectInstance(bytes, { maxElements: 10 }))).toMatchObject({
      code: 'TOO_LARGE',
      reason: expect.stringMatching(/more than 10 data elements/),
    });
  });

  it('refuses a delimiter out of place as UNREADABLE', () => {
    const bytes = ct();
    const stray = new Uint8Array(bytes.length + 8);
    stray.set(bytes);
    stray.set([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0], bytes.length);
    expect(refusalOf(inspectInstance(stray))).toMatchObject({
      code: 'UNREADABLE',
      failureReason: 0xc000,
    });
  });

  it('keeps patient data out of the reason', () => {
    const bytes = ct({
      patientName: 'Zhang^Wei',
      patientId: 'ID-SECRET',
      attributes: { StudyInstanceUID: undefined },
    });
    const refusal = refusalOf(inspectInstance(bytes));
    expect(JSON.stringify(refusal)).not.toMatch(/Zhang|SECRET/);
  });
});

describe('inspectInstance DICOM JSON (PS3.18 §F.2)', () => {
  it('writes VRs, numbers, person names and sequences, and leaves bulk data out', () => {
    const bytes = makeInstance({
      sopClass: 'CT',
      patientName: 'Wang^Wei',
      attributes: {
        SliceThickness: 2.5,
        ReferencedStudySequence: [
          { ReferencedSOPClassUID: '1.2.3', ReferencedSOPInstanceUID: '1.2.3.4' },
        ],
      },
    });
    const { json } = instanceOf(inspectInstance(bytes));
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Wang^Wei' }] });
    expect(json['00180050']).toEqual({ vr: 'DS', Value: [2.5] });
    expect(json['00280010']).toEqual({ vr: 'US', Value: [64] });
    expect(json['00200013']).toEqual({ vr: 'IS', Value: [1] });
    expect(json['00081110']).toEqual({
      vr: 'SQ',
      Value: [
        {
          '00081150': { vr: 'UI', Value: ['1.2.3'] },
          '00081155': { vr: 'UI', Value: ['1.2.3.4'] },
        },
      ],
    });
    expect(json['7FE00010']).toBeUndefined();
    expect(Object.keys(json).some((key) => key.startsWith('0002'))).toBe(false);
  });

  it('keeps short binary values inline and leaves long ones out', () => {
    const { json } = instanceOf(
      inspectInstance(
        makeInstance({
          attributes: {
            ICCProfile: Uint8Array.of(1, 2, 3, 4).buffer,
            RedPaletteColorLookupTableData: new Uint8Array(1024).buffer,
            _vrMap: { PixelData: 'OW', RedPaletteColorLookupTableData: 'OW' },
          },
        }),
      ),
    );
    expect(json['00282000']).toEqual({ vr: 'OB', InlineBinary: 'AQIDBA==' });
    expect(json['00281201']).toBeUndefined();
  });

  it('uses the dictionary for VRs of an Implicit VR file', () => {
    const { json } = instanceOf(
      inspectInstance(makeInstance({ sopClass: 'CT', transferSyntax: 'implicit' })),
    );
    expect(json['00280010']).toEqual({ vr: 'US', Value: [64] });
    expect(json['00080020']).toEqual({ vr: 'DA', Value: ['20261207'] });
  });

  it('reads a Chinese name in UTF-8 (ISO_IR 192)', () => {
    const { json, patient } = instanceOf(
      inspectInstance(makeInstance({ patientName: '张^伟', specificCharacterSet: 'ISO_IR 192' })),
    );
    expect(json['00100010']?.Value).toEqual([{ Alphabetic: '张^伟' }]);
    expect(patient.name).toBe('张^伟');
  });

  it.each(['GB18030', 'GBK'])('reads a Chinese name in %s', (charset) => {
    // dcmjs writes UTF-8 only, so the GB bytes of 张三 (D5C5 C8FD) are put in afterwards.
    const bytes = replaceValue(
      makeInstance({ specificCharacterSet: charset }),
      'x00100010',
      Uint8Array.of(0xd5, 0xc5, 0xc8, 0xfd),
    );
    const instance = instanceOf(inspectInstance(bytes));
    expect(instance.patient.name).toBe('张三');
    expect(instance.json['00080005']).toEqual({ vr: 'CS', Value: [charset] });
  });

  it('reads Latin-1 names (ISO_IR 100)', () => {
    const bytes = replaceValue(
      makeInstance({ specificCharacterSet: 'ISO_IR 100' }),
      'x00100010',
      Uint8Array.of(0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72), // Müller
    );
    expect(instanceOf(inspectInstance(bytes)).patient.name).toBe('Müller');
  });
});
