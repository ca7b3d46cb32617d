import { randomUUID } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import dicomParser from 'dicom-parser';
import jpeg from 'jpeg-js';

/**
 * Makes DICOM Part 10 files (PS3.10 §7.1) for tests, with dcmjs as an independent writer so
 * our reader is not checked only against itself. Pixel data is a gradient, so a rendered
 * image is never uniform; waveforms are given by the caller or a simple per-lead wave.
 */

export type SyntheticSopClass = 'CT' | 'CR' | 'DX' | 'MR' | 'SC' | 'ECG12' | 'ECG' | 'PDF';

export const SYNTHETIC_SOP_CLASS_UIDS: Record<SyntheticSopClass, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  CR: '1.2.840.10008.5.1.4.1.1.1',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  SC: '1.2.840.10008.5.1.4.1.1.7',
  ECG12: '1.2.840.10008.5.1.4.1.1.9.1.1',
  ECG: '1.2.840.10008.5.1.4.1.1.9.1.2',
  PDF: '1.2.840.10008.5.1.4.1.1.104.1',
};

const DEFAULT_MODALITY: Record<SyntheticSopClass, string> = {
  CT: 'CT',
  CR: 'CR',
  DX: 'DX',
  MR: 'MR',
  SC: 'OT',
  ECG12: 'ECG',
  ECG: 'ECG',
  PDF: 'DOC',
};

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/** Standard lead → (MDC code, SCP-ECG code), PS3.16 CID 3001. */
export const LEAD_CODES: Record<string, { mdc: string; scpecg: string }> = {
  I: { mdc: '2:1', scpecg: '5.6.3-9-1' },
  II: { mdc: '2:2', scpecg: '5.6.3-9-2' },
  III: { mdc: '2:61', scpecg: '5.6.3-9-61' },
  aVR: { mdc: '2:62', scpecg: '5.6.3-9-62' },
  aVL: { mdc: '2:63', scpecg: '5.6.3-9-63' },
  aVF: { mdc: '2:64', scpecg: '5.6.3-9-64' },
  V1: { mdc: '2:3', scpecg: '5.6.3-9-3' },
  V2: { mdc: '2:4', scpecg: '5.6.3-9-4' },
  V3: { mdc: '2:5', scpecg: '5.6.3-9-5' },
  V4: { mdc: '2:6', scpecg: '5.6.3-9-6' },
  V5: { mdc: '2:7', scpecg: '5.6.3-9-7' },
  V6: { mdc: '2:8', scpecg: '5.6.3-9-8' },
};

export interface SyntheticWaveform {
  leads: string[];
  sampleRateHz: number;
  /** Stored sample values (before sensitivity/baseline), interleaved by sample. */
  samples: Int16Array;
  /** Per lead, in `units` per stored unit (ChannelSensitivity). Default 2.5 for every lead. */
  sensitivity?: number[];
  units?: 'uV' | 'mV';
  /** Per lead ChannelSensitivityCorrectionFactor. Default 1. */
  correction?: number[];
  /** Per lead ChannelBaseline, in `units`. Default 0. */
  baseline?: number[];
  /** Which code system names the leads in ChannelSourceSequence. Default MDC. */
  codingScheme?: 'MDC' | 'SCPECG';
}

export interface SyntheticInstanceOptions {
  sopClass?: SyntheticSopClass;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  rows?: number;
  columns?: number;
  frames?: number;
  bitsAllocated?: 8 | 16;
  photometricInterpretation?: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB';
  patientId?: string;
  patientName?: string;
  accessionNumber?: string;
  studyDate?: string;
  modality?: string;
  /** 'explicit' (default), 'implicit', or any transfer syntax UID (with `pixelData` frames for encapsulated ones). */
  transferSyntax?: 'explicit' | 'implicit' | (string & {});
  specificCharacterSet?: string;
  windowCenter?: number;
  windowWidth?: number;
  /** Replaces the gradient: one buffer (native) or one buffer per frame (encapsulated syntaxes). */
  pixelData?: Uint8Array | Uint8Array[];
  waveform?: SyntheticWaveform;
  /** dcmjs-named attributes to add or override; `undefined` removes one (to provoke refusals). */
  attributes?: Record<string, unknown>;
}

