import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DicomParseError, readDicomMetadata } from '#dicom';

const data = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const hasData = existsSync(`${data}dicom/pydicom/CT_small.dcm`);

describe('readDicomMetadata', () => {
  it('refuses bytes without the Part 10 prefix', () => {
    expect(() => readDicomMetadata(new Uint8Array(200))).toThrow(DicomParseError);
    expect(() => readDicomMetadata(new TextEncoder().encode('{"not":"dicom"}'))).toThrow(/DICM/);
  });
});

describe.skipIf(!hasData)('readDicomMetadata on real files (needs ../shared/data/dicom)', () => {
  it('reads the identifiers of a CT image', async () => {
    const metadata = readDicomMetadata(await readFile(`${data}dicom/pydicom/CT_small.dcm`));
    expect(metadata.modality).toBe('CT');
    expect(metadata.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(metadata.rows).toBe(128);
    expect(metadata.columns).toBe(128);
    expect(metadata.sopInstanceUid).toMatch(/^[0-9.]+$/);
  });

  it('reports a file cut short inside Pixel Data as truncated', async () => {
    const bytes = await readFile(`${data}dicom-bad/pydicom/MR_truncated.dcm`);
    expect(() => readDicomMetadata(bytes)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('reports a file cut short in the middle of an element', async () => {
    const bytes = await readFile(`${data}dicom/pydicom/CT_small.dcm`);
    expect(() => readDicomMetadata(bytes.subarray(0, 700))).toThrow(DicomParseError);
  });
});
