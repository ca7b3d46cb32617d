import type { DicomJsonAttribute, InspectedImage } from '#dicom';
import type { InstanceRow, SeriesRow, StudyRow } from './imaging.repository.js';

/** A PS3.18 §F.2 DICOM JSON data set: tag (8 hex digits) → attribute. */
export type DicomJson = Record<string, DicomJsonAttribute>;

const str = (vr: string, value: string | null | undefined): DicomJsonAttribute =>
  value ? { vr, Value: [value] } : { vr };
const num = (vr: string, value: number | null | undefined): DicomJsonAttribute =>
  value === null || value === undefined ? { vr } : { vr, Value: [value] };
const person = (value: string | null): DicomJsonAttribute =>
  value ? { vr: 'PN', Value: [{ Alphabetic: value }] } : { vr: 'PN' };

/** Query keys QIDO-RS accepts by keyword, with their tags (PS3.18 §10.6.1.2.1). */
export const KEYWORD_TAGS: Readonly<Record<string, string>> = {
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SOPClassUID: '00080016',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
};

/** Study attributes returned by default (PS3.18 Table 10.6.3-3). */
export function studyJson(study: StudyRow, retrieveUrl: string): DicomJson {
  return {
    '00080005': str('CS', 'ISO_IR 192'),
    '00080020': str('DA', study.studyDate),
    '00080030': str('TM', study.studyTime),
    '00080050': str('SH', study.accessionNumber),
    '00080061': study.modalities.length ? { vr: 'CS', Value: study.modalities } : { vr: 'CS' },
    '00080090': { vr: 'PN' },
    '00081030': str('LO', study.description),
    '00081190': str('UR', retrieveUrl),
    '00100010': person(study.patientName),
    '00100020': str('LO', study.patientId),
    '00100030': str('DA', study.patientBirthDate),
    '00100040': str('CS', study.patientSex),
    '0020000D': str('UI', study.studyInstanceUid),
    '00200010': { vr: 'SH' },
    '00201206': num('IS', study.seriesCount),
    '00201208': num('IS', study.instanceCount),
  };
}

/** Series attributes returned by default (PS3.18 Table 10.6.3-4). */
export function seriesJson(series: SeriesRow, retrieveUrl: string): DicomJson {
  return {
    '00080005': str('CS', 'ISO_IR 192'),
    '00080060': str('CS', series.modality),
    '0008103E': str('LO', series.description),
    '00081190': str('UR', retrieveUrl),
    '00180015': str('CS', series.bodyPart),
    '0020000E': str('UI', series.seriesInstanceUid),
    '00200011': num('IS', series.seriesNumber),
    '00201209': num('IS', series.instanceCount),
  };
}

/** Instance attributes returned by default (PS3.18 Table 10.6.3-5). */
export function instanceJson(instance: InstanceRow, retrieveUrl: string): DicomJson {
  return {
    '00080005': str('CS', 'ISO_IR 192'),
    '00080016': str('UI', instance.sopClassUid),
    '00080018': str('UI', instance.sopInstanceUid),
    '00083002': str('UI', instance.transferSyntaxUid),
    '00081190': str('UR', retrieveUrl),
    '00200013': num('IS', instance.instanceNumber),
    '00280008': num('IS', instance.frames),
    '00280010': num('US', instance.rows),
    '00280011': num('US', instance.columns),
  };
}

/**
 * WADO-RS metadata of one instance (PS3.18 §10.4.1.1.2): the stored DICOM JSON, with the
 * identifying and image attributes a viewer needs made sure of, and Pixel Data as a
 * BulkDataURI to the instance's frames (cornerstone's wadors loader fetches those).
 */
export function metadataJson(
  instance: InstanceRow,
  study: StudyRow,
  series: SeriesRow,
  instanceUrl: string,
): DicomJson {
  const image = instance.image as InspectedImage | null;
  const derived: DicomJson = {
    ...studyJson(study, ''),
    ...seriesJson(series, ''),
    ...instanceJson(instance, ''),
    '00020010': str('UI', instance.transferSyntaxUid),
  };
  delete derived['00081190'];
  delete derived['00201206'];
  delete derived['00201208'];
  delete derived['00201209'];
  delete derived['00083002'];
  if (image) {
    Object.assign(derived, {
      '00280002': num('US', image.samplesPerPixel),
      '00280004': str('CS', image.photometricInterpretation),
      '00280100': num('US', image.bitsAllocated),
      '00280101': num('US', image.bitsStored),
      '00280102': num('US', image.bitsStored - 1),
      '00280103': num('US', image.pixelRepresentation),
      '00281050': num('DS', image.windowCenter),
      '00281051': num('DS', image.windowWidth),
      '00281052': num('DS', image.rescaleIntercept),
      '00281053': num('DS', image.rescaleSlope),
    });
  }
  const json: DicomJson = { ...derived, ...(instance.metadata as DicomJson) };
  if (instance.pixelData) {
    const frames = Array.from({ length: instance.frames }, (_, i) => i + 1).join(',');
    json['7FE00010'] = {
      vr: image && image.bitsAllocated > 8 ? 'OW' : 'OB',
      BulkDataURI: `${instanceUrl}/frames/${frames}`,
    };
  }
  return json;
}

/** Keeps the default attributes plus those asked for by `includefield` (all of them for `all`). */
export function withIncludedFields(
  json: DicomJson,
  extra: DicomJson,
  includefield: string[],
): DicomJson {
  if (includefield.includes('all')) return { ...extra, ...json };
  const wanted = includefield.map((field) => (KEYWORD_TAGS[field] ?? field).toUpperCase());
  const added = Object.fromEntries(
    Object.entries(extra).filter(([tag]) => wanted.includes(tag.toUpperCase())),
  );
  return { ...added, ...json };
}

/** The media type of one frame as stored (PS3.18 Table 8.7.3-2); native frames are octets. */
export function frameMediaType(transferSyntaxUid: string): string {
  const uid = transferSyntaxUid;
  if (
    [
      '1.2.840.10008.1.2.4.50',
      '1.2.840.10008.1.2.4.51',
      '1.2.840.10008.1.2.4.57',
      '1.2.840.10008.1.2.4.70',
    ].includes(uid)
  )
    return 'image/jpeg';
  if (uid === '1.2.840.10008.1.2.4.80' || uid === '1.2.840.10008.1.2.4.81') return 'image/jls';
  if (uid === '1.2.840.10008.1.2.4.90' || uid === '1.2.840.10008.1.2.4.91') return 'image/jp2';
  if (
    uid === '1.2.840.10008.1.2.4.201' ||
    uid === '1.2.840.10008.1.2.4.202' ||
    uid === '1.2.840.10008.1.2.4.203'
  )
    return 'image/jphc';
  if (uid === '1.2.840.10008.1.2.5') return 'image/dicom-rle';
  return 'application/octet-stream';
}
