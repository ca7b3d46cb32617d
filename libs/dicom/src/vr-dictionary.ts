import { dictionary } from 'dcmjs/dictionary';

/**
 * The VR of a standard tag, for files in Implicit VR Little Endian, where the file does not say
 * (PS3.5 §7.1.3). Read from dcmjs's copy of the PS3.6 data dictionary, once, on first use.
 */
let byTag: Map<string, string> | undefined;
const repeating: { from: number; to: number; element: number; vr: string }[] = [];

/** dcmjs writes multi-VR entries as xs (US or SS), ox (OB or OW), lt (US, SS or OW), up (UL). */
const AMBIGUOUS: Record<string, string> = { xs: 'US', ox: 'OW', lt: 'OW', up: 'UL' };

function load(): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of Object.values(dictionary)) {
    if (entry.version !== 'DICOM' && entry.version !== 'DicomRetired') continue;
    const vr = AMBIGUOUS[entry.vr] ?? entry.vr;
    if (!/^[A-Z]{2}$/.test(vr)) continue;
    const simple = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag);
    if (simple) {
      map.set(`x${simple[1]!.toLowerCase()}${simple[2]!.toLowerCase()}`, vr);
      continue;
    }
    const range = /^\(([0-9A-F]{4})-([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag);
    if (range) {
      repeating.push({
        from: parseInt(range[1]!, 16),
        to: parseInt(range[2]!, 16),
        element: parseInt(range[3]!, 16),
        vr,
      });
    }
  }
  return map;
}

/** VR of a tag in dicom-parser's xggggeeee form; UN when the dictionary does not know it. */
export function vrOfTag(tag: string): string {
  byTag ??= load();
  const known = byTag.get(tag);
  if (known) return known;
  const group = parseInt(tag.slice(1, 5), 16);
  const element = parseInt(tag.slice(5, 9), 16);
  if (element === 0) return 'UL'; // group length (PS3.5 §7.2)
  // Private creator elements (gggg,0010-00FF) are LO (PS3.5 §7.8.1).
  if (group & 1) return element >= 0x10 && element <= 0xff ? 'LO' : 'UN';
  for (const r of repeating) {
    if (group >= r.from && group <= r.to && (group & 1) === 0 && element === r.element) return r.vr;
  }
  return 'UN';
}
