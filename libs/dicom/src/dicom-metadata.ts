import dicomParser from 'dicom-parser';

/** What the relay needs from a DICOM instance to route and deduplicate it (no pixel data). */
export interface DicomMetadata {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  modality: string | null;
  rows: number | null;
  columns: number | null;
  numberOfFrames: number;
  /** Non-fatal findings from the parser and from our own checks. */
  warnings: string[];
}

export class DicomParseError extends Error {
  constructor(
    readonly code: 'NOT_DICOM' | 'TRUNCATED' | 'MISSING_ATTRIBUTE' | 'UNREADABLE',
    message: string,
  ) {
    super(message);
    this.name = 'DicomParseError';
  }
}

/** Tags in dicom-parser's xGGGGEEEE form; names as in DICOM PS3.6. */
const TAG = {
  transferSyntaxUid: 'x00020010',
  sopClassUid: 'x00080016',
  sopInstanceUid: 'x00080018',
  modality: 'x00080060',
  studyInstanceUid: 'x0020000d',
  seriesInstanceUid: 'x0020000e',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
} as const;

/**
 * Reads the identifying attributes of a DICOM Part 10 file (PS3.10 §7.1: 128-byte preamble,
 * "DICM", File Meta Information). Truncated or non-DICOM input throws DicomParseError; it
 * never returns a half-read instance as if it were whole.
 */
export function readDicomMetadata(bytes: Uint8Array): DicomMetadata {
  if (bytes.byteLength < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    throw new DicomParseError('NOT_DICOM', 'no DICM prefix at offset 128 (PS3.10 §7.1)');
  }
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes);
  } catch (error) {
    // dicom-parser throws strings, or objects carrying { exception, dataSet }.
    const reason =
      typeof error === 'string'
        ? error
        : ((error as { exception?: string }).exception ?? String(error));
    const truncated = /buffer overr(un|ead)|end of buffer|past the end|truncated/i.test(reason);
    throw new DicomParseError(
      truncated ? 'TRUNCATED' : 'UNREADABLE',
      `cannot parse DICOM: ${reason}`,
    );
  }
  const required = (tag: string, name: string): string => {
    const value = dataSet.string(tag)?.trim();
    if (!value) throw new DicomParseError('MISSING_ATTRIBUTE', `${name} ${tag} is missing`);
    return value;
  };
  const warnings = [...dataSet.warnings];
  const pixelData = dataSet.elements['x7fe00010'];
  if (
    pixelData &&
    !pixelData.encapsulatedPixelData &&
    pixelData.dataOffset + pixelData.length > bytes.byteLength
  ) {
    throw new DicomParseError('TRUNCATED', 'Pixel Data is longer than the bytes that follow it');
  }
  const frames = dataSet.intString(TAG.numberOfFrames);
  return {
    sopClassUid: required(TAG.sopClassUid, 'SOP Class UID'),
    sopInstanceUid: required(TAG.sopInstanceUid, 'SOP Instance UID'),
    studyInstanceUid: required(TAG.studyInstanceUid, 'Study Instance UID'),
    seriesInstanceUid: required(TAG.seriesInstanceUid, 'Series Instance UID'),
    transferSyntaxUid: required(TAG.transferSyntaxUid, 'Transfer Syntax UID'),
    modality: dataSet.string(TAG.modality)?.trim() || null,
    rows: dataSet.uint16(TAG.rows) ?? null,
    columns: dataSet.uint16(TAG.columns) ?? null,
    numberOfFrames: frames !== undefined && Number.isFinite(frames) && frames > 0 ? frames : 1,
    warnings,
  };
}
