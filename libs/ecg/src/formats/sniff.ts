import { crcCcitt } from './scp-ecg.js';

/** The ECG file formats recognised by content, before any parsing. */
export type SniffedEcgFormat = 'scp-ecg' | 'hl7-aecg' | 'dicom-ecg';

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, end));

/**
 * Recognises an ECG file by its first bytes, cheaply and without throwing:
 * - DICOM: "DICM" after the 128-byte preamble (PS3.10 §7.1);
 * - SCP-ECG: section 0 at byte 6 with id 0 and the "SCPECG" mark in its reserved bytes
 *   (EN 1064 §5.4), or, for writers that leave the mark out, a record whose length field
 *   equals the file's length and whose record CRC checks (§5.3);
 * - HL7 aECG: an XML document whose root element is AnnotatedECG (HL7 v3 PORT_MT020001).
 */
export function sniffEcgFileFormat(bytes: Uint8Array): SniffedEcgFormat | null {
  if (bytes.length >= 132 && ascii(bytes, 128, 132) === 'DICM') return 'dicom-ecg';
  if (bytes.length >= 22 && bytes[8] === 0 && bytes[9] === 0) {
    if (ascii(bytes, 16, 22) === 'SCPECG') return 'scp-ecg';
    const length = (bytes[2]! | (bytes[3]! << 8) | (bytes[4]! << 16)) + bytes[5]! * 0x1000000;
    if (length === bytes.length && (bytes[0]! | (bytes[1]! << 8)) === crcCcitt(bytes, 2, length)) {
      return 'scp-ecg';
    }
  }
  return xmlRootName(bytes) === 'AnnotatedECG' ? 'hl7-aecg' : null;
}

/** The local name of the first element of an XML document (UTF-8), or null. */
function xmlRootName(bytes: Uint8Array): string | null {
  let text = new TextDecoder('utf-8').decode(bytes.subarray(0, 4096));
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (text[pos] !== '<') return null;
    if (text.startsWith('<?', pos)) {
      const end = text.indexOf('?>', pos);
      if (end < 0) return null;
      pos = end + 2;
    } else if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos);
      if (end < 0) return null;
      pos = end + 3;
    } else if (text.startsWith('<!', pos)) {
      const end = text.indexOf('>', pos);
      if (end < 0) return null;
      pos = end + 1;
    } else {
      const match = /^<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(
        text.slice(pos, pos + 200),
      );
      return match ? match[1]! : null;
    }
  }
}
