import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crcCcitt } from './scp-ecg.js';
import { sniffEcgFileFormat } from './sniff.js';
import { buildScpEcg } from './testing/scp-encoder.js';

const OTHER = new URL('../../../../../shared/data/ecg-other/', import.meta.url).pathname;
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('sniffEcgFileFormat', () => {
  const scp = buildScpEcg({
    leads: [{ code: 1, values: [1, 2, 3] }],
    sampleIntervalUs: 2000,
    avmNanovolts: 5000,
    encoding: 0,
    huffman: 'default',
  });

  it('recognises SCP-ECG by its section 0 mark, and without the mark by length and CRC', () => {
    expect(sniffEcgFileFormat(scp)).toBe('scp-ecg');
    const unmarked = scp.slice();
    unmarked.set([0, 0, 0, 0, 0, 0], 16);
    // The record CRC covers the mark: unsealed, nothing vouches for the file any more.
    expect(sniffEcgFileFormat(unmarked)).toBeNull();
    const crc = crcCcitt(unmarked, 2, unmarked.length);
    unmarked.set([crc & 0xff, crc >> 8], 0);
    expect(sniffEcgFileFormat(unmarked)).toBe('scp-ecg');
    // A longer file (the length field no longer matches) is not taken for SCP-ECG.
    expect(sniffEcgFileFormat(Uint8Array.from([...unmarked, 0]))).toBeNull();
  });

  it('recognises DICOM by DICM after the preamble', () => {
    const dicom = new Uint8Array(200);
    dicom.set(utf8('DICM'), 128);
    expect(sniffEcgFileFormat(dicom)).toBe('dicom-ecg');
  });

  it('recognises an AnnotatedECG root, with a declaration, comments, BOM or a prefix', () => {
    expect(
      sniffEcgFileFormat(
        utf8('<?xml version="1.0"?>\n<!-- x -->\n<AnnotatedECG xmlns="urn:hl7-org:v3">'),
      ),
    ).toBe('hl7-aecg');
    expect(sniffEcgFileFormat(utf8('\uFEFF<hl7:AnnotatedECG xmlns:hl7="urn:hl7-org:v3"/>'))).toBe(
      'hl7-aecg',
    );
    expect(sniffEcgFileFormat(utf8('<?xml version="1.0"?><ClinicalDocument/>'))).toBeNull();
    expect(sniffEcgFileFormat(utf8('<AnnotatedECGX/>'))).toBeNull();
  });

  it('answers null for anything else, including empty and tiny inputs', () => {
    expect(sniffEcgFileFormat(new Uint8Array(0))).toBeNull();
    expect(sniffEcgFileFormat(utf8('100 2 360 650000'))).toBeNull();
    expect(sniffEcgFileFormat(new Uint8Array(21))).toBeNull();
  });

  it.skipIf(!existsSync(OTHER))(
    'recognises the shared example files (skipped when ../shared/data is absent)',
    () => {
      const sniff = (path: string) =>
        sniffEcgFileFormat(new Uint8Array(readFileSync(`${OTHER}${path}`)));
      expect(sniff('scp-ecg/ecgtoolkit-Example.scp')).toBe('scp-ecg');
      expect(sniff('scp-ecg/ecgviewer-demo.scp')).toBe('scp-ecg');
      expect(sniff('hl7-aecg/ecg_hl7.xml')).toBe('hl7-aecg');
      expect(sniff('dicom-waveform/waveform_ecg.dcm')).toBe('dicom-ecg');
      expect(sniff('ptb-xl/00001_lr.hea')).toBeNull();
    },
  );
});