/** A DICOM UID from a random UUID (PS3.5 §B.2, the 2.25 root). */
export function syntheticUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`;
}

function transferSyntaxUid(option: SyntheticInstanceOptions['transferSyntax']): string {
  if (option === undefined || option === 'explicit') return EXPLICIT_VR_LITTLE_ENDIAN;
  if (option === 'implicit') return IMPLICIT_VR_LITTLE_ENDIAN;
  return option;
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

/** A diagonal gradient per frame, shifted by frame, so frames and pixels all differ. */
function gradient(
  rows: number,
  columns: number,
  frames: number,
  samplesPerPixel: number,
  bitsAllocated: 8 | 16,
): Uint8Array {
  const count = rows * columns * frames * samplesPerPixel;
  const max = bitsAllocated === 8 ? 255 : 4095;
  const values = bitsAllocated === 8 ? new Uint8Array(count) : new Uint16Array(count);
  let p = 0;
  for (let f = 0; f < frames; f++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        for (let s = 0; s < samplesPerPixel; s++) {
          const t = (r + c + f * 7 + s * 31) / Math.max(1, rows + columns - 2);
          values[p++] = Math.round((t % 1) * max);
        }
      }
    }
  }
  return new Uint8Array(values.buffer);
}

/** A default 12-lead waveform: a distinct sine per lead, 2 s at 500 Hz. */
export function defaultWaveform(): SyntheticWaveform {
  const leads = Object.keys(LEAD_CODES);
  const sampleRateHz = 500;
  const n = 1000;
  const samples = new Int16Array(n * leads.length);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < leads.length; l++) {
      samples[i * leads.length + l] = Math.round(
        400 * Math.sin((2 * Math.PI * (1 + l) * i) / sampleRateHz),
      );
    }
  }
  return { leads, sampleRateHz, samples };
}

function waveformSequence(waveform: SyntheticWaveform): Record<string, unknown>[] {
  const { leads, sampleRateHz, samples } = waveform;
  const units = waveform.units ?? 'uV';
  const scheme = waveform.codingScheme ?? 'MDC';
  const channels = leads.map((lead, i) => {
    const code = LEAD_CODES[lead];
    return {
      WaveformChannelNumber: i + 1,
      ChannelLabel: lead,
      ChannelSourceSequence: [
        code
          ? {
              CodeValue: scheme === 'MDC' ? code.mdc : code.scpecg,
              CodingSchemeDesignator: scheme,
              CodeMeaning: `Lead ${lead}`,
            }
          : { CodeValue: lead, CodingSchemeDesignator: '99LOCAL', CodeMeaning: lead },
      ],
      ChannelSensitivity: waveform.sensitivity?.[i] ?? 2.5,
      ChannelSensitivityUnitsSequence: [
        {
          CodeValue: units,
          CodingSchemeDesignator: 'UCUM',
          CodeMeaning: units === 'uV' ? 'microvolt' : 'millivolt',
        },
      ],
      ChannelSensitivityCorrectionFactor: waveform.correction?.[i] ?? 1,
      ChannelBaseline: waveform.baseline?.[i] ?? 0,
      ChannelTimeSkew: 0,
      WaveformBitsStored: 16,
    };
  });
  return [
    {
      MultiplexGroupTimeOffset: 0,
      WaveformOriginality: 'ORIGINAL',
      NumberOfWaveformChannels: leads.length,
      NumberOfWaveformSamples: samples.length / leads.length,
      SamplingFrequency: sampleRateHz,
      MultiplexGroupLabel: 'RHYTHM',
      ChannelDefinitionSequence: channels,
      WaveformBitsAllocated: 16,
      WaveformSampleInterpretation: 'SS',
      WaveformData: [
        arrayBufferOf(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)),
      ],
      _vrMap: { WaveformData: 'OW' },
    },
  ];
}

/** A minimal one-page PDF, enough for an Encapsulated PDF instance. */
const TINY_PDF = new TextEncoder().encode(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** Builds one Part 10 file. Defaults give a valid 64×64 CT slice in Explicit VR Little Endian. */
export function makeInstance(options: SyntheticInstanceOptions = {}): Uint8Array {
  const sopClass = options.sopClass ?? 'CT';
  const sopClassUid = SYNTHETIC_SOP_CLASS_UIDS[sopClass];
  const sopInstanceUid = options.sopInstanceUid ?? syntheticUid();
  const syntax = transferSyntaxUid(options.transferSyntax);

  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: options.specificCharacterSet ?? 'ISO_IR 192',
    SOPClassUID: sopClassUid,
    SOPInstanceUID: sopInstanceUid,
    StudyDate: options.studyDate ?? '20261207',
    StudyTime: '101500',
    AccessionNumber: options.accessionNumber ?? 'ACC0001',
    Modality: options.modality ?? DEFAULT_MODALITY[sopClass],
    StudyDescription: `Synthetic ${sopClass}`,
    SeriesDescription: `Synthetic ${sopClass} series`,
    PatientName: [{ Alphabetic: options.patientName ?? 'Test^Patient' }],
    PatientID: options.patientId ?? 'TEST-0001',
    PatientBirthDate: '19700101',
    PatientSex: 'O',
    StudyInstanceUID: options.studyInstanceUid ?? syntheticUid(),
    SeriesInstanceUID: options.seriesInstanceUid ?? syntheticUid(),
    StudyID: '1',
    SeriesNumber: 1,
    InstanceNumber: 1,
  };

  if (sopClass === 'ECG12' || sopClass === 'ECG') {
    dataset['AcquisitionDateTime'] = '20261207101500';
    dataset['WaveformSequence'] = waveformSequence(options.waveform ?? defaultWaveform());
  } else if (sopClass === 'PDF') {
    dataset['MIMETypeOfEncapsulatedDocument'] = 'application/pdf';
    dataset['DocumentTitle'] = 'Synthetic report';
    dataset['BurnedInAnnotation'] = 'YES';
    dataset['EncapsulatedDocument'] = arrayBufferOf(TINY_PDF);
  } else {
    const rows = options.rows ?? 64;
    const columns = options.columns ?? 64;
    const frames = options.frames ?? 1;
    const photometric = options.photometricInterpretation ?? 'MONOCHROME2';
    const samplesPerPixel = photometric === 'RGB' ? 3 : 1;
    const bitsAllocated = options.bitsAllocated ?? (photometric === 'RGB' ? 8 : 16);
    const bitsStored = bitsAllocated === 8 ? 8 : 12;
    Object.assign(dataset, {
      SamplesPerPixel: samplesPerPixel,
      PhotometricInterpretation: photometric,
      Rows: rows,
      Columns: columns,
      BitsAllocated: bitsAllocated,
      BitsStored: bitsStored,
      HighBit: bitsStored - 1,
      PixelRepresentation: 0,
    });
    if (samplesPerPixel === 3) dataset['PlanarConfiguration'] = 0;
    if (frames > 1) dataset['NumberOfFrames'] = frames;
    if (sopClass === 'CT') {
      Object.assign(dataset, { RescaleIntercept: -1024, RescaleSlope: 1, KVP: 120 });
    }
    if (options.windowCenter !== undefined) dataset['WindowCenter'] = options.windowCenter;
    if (options.windowWidth !== undefined) dataset['WindowWidth'] = options.windowWidth;
    const pixels =
      options.pixelData ?? gradient(rows, columns, frames, samplesPerPixel, bitsAllocated);
    dataset['PixelData'] = Array.isArray(pixels)
      ? pixels.map(arrayBufferOf)
      : [arrayBufferOf(pixels)];
    dataset['_vrMap'] = { PixelData: bitsAllocated === 8 ? 'OB' : 'OW' };
  }

  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    if (value === undefined) delete dataset[name];
    else dataset[name] = value;
  }

  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: (dataset['SOPClassUID'] as string | undefined) ?? sopClassUid,
    MediaStorageSOPInstanceUID: (dataset['SOPInstanceUID'] as string | undefined) ?? sopInstanceUid,
    TransferSyntaxUID: syntax,
    ImplementationClassUID: '2.25.316467848163915424378716219003924166529',
    ImplementationVersionName: 'TELERELAY_TEST',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  // Tests write over-long values on purpose, to see them refused.
  const file = new Uint8Array(dict.write({ allowInvalidVRLength: true }));
  // dcmjs writes the body of a deflated syntax as Explicit VR LE; deflate it here (PS3.5 §A.5).
  return syntax === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN ? deflateBody(file) : file;
}

/** Where File Meta Information (group 0002, Explicit VR LE, PS3.10 §7.1) ends. */
export function fileMetaEnd(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let p = 132;
  while (p + 8 <= file.length && view.getUint16(p, true) === 0x0002) {
    const vr = String.fromCharCode(file[p + 4]!, file[p + 5]!);
    p += ['OB', 'OW', 'UN', 'UT', 'SQ'].includes(vr)
      ? 12 + view.getUint32(p + 8, true)
      : 8 + view.getUint16(p + 6, true);
  }
  return p;
}

function deflateBody(file: Uint8Array): Uint8Array {
  const end = fileMetaEnd(file);
  const body = deflateRawSync(file.subarray(end));
  const out = new Uint8Array(end + body.length);
  out.set(file.subarray(0, end));
  out.set(body, end);
  return out;
}

/**
 * Appends a sequence nested `depth` levels deep (undefined lengths) after the last element:
 * (FFFA,FFFA) Digital Signatures Sequence sorts last, so the data set stays in tag order. Used to
 * check that nesting depth is bounded before a recursive parse. `encoding` must match the file's
 * transfer syntax: 'explicit' (VR SQ), 'implicit' (no VR), or 'un' (Explicit VR file, the outer
 * element as UN, whose items are implicit VR, PS3.5 §6.2.2).
 */
export function withNestedSequence(
  file: Uint8Array,
  depth: number,
  encoding: 'explicit' | 'implicit' | 'un' = 'explicit',
): Uint8Array {
  const tag = [0xfa, 0xff, 0xfa, 0xff];
  const undefinedLength = [0xff, 0xff, 0xff, 0xff];
  const explicitSq = [...tag, 0x53, 0x51, 0, 0, ...undefinedLength];
  const explicitUn = [...tag, 0x55, 0x4e, 0, 0, ...undefinedLength];
  const implicit = [...tag, ...undefinedLength];
  const item = [0xfe, 0xff, 0x00, 0xe0, ...undefinedLength];
  const itemEnd = [0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0];
  const seqEnd = [0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0];
  const opening = (level: number) =>
    encoding === 'explicit' ? explicitSq : encoding === 'un' && level === 0 ? explicitUn : implicit;
  const parts: number[][] = [];
  for (let d = 0; d < depth; d++) parts.push(opening(d), item);
  for (let d = 0; d < depth; d++) parts.push(itemEnd, seqEnd);
  const tail = Uint8Array.from(parts.flat());
  const out = new Uint8Array(file.length + tail.length);
  out.set(file);
  out.set(tail, file.length);
  return out;
}

/**
 * Replaces the value of a top-level element with a 16-bit length (Explicit VR LE), e.g. to
 * write a UID longer than dcmjs allows or text in a character set dcmjs does not encode.
 */
export function replaceValue(
  file: Uint8Array,
  tag: string,
  value: string | Uint8Array,
): Uint8Array {
  const element = dicomParser.parseDicom(file).elements[tag];
  if (!element) throw new Error(`no element ${tag}`);
  let bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  if (bytes.length & 1) bytes = Uint8Array.of(...bytes, 0x20);
  const out = new Uint8Array(file.length - element.length + bytes.length);
  out.set(file.subarray(0, element.dataOffset));
  new DataView(out.buffer).setUint16(element.dataOffset - 2, bytes.length, true);
  out.set(bytes, element.dataOffset);
  out.set(file.subarray(element.dataOffset + element.length), element.dataOffset + bytes.length);
  return out;
}

/** A colour JPEG Baseline frame (jpeg-js writes YCbCr), for encapsulated test instances. */
export function jpegBaselineFrame(width: number, height: number, seed: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = (i * seed * 7) % 256;
    rgba[i * 4 + 1] = ((i % width) * 255) / width;
    rgba[i * 4 + 2] = (seed * 60) % 256;
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width, height, data: rgba }, 90).data);
}
