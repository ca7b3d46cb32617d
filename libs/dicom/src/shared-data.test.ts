import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { TWELVE_LEADS } from '#contracts';
import {
  decodeEcgWaveform,
  FAILURE_REASONS,
  frameOf,
  inspectInstance,
  renderThumbnail,
  type DicomRefusalCode,
  type Inspection,
} from '#dicom';

/**
 * Public third-party files in ../shared/data (origins in its SOURCES.md), read in place and
 * never copied into the repository. Skipped, with the reason in the title, when absent.
 */
const SHARED = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const GOOD = join(SHARED, 'dicom');
const BAD = join(SHARED, 'dicom-bad');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(md|txt)$/i.test(name) ? [] : [path];
  });
}

/** Refusals that come from the accepted lists, not from a defect of the file. */
const LIST_REASONS: DicomRefusalCode[] = ['SOP_CLASS_NOT_ACCEPTED', 'TRANSFER_SYNTAX_NOT_ACCEPTED'];

/** Files in dicom/ that do not conform, and why refusing them is right by the standard. */
const NONCONFORMING_GOOD: Record<string, { code: DicomRefusalCode; reason: RegExp; why: string }> =
  {
    'pydicom/JPEGLSNearLossless_08.dcm': {
      code: 'MISSING_ATTRIBUTE',
      reason: /Study Instance UID/,
      why: 'a codec test file without Study Instance UID, which is Type 1 (PS3.3 C.7.2.1)',
    },
    'pydicom-data/HTJ2KLossless_08_RGB.dcm': {
      code: 'MISSING_ATTRIBUTE',
      reason: /Study Instance UID/,
      why: 'a codec test file without Study Instance UID, which is Type 1 (PS3.3 C.7.2.1)',
    },
    'dcmjs/fragment-multiframe-test.dcm': {
      code: 'INVALID_VALUE',
      reason: /Study Time \(0008,0030\)/,
      why: 'a fragmentation test file whose Study Time holds a date (8 digits, no "."), which no reading of TM (PS3.5 Table 6.2-1) makes a time; the relay would sort and match the study by a time it does not have',
    },
  };

/**
 * What each file in dicom-bad/ is refused for. A file not listed here (the folder may grow)
 * must still be refused, with the status its code answers with.
 */
const BAD_REFUSALS: Record<string, DicomRefusalCode> = {
  'dcmjs/invalid-vr-length-test.dcm': 'INVALID_VALUE', // Series Time in the ACR-NEMA form, 17 characters
  'dcmjs/no-meta-length-test.dcm': 'SOP_CLASS_NOT_ACCEPTED',
  'dcmjs/zero-length-US.dcm': 'TRUNCATED',
  'pydicom-data/bad_sequence.dcm': 'INVALID_VALUE',
  'pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm': 'TRUNCATED',
  'pydicom/ExplVR_LitEndNoMeta.dcm': 'NOT_DICOM',
  'pydicom/GDCMJ2K_TextGBR.dcm': 'PIXEL_DATA_MISMATCH',
  'pydicom/J2K_pixelrep_mismatch.dcm': 'PIXEL_DATA_MISMATCH',
  'pydicom/JPEG2000-embedded-sequence-delimiter.dcm': 'PIXEL_DATA_MISMATCH',
  'pydicom/MR_truncated.dcm': 'TRUNCATED',
  'pydicom/SC_rgb_jpeg.dcm': 'TRUNCATED',
  'pydicom/badVR.dcm': 'SOP_CLASS_NOT_ACCEPTED',
  'pydicom/meta_missing_tsyntax.dcm': 'MISSING_ATTRIBUTE',
  'pydicom/no_meta.dcm': 'NOT_DICOM',
  'pydicom/rtplan_truncated.dcm': 'TRUNCATED',
  'suyashkumar-dicom/malformed-1.dcm': 'INVALID_VALUE', // Specific Character Set "ISO_2022_IR_6"
};

const outcomes: string[] = [];
function describeOutcome(file: string, inspection: Inspection): string {
  return inspection.ok
    ? `${file}: accepted (${inspection.instance.transferSyntaxUid}${inspection.instance.warnings.length ? `; warnings: ${inspection.instance.warnings.join('; ')}` : ''})`
    : `${file}: refused ${inspection.refusal.code} 0x${inspection.refusal.failureReason.toString(16).padStart(4, '0')} — ${inspection.refusal.reason}`;
}

afterAll(() => {
  if (outcomes.length) process.stdout.write(`\n${outcomes.sort().join('\n')}\n`);
});

