/**
 * The relay's implementation class UID (PS3.7 D.3.3.2), under the 2.25 UUID root (PS3.5
 * B.2), and its version name, written into every file the DICOM listener receives.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.235593766564680340227433864907767162937';
export const IMPLEMENTATION_VERSION_NAME = 'TELERELAY_1';

export interface FileMetaInformation {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The calling AE title: Source Application Entity Title (0002,0016). */
  sourceAeTitle?: string;
}

/**
 * The start of a DICOM file (PS3.10 §7.1): a 128-byte preamble of zeros, "DICM", and the File
 * Meta Information group (0002) in Explicit VR Little Endian. A C-STORE dataset arrives
 * without it, in the presentation context's transfer syntax; written after this header, the
 * dataset's bytes make a Part 10 file as they are, so it can go to disk as it arrives.
 */
export function part10Header(meta: FileMetaInformation): Buffer {
  const elements = [
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', uid(meta.sopClassUid)),
    element(0x0003, 'UI', uid(meta.sopInstanceUid)),
    element(0x0010, 'UI', uid(meta.transferSyntaxUid)),
    element(0x0012, 'UI', uid(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME)),
    ...(meta.sourceAeTitle ? [element(0x0016, 'AE', text(meta.sourceAeTitle))] : []),
  ];
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'ascii'),
    element(0x0000, 'UL', groupLength),
    body,
  ]);
}

/** PS3.5 §7.1.2: OB/OW/OF/SQ/UT/UN have a 4-byte length after 2 reserved bytes. */
const LONG_LENGTH_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = LONG_LENGTH_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'ascii');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** UI values are padded to even length with a NUL (PS3.5 §6.2). */
function uid(value: string): Buffer {
  const bytes = Buffer.from(value, 'ascii');
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from([0])]);
}

/** SH and AE values are padded to even length with a space (PS3.5 §6.2). */
function text(value: string): Buffer {
  const bytes = Buffer.from(value, 'ascii');
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from(' ')]);
}
