import dicomParser from 'dicom-parser';

/** What the upload page needs from a picked file before sending it: where it belongs. */
export interface PickedDicom {
  studyInstanceUid: string;
  sopInstanceUid: string | null;
  description: string | null;
  patientName: string | null;
  modality: string | null;
}

/** Enough of the file to reach the study's UIDs in all but odd files; the rest stays on disk. */
const HEAD_BYTES = 256 * 1024;

/**
 * Reads a Part 10 file's study identity (PS3.10 §7.1 header, then the data set up to the
 * pixel data). Null when it is not readable as DICOM here: the relay still gets it and
 * answers with its reason.
 */
export async function readPickedDicom(file: Blob): Promise<PickedDicom | null> {
  const head = await readAttributes(file.slice(0, HEAD_BYTES));
  if (head || file.size <= HEAD_BYTES) return head;
  return readAttributes(file);
}

async function readAttributes(blob: Blob): Promise<PickedDicom | null> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (failure) {
    // dicom-parser throws strings, or { exception, dataSet } with what it read before the end.
    const partial = (failure as { dataSet?: dicomParser.DataSet } | null)?.dataSet;
    if (!partial) return null;
    dataSet = partial;
  }
  const studyInstanceUid = dataSet.string('x0020000d');
  if (!studyInstanceUid) return null;
  return {
    studyInstanceUid,
    sopInstanceUid: dataSet.string('x00080018') ?? null,
    description: dataSet.string('x00081030') ?? null,
    patientName: dataSet.string('x00100010')?.replaceAll('^', ' ').trim() || null,
    modality: dataSet.string('x00080060') ?? null,
  };
}
