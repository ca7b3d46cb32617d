import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  TAG,
  frameCount,
  inReadingOrder,
  seriesEntries,
  stringOf,
  type DicomJsonDataset,
} from './dicom-json.js';
import { useLocale } from '../i18n/i18n.js';
import { WINDOW_PRESETS, presetName, voiRange, windowOf } from './presets.js';
import { batches, failureText, multipartBody, parseStowResponse } from './stow.js';

const sop = (uid: string, extra: DicomJsonDataset = {}): DicomJsonDataset => ({
  [TAG.SOPInstanceUID]: { vr: 'UI', Value: [uid] },
  ...extra,
});
const axial = { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] };

/** Switches the console's language in a test without a page: `<html lang>` goes to a stand-in. */
function inLanguage(locale: 'zh-CN' | 'en'): void {
  vi.stubGlobal('document', { documentElement: {} });
  useLocale(locale);
}

afterEach(() => {
  inLanguage('zh-CN');
  vi.unstubAllGlobals();
});

describe('DICOM JSON for the viewer', () => {
  it('orders slices along the slice normal, not by instance number or arrival', () => {
    const instances = [
      sop('c', {
        [TAG.ImageOrientationPatient]: axial,
        [TAG.ImagePositionPatient]: { vr: 'DS', Value: [0, 0, 30] },
        [TAG.InstanceNumber]: { vr: 'IS', Value: [1] },
      }),
      sop('a', {
        [TAG.ImageOrientationPatient]: axial,
        [TAG.ImagePositionPatient]: { vr: 'DS', Value: [0, 0, -10] },
        [TAG.InstanceNumber]: { vr: 'IS', Value: [3] },
      }),
      sop('b', {
        [TAG.ImageOrientationPatient]: axial,
        [TAG.ImagePositionPatient]: { vr: 'DS', Value: ['0', '0', '5.5'] },
        [TAG.InstanceNumber]: { vr: 'IS', Value: [2] },
      }),
    ];
    expect(inReadingOrder(instances).map((item) => stringOf(item, TAG.SOPInstanceUID))).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('falls back to instance number when a slice has no geometry (an X-ray, a secondary capture)', () => {
    const instances = [
      sop('two', { [TAG.InstanceNumber]: { vr: 'IS', Value: ['2'] } }),
      sop('none'),
      sop('one', { [TAG.InstanceNumber]: { vr: 'IS', Value: [1] } }),
    ];
    expect(inReadingOrder(instances).map((item) => stringOf(item, TAG.SOPInstanceUID))).toEqual([
      'one',
      'two',
      'none',
    ]);
  });

  it('lists series by series number and counts frames of multi-frame instances', () => {
    const series = seriesEntries([
      {
        [TAG.SeriesInstanceUID]: { vr: 'UI', Value: ['s2'] },
        [TAG.SeriesNumber]: { vr: 'IS', Value: [2] },
        [TAG.Modality]: { vr: 'CS', Value: ['CT'] },
      },
      {
        [TAG.SeriesInstanceUID]: { vr: 'UI', Value: ['s1'] },
        [TAG.SeriesNumber]: { vr: 'IS', Value: [1] },
        [TAG.NumberOfSeriesRelatedInstances]: { vr: 'IS', Value: [120] },
      },
      { [TAG.SeriesNumber]: { vr: 'IS', Value: [3] } },
    ]);
    expect(series.map((entry) => entry.seriesInstanceUid)).toEqual(['s1', 's2']);
    expect(series[0]!.instanceCount).toBe(120);
    expect(series[1]!.modality).toBe('CT');
    expect(frameCount(sop('x', { [TAG.NumberOfFrames]: { vr: 'IS', Value: ['12'] } }))).toBe(12);
    expect(frameCount(sop('y'))).toBe(1);
  });

  it('reads a person name from its Alphabetic component group', () => {
    expect(
      stringOf({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Wang^Li' }] } }, '00100010'),
    ).toBe('Wang^Li');
  });
});

describe('window presets', () => {
  it('has the lung, mediastinum and bone windows', () => {
    expect(WINDOW_PRESETS.map(({ id, width, center }) => [id, width, center])).toEqual([
      ['lung', 1500, -600],
      ['mediastinum', 350, 50],
      ['bone', 2000, 500],
    ]);
  });

  it('names the presets as radiologists do in Chinese (肺窗/纵隔窗/骨窗), and in English', () => {
    inLanguage('zh-CN');
    expect(WINDOW_PRESETS.map(({ id }) => presetName(id))).toEqual(['肺窗', '纵隔窗', '骨窗']);
    inLanguage('en');
    expect(WINDOW_PRESETS.map(({ id }) => presetName(id))).toEqual(['Lung', 'Mediastinum', 'Bone']);
  });

  it('turns width and centre into the value range shown, and back (PS3.3 C.11.2.1.2.1)', () => {
    expect(voiRange(350, 50)).toEqual({ lower: -125, upper: 224 });
    for (const preset of WINDOW_PRESETS) {
      expect(windowOf(voiRange(preset.width, preset.center))).toEqual({
        width: preset.width,
        center: preset.center,
      });
    }
  });
});

describe('STOW-RS from the upload page', () => {
  it('cuts files into requests by bytes and count, a too-large file alone', () => {
    const files = [5, 5, 5, 30, 1, 1, 1, 1].map((size, index) => ({ size, index }));
    expect(batches(files, 12, 3).map((batch) => batch.map((file) => file.index))).toEqual([
      [0, 1],
      [2],
      [3],
      [4, 5, 6],
      [7],
    ]);
  });

  it('frames each file as an application/dicom part of a multipart/related body (PS3.18 §8.6.1.2)', async () => {
    const body = multipartBody([new Blob(['DICM-one']), new Blob(['two'])], 'b0undary');
    expect(await body.text()).toBe(
      '--b0undary\r\nContent-Type: application/dicom\r\n\r\nDICM-one\r\n' +
        '--b0undary\r\nContent-Type: application/dicom\r\n\r\ntwo\r\n--b0undary--\r\n',
    );
  });

  it('reads stored and refused instances, with the failure reason and the relay’s text', () => {
    const result = parseStowResponse({
      [TAG.ReferencedSOPSequence]: {
        vr: 'SQ',
        Value: [{ [TAG.ReferencedSOPInstanceUID]: { vr: 'UI', Value: ['1.2.3'] } }],
      },
      [TAG.FailedSOPSequence]: {
        vr: 'SQ',
        Value: [
          {
            [TAG.ReferencedSOPInstanceUID]: { vr: 'UI', Value: ['1.2.4'] },
            [TAG.FailureReason]: { vr: 'US', Value: [0xa900] },
            [TAG.TextValue]: {
              vr: 'UT',
              Value: ['Pixel data is shorter than Rows × Columns says'],
            },
          },
          { [TAG.FailureReason]: { vr: 'US', Value: [0x0122] } },
        ],
      },
    });
    expect(result.stored).toEqual(['1.2.3']);
    inLanguage('en');
    expect(result.failed.map(failureText)).toEqual([
      'Pixel data is shorter than Rows × Columns says (0xA900)',
      'SOP class not supported (0x0122)',
    ]);
    // In Chinese the code's meaning comes first; the relay's own sentence stays as it sent it.
    inLanguage('zh-CN');
    expect(result.failed.map(failureText)).toEqual([
      '数据集与 SOP 类不符（0xA900）：Pixel data is shorter than Rows × Columns says',
      '不支持该 SOP 类（0x0122）',
    ]);
    expect(failureText({ sopInstanceUid: null, failureReason: null, reason: null })).toBe('被拒收');
    expect(result.failed[0]!.sopInstanceUid).toBe('1.2.4');
    expect(parseStowResponse([{}])).toEqual({ stored: [], failed: [] });
    expect(parseStowResponse(undefined)).toEqual({ stored: [], failed: [] });
  });
});
