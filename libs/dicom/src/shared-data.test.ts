import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeEcgWaveform,
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
  };

/** Files in dicom-bad/ that are accepted, and why that is right. */
const ACCEPTED_BAD: Record<string, { warning: RegExp; why: string }> = {
  'dcmjs/invalid-vr-length-test.dcm': {
    warning: /longer than .* allows/,
    why: 'values longer than their VR allows break no structure (every reader parses it, pixel data is consistent); accepted with a warning naming the element',
  },
  'suyashkumar-dicom/malformed-1.dcm': {
    warning: /not a defined term/,
    why: 'Specific Character Set "ISO_2022_IR_6" misspells "ISO 2022 IR 6" (plain ASCII); read as ASCII with a warning',
  },
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
      expect(recording.leads).toEqual([
        'I',
        'II',
        'III',
        'aVR',
        'aVL',
        'aVF',
        'V1',
        'V2',
        'V3',
        'V4',
        'V5',
        'V6',
      ]);
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
      '%s is refused with a reason (or accepted for a stated reason)',
      (name, path) => {
        const inspection = inspectInstance(readFileSync(path));
        outcomes.push(describeOutcome(`dicom-bad/${name}`, inspection));
        const accepted = ACCEPTED_BAD[name];
        if (accepted) {
          if (!inspection.ok) throw new Error(`now refused: ${inspection.refusal.reason}`);
          expect(inspection.instance.warnings.join('\n')).toMatch(accepted.warning);
          return;
        }
        if (inspection.ok) throw new Error(`accepted a malformed file: ${name}`);
        expect(inspection.refusal.reason).toMatch(/^[a-zA-Z]/);
        expect(inspection.refusal.failureReason).toBeGreaterThan(0);
      },
    );
  },
);
