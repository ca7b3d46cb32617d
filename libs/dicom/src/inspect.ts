import { DicomParseError, readDicomMetadata } from './dicom-metadata.js';
import type { DicomRefusal, InspectLimits, Inspection } from './types.js';

export const ACCEPTED_SOP_CLASSES: Readonly<Record<string, string>> = {
  '1.2.840.10008.5.1.4.1.1.1': 'Computed Radiography Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'Digital X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.4': 'MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.1': 'Multi-frame Single Bit Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.4': 'Multi-frame True Color Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF Storage',
  '1.2.840.10008.5.1.4.1.1.9.1.1': '12-lead ECG Waveform Storage',
  '1.2.840.10008.5.1.4.1.1.9.1.2': 'General ECG Waveform Storage',
};

export const ACCEPTED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
};

/** Seam: delegates to readDicomMetadata until the full inspection lands. Never throws. */
export function inspectInstance(bytes: Uint8Array, limits: InspectLimits = {}): Inspection {
  void limits;
  try {
    const m = readDicomMetadata(bytes);
    return {
      ok: true,
      instance: {
        sopClassUid: m.sopClassUid,
        sopInstanceUid: m.sopInstanceUid,
        studyInstanceUid: m.studyInstanceUid,
        seriesInstanceUid: m.seriesInstanceUid,
        transferSyntaxUid: m.transferSyntaxUid,
        modality: m.modality,
        patient: { id: null, name: null, sex: null, birthDate: null },
        study: { date: null, time: null, description: null, accessionNumber: null },
        series: { number: null, description: null, bodyPart: null },
        instanceNumber: null,
        image: null,
        pixelData: null,
        isEcgWaveform: m.sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.9.1.'),
        json: {},
        warnings: m.warnings,
      },
    };
  } catch (error) {
    const refusal: DicomRefusal =
      error instanceof DicomParseError
        ? { code: error.code, reason: error.message, failureReason: 0xc000 }
        : { code: 'UNREADABLE', reason: 'the file cannot be read as DICOM', failureReason: 0xc000 };
    return { ok: false, refusal };
  }
}