const goodFiles = filesUnder(GOOD);
describe.skipIf(goodFiles.length === 0)(
  'inspectInstance on the real files in ../shared/data/dicom (skipped when that folder is absent)',
  () => {
    it.each(goodFiles.map((path) => [relative(GOOD, path), path]))(
      '%s is accepted, or refused for an accepted-list reason',
      (name, path) => {
        const bytes = readFileSync(path);
        const inspection = inspectInstance(bytes);
        outcomes.push(describeOutcome(`dicom/${name}`, inspection));
        if (!inspection.ok) {
          const known = NONCONFORMING_GOOD[name];
          if (known) {
            expect(inspection.refusal.code).toBe(known.code);
            expect(inspection.refusal.reason).toMatch(known.reason);
          } else {
            expect(LIST_REASONS).toContain(inspection.refusal.code);
          }
          return;
        }
        const { instance } = inspection;
        expect(NONCONFORMING_GOOD[name]).toBeUndefined();
        expect(instance.json['00080018']?.Value).toEqual([instance.sopInstanceUid]);
        expect(instance.json['7FE00010']).toBeUndefined();
        if (instance.image) {
          for (let n = 1; n <= instance.image.numberOfFrames; n++) {
            expect(frameOf(bytes, instance, n).length).toBeGreaterThan(0);
          }
          const png = renderThumbnail(bytes, instance, 64);
          if (instance.pixelData && !instance.pixelData.encapsulated) {
            expect(png).not.toBeNull();
          }
          if (png) expect(new Set(decodePng(png).data).size).toBeGreaterThan(1);
        }
      },
    );

    it('decodes the 12-lead ECG of pydicom waveform_ecg.dcm into named leads', () => {
      const bytes = readFileSync(join(GOOD, 'pydicom/waveform_ecg.dcm'));
      const inspection = inspectInstance(bytes);
      if (!inspection.ok) throw new Error(inspection.refusal.reason);
      const recording = decodeEcgWaveform(bytes, inspection.instance);
      expect(recording.leads).toEqual([...TWELVE_LEADS]);
      expect(recording.examKind).toBe('resting-12-lead');
      expect(recording.multiplexGroup).toMatchObject({ index: 1, of: 2 });
      expect(recording.samples.length).toBe(12 * 10_000);
      // A real ECG: lead II swings by hundreds of microvolts, not by a few units or by volts.
      let low = Infinity;
      let high = -Infinity;
      for (let i = 1; i < recording.samples.length; i += 12) {
        low = Math.min(low, recording.samples[i]!);
        high = Math.max(high, recording.samples[i]!);
      }
      const swingMicrovolts = (high - low) * recording.microvoltsPerLsb;
      expect(swingMicrovolts).toBeGreaterThan(300);
      expect(swingMicrovolts).toBeLessThan(10_000);
      // The Mortara cart's own measurements and statements (Waveform Annotation Sequence),
      // as dcmdump lists them: RR 982, PR 161, QRS 75, QT 368, QTc 370, axes 74/52/57.
      expect(recording.deviceMeasurements).toEqual({
        heartRateBpm: 61,
        rrMs: 982,
        prMs: 161,
        qrsMs: 75,
        qtMs: 368,
        qtcMs: 370,
        pAxisDeg: 74,
        qrsAxisDeg: 52,
        tAxisDeg: 57,
        statements: ['RITMO SINUSALE', 'ECG NORMALE'],
      });
    });

    it('reads the deflated image and the big-endian CT like their plain twins', () => {
      const read = (file: string) => {
        const bytes = readFileSync(join(GOOD, file));
        const inspection = inspectInstance(bytes);
        if (!inspection.ok) throw new Error(inspection.refusal.reason);
        return frameOf(bytes, inspection.instance, 1);
      };
      const bigEndian = read('dicomParser/CT1_UNC.explicit_big_endian.dcm');
      const littleEndian = read('dicomParser/CT1_UNC.explicit_little_endian.dcm');
      expect(bigEndian.length).toBe(512 * 512 * 2);
      expect(Buffer.compare(bigEndian, littleEndian)).toBe(0);
      expect(read('dicomParser/image_dfl.dcm').length).toBe(512 * 512);
    });
  },
);

const badFiles = filesUnder(BAD);
describe.skipIf(badFiles.length === 0)(
  'inspectInstance on the malformed files in ../shared/data/dicom-bad (skipped when that folder is absent)',
  () => {
    it.each(badFiles.map((path) => [relative(BAD, path), path]))(
      '%s is refused, with its code, a reason and the status of that code',
      (name, path) => {
        const inspection = inspectInstance(readFileSync(path));
        outcomes.push(describeOutcome(`dicom-bad/${name}`, inspection));
        if (inspection.ok) throw new Error(`accepted a malformed file: ${name}`);
        const { refusal } = inspection;
        const expected = BAD_REFUSALS[name];
        if (expected) expect(refusal.code).toBe(expected);
        expect(refusal.reason).toMatch(/^[a-zA-Z]/);
        expect(refusal.failureReason).toBe(FAILURE_REASONS[refusal.code]);
      },
    );
  },
);
