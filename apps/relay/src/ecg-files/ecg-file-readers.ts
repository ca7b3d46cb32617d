import type { EcgFileFormatName } from '#contracts';
import type { EcgFileRecording } from '#ecg';

/**
 * Which format a file is, from its content only (never its name or the request's Content-Type,
 * which a clinic PC sets however it likes). A DICOM Part 10 file has "DICM" after its
 * 128-byte preamble (PS3.10 §7.1).
 */
export function recogniseEcgFile(bytes: Uint8Array): EcgFileFormatName | null {
  if (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  ) {
    return 'dicom-ecg';
  }
  return null;
}

/** Reads an SCP-ECG or HL7 aECG file; throws EcgFileError with the reason. */
export function readEcgFile(
  format: Exclude<EcgFileFormatName, 'dicom-ecg'>,
  _bytes: Uint8Array,
): EcgFileRecording {
  throw new Error(`no reader for ${format} yet`);
}
