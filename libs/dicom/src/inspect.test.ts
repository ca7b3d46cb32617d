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
      'INVALID_VALUE',
      /not a valid UID/,
    ],
    [
      'a UID longer than 64 characters',
      () => replaceValue(ct(), 'x00080018', `1.${'2'.repeat(70)}`),
      'INVALID_VALUE',
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

describe('inspectInstance refuses text it cannot decode with certainty (PS3.3 C.12.1.1.2)', () => {
  it.each([
    ['a misspelt ISO 2022 term', 'ISO_2022_IR_6'],
    [
      'ISO_IR 6, which is not a defined term (the default repertoire is an empty value)',
      'ISO_IR 6',
    ],
    ['a lower-case term', 'iso_ir 100'],
    ['a Windows code page name', 'WINDOWS-1252'],
    ['UTF-8 combined with ISO 2022 extensions', 'ISO 2022 IR 6\\ISO_IR 192'],
    ['a single-byte term without extensions as a second value', 'ISO 2022 IR 6\\ISO_IR 100'],
  ])('%s', (_name, term) => {
    const bytes = replaceValue(
      makeInstance({ specificCharacterSet: 'ISO_IR 100' }),
      'x00080005',
      term,
    );
    const refusal = refusalOf(inspectInstance(bytes));
    expect(refusal.code).toBe('INVALID_VALUE');
    expect(refusal.failureReason).toBe(0xa900);
    expect(refusal.reason).toMatch(/Specific Character Set \(0008,0005\).*decoded with certainty/);
  });

  it.each([
    ['absent (the default repertoire)', undefined],
    ['empty (the default repertoire)', ''],
    ['ISO_IR 100', 'ISO_IR 100'],
    ['ISO_IR 192', 'ISO_IR 192'],
    ['GB18030', 'GB18030'],
    ['GBK', 'GBK'],
    ['one ISO 2022 term', 'ISO 2022 IR 100'],
    ['ISO 2022 with an empty first value', '\\ISO 2022 IR 149'],
    ['ISO 2022 Japanese', 'ISO 2022 IR 13\\ISO 2022 IR 87'],
  ])('accepts %s', (_name, term) => {
    // replaceValue writes the bytes as given; dcmjs rewrites some multi-valued terms.
    const bytes =
      term === undefined
        ? makeInstance({ attributes: { SpecificCharacterSet: undefined } })
        : replaceValue(makeInstance({ specificCharacterSet: 'ISO_IR 100' }), 'x00080005', term);
    instanceOf(inspectInstance(bytes));
  });
  it('checks a character set named inside a sequence item too', () => {
    const item = (term: string) =>
      makeInstance({
        attributes: {
          OtherPatientIDsSequence: [
            { SpecificCharacterSet: term, PatientID: 'OTHER-1', IssuerOfPatientID: 'CLINIC' },
          ],
        },
      });
    expect(refusalOf(inspectInstance(item('ISO_IR 6'))).reason).toMatch(/Specific Character Set/);
    instanceOf(inspectInstance(item('GB18030')));
  });
});

describe('inspectInstance refuses dates and times the relay sorts and queries by when they are not DA/TM (PS3.5 Table 6.2-1)', () => {
  const ct = (attributes: Record<string, unknown>) => makeInstance({ sopClass: 'CT', attributes });
  it.each([
    ['a Study Date with dashes', { StudyDate: '2026-12-07' }, /Study Date \(0008,0020\)/],
    ['a Study Date in the ACR-NEMA form', { StudyDate: '2026.12.07' }, /Study Date \(0008,0020\)/],
    ['30 February as Series Date', { SeriesDate: '20260230' }, /Series Date \(0008,0021\)/],
    ['29 February of a common year', { ContentDate: '20250229' }, /Content Date \(0008,0023\)/],
    ['month 13 as birth date', { PatientBirthDate: '19701301' }, /Patient's Birth Date/],
    ['a six-digit Acquisition Date', { AcquisitionDate: '202612' }, /Acquisition Date/],
    [
      'a Series Time in the ACR-NEMA form, too long for TM',
      { SeriesTime: '09:11:02.00000000' },
      /Series Time \(0008,0031\)/,
    ],
    ['a Study Time with colons', { StudyTime: '09:11:02' }, /Study Time \(0008,0030\)/],
    ['a date in Study Time', { StudyTime: '20261207' }, /Study Time \(0008,0030\)/],
    ['hour 24', { ContentTime: '240000' }, /Content Time \(0008,0033\)/],
    ['minute 60', { AcquisitionTime: '106000' }, /Acquisition Time \(0008,0032\)/],
    ['seven fraction digits', { StudyTime: '101500.1234567' }, /Study Time/],
    ['a "." without a fraction', { StudyTime: '101500.' }, /Study Time/],
    ['hours and one minute digit', { StudyTime: '101' }, /Study Time/],
  ])('%s', (_name, attributes, reason) => {
    const refusal = refusalOf(inspectInstance(ct(attributes)));
    expect(refusal.code).toBe('INVALID_VALUE');
    expect(refusal.failureReason).toBe(0xa900);
    expect(refusal.reason).toMatch(reason);
    // Dates may identify a patient: the reason names the attribute, never its value.
    for (const value of Object.values(attributes) as string[]) {
      expect(refusal.reason).not.toContain(value);
    }
  });

  it.each([
    ['hours only', { StudyTime: '10' }],
    ['hours and minutes', { StudyTime: '1015' }],
    ['a six-digit fraction', { StudyTime: '101500.123456' }],
    ['a leap second', { SeriesTime: '235960' }],
    ['midnight', { ContentTime: '000000' }],
    ['29 February of a leap year', { StudyDate: '20240229' }],
    ['29 February 2000', { SeriesDate: '20000229' }],
    ['empty values (Type 2)', { StudyDate: '', StudyTime: '', PatientBirthDate: '' }],
    ['absent values', { StudyDate: undefined, StudyTime: undefined, PatientBirthDate: undefined }],
  ])('accepts %s', (_name, attributes) => {
    instanceOf(inspectInstance(ct(attributes)));
  });

  it('accepts a time padded with a trailing space to an even length', () => {
    const padded = replaceValue(makeInstance(), 'x00080030', '101500.12');
    expect(dicomParser.parseDicom(padded).string('x00080030')).toBe('101500.12');
    const raw = dicomParser.parseDicom(padded).elements['x00080030']!;
    expect(raw.length).toBe(10);
    expect(instanceOf(inspectInstance(padded)).study.time).toBe('101500.12');
  });

  it('refuses a value with a leading space', () => {
    const refusal = refusalOf(
      inspectInstance(replaceValue(makeInstance(), 'x00080030', ' 101500')),
    );
    expect(refusal.reason).toMatch(/Study Time/);
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
