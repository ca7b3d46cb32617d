/** The public shapes of libs/dicom (the seams agreed for issue 12; docs/dicom-conformance.md). */

export interface InspectLimits {
  /** Largest file accepted, in bytes. Default 512 MiB. */
  maxBytes?: number;
  /** Deepest sequence nesting accepted. Default 32. */
  maxDepth?: number;
  /** Most data elements (at every level) accepted. Default 200,000. */
  maxElements?: number;
}

export type DicomRefusalCode =
  | 'NOT_DICOM'
  | 'TRUNCATED'
  | 'MISSING_ATTRIBUTE'
  | 'INVALID_VALUE'
  | 'SOP_CLASS_NOT_ACCEPTED'
  | 'TRANSFER_SYNTAX_NOT_ACCEPTED'
  | 'PIXEL_DATA_MISMATCH'
  | 'TOO_DEEP'
  | 'TOO_LARGE'
  | 'UNREADABLE';

export interface DicomRefusal {
  code: DicomRefusalCode;
  /** A plain English sentence, with no patient data. */
  reason: string;
  /** The PS3.4 status for a STOW-RS FailureReason or a C-STORE response (0xA700, 0xA900, 0xC000, 0x0122…). */
  failureReason: number;
  sopClassUid?: string;
  sopInstanceUid?: string;
}

/** One attribute of PS3.18 §F.2 DICOM JSON. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: (string | number | DicomJsonPersonName | Record<string, DicomJsonAttribute>)[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export interface DicomJsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface InspectedImage {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
  numberOfFrames: number;
  windowCenter: number | null;
  windowWidth: number | null;
  rescaleSlope: number;
  rescaleIntercept: number;
}

export interface InspectedInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  modality: string | null;
  patient: { id: string | null; name: string | null; sex: string | null; birthDate: string | null };
  study: {
    date: string | null;
    time: string | null;
    description: string | null;
    accessionNumber: string | null;
  };
  series: { number: number | null; description: string | null; bodyPart: string | null };
  instanceNumber: number | null;
  image: InspectedImage | null;
  /** Where Pixel Data sits in the file (offset of its value; for encapsulated data, of the first item). */
  pixelData: { offset: number; length: number; encapsulated: boolean } | null;
  isEcgWaveform: boolean;
  /** PS3.18 §F.2 DICOM JSON of the data set without bulk data (PixelData, WaveformData… left out). */
  json: Record<string, DicomJsonAttribute>;
  warnings: string[];
}

export type Inspection =
  { ok: true; instance: InspectedInstance } | { ok: false; refusal: DicomRefusal };
