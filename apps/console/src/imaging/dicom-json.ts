/**
 * Reading the DICOM JSON model (PS3.18 §F.2) that QIDO-RS and WADO-RS metadata answer with.
 * Pure: no cornerstone, so the case and upload pages can use it without loading the viewer.
 */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

/** Tags as the JSON model keys them (eight upper-case hex digits). */
export const TAG = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SOPClassUID: '00080016',
  Modality: '00080060',
  SeriesDescription: '0008103E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfFrames: '00280008',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  NumberOfSeriesRelatedInstances: '00201209',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  Rows: '00280010',
  Columns: '00280011',
  // STOW-RS response (PS3.18 §10.5.3)
  ReferencedSOPSequence: '00081199',
  FailedSOPSequence: '00081198',
  ReferencedSOPInstanceUID: '00081155',
  ReferencedSOPClassUID: '00081150',
  FailureReason: '00081197',
  WarningReason: '00081196',
  RetrieveURL: '00081190',
  ErrorComment: '00000902',
  TextValue: '0040A160',
} as const;

function firstValue(dataset: DicomJsonDataset | undefined, tag: string): unknown {
  return dataset?.[tag]?.Value?.[0];
}

export function stringOf(dataset: DicomJsonDataset | undefined, tag: string): string | null {
  const value = firstValue(dataset, tag);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  // PN is an object of component groups (PS3.18 §F.2.2).
  if (value && typeof value === 'object' && 'Alphabetic' in value) {
    const alphabetic = (value as { Alphabetic?: unknown }).Alphabetic;
    return typeof alphabetic === 'string' ? alphabetic : null;
  }
  return null;
}

export function numberOf(dataset: DicomJsonDataset | undefined, tag: string): number | null {
  const value = firstValue(dataset, tag);
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(parsed) ? parsed : null;
}

export function numbersOf(dataset: DicomJsonDataset | undefined, tag: string): number[] {
  return (dataset?.[tag]?.Value ?? [])
    .map((value) => (typeof value === 'number' ? value : Number(value)))
    .filter((value) => Number.isFinite(value));
}

export function sequenceOf(dataset: DicomJsonDataset | undefined, tag: string): DicomJsonDataset[] {
  return (dataset?.[tag]?.Value ?? []).filter(
    (item): item is DicomJsonDataset => typeof item === 'object' && item !== null,
  );
}

export interface SeriesEntry {
  seriesInstanceUid: string;
  modality: string | null;
  description: string | null;
  number: number | null;
  instanceCount: number | null;
}

/** QIDO-RS series results, in series-number order. */
export function seriesEntries(results: DicomJsonDataset[]): SeriesEntry[] {
  return results
    .map((item) => ({
      seriesInstanceUid: stringOf(item, TAG.SeriesInstanceUID) ?? '',
      modality: stringOf(item, TAG.Modality),
      description: stringOf(item, TAG.SeriesDescription),
      number: numberOf(item, TAG.SeriesNumber),
      instanceCount: numberOf(item, TAG.NumberOfSeriesRelatedInstances),
    }))
    .filter((entry) => entry.seriesInstanceUid !== '')
    .sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity));
}

/**
 * A series' instances in reading order: along the slice normal where the geometry is known
 * (PS3.3 C.7.6.2: position · (row × column)), otherwise by InstanceNumber.
 */
export function inReadingOrder(instances: DicomJsonDataset[]): DicomJsonDataset[] {
  const normalOf = (item: DicomJsonDataset): number | null => {
    const orientation = numbersOf(item, TAG.ImageOrientationPatient);
    const position = numbersOf(item, TAG.ImagePositionPatient);
    if (orientation.length !== 6 || position.length !== 3) return null;
    const [rx, ry, rz, cx, cy, cz] = orientation as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const normal = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
    return normal[0]! * position[0]! + normal[1]! * position[1]! + normal[2]! * position[2]!;
  };
  const keyed = instances.map((item, index) => ({
    item,
    index,
    along: normalOf(item),
    number: numberOf(item, TAG.InstanceNumber),
  }));
  const allPlaced = keyed.every((entry) => entry.along !== null);
  return keyed
    .sort((a, b) =>
      allPlaced
        ? a.along! - b.along! || a.index - b.index
        : (a.number ?? Infinity) - (b.number ?? Infinity) || a.index - b.index,
    )
    .map((entry) => entry.item);
}

/** How many frames an instance holds (1 when NumberOfFrames is absent). */
export function frameCount(instance: DicomJsonDataset): number {
  const frames = numberOf(instance, TAG.NumberOfFrames);
  return frames && frames > 1 ? Math.floor(frames) : 1;
}
