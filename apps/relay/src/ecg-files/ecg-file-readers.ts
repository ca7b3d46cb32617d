import type { EcgFileFormatName } from '#contracts';
import { readHl7Aecg, readScpEcg, sniffEcgFileFormat, type EcgFileRecording } from '#ecg';

/**
 * Which format a file is, from its content only (never its name or the request's
 * Content-Type, which a clinic PC sets however it likes): libs/ecg's sniffing.
 */
export function recogniseEcgFile(bytes: Uint8Array): EcgFileFormatName | null {
  return sniffEcgFileFormat(bytes);
}

/** Reads an SCP-ECG or HL7 aECG file with libs/ecg; throws EcgFileError with the reason. */
export function readEcgFile(
  format: Exclude<EcgFileFormatName, 'dicom-ecg'>,
  bytes: Uint8Array,
): EcgFileRecording {
  switch (format) {
    case 'scp-ecg':
      return readScpEcg(bytes);
    case 'hl7-aecg':
      return readHl7Aecg(bytes);
  }
}
