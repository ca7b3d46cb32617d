/**
 * Text decoding by Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 and PS3.5 §6.1.
 * Single-byte and Unicode/GB sets are mapped to WHATWG encodings for TextDecoder; ISO 2022
 * code extensions (escape sequences, mostly Japanese and Korean) are not switched: the text is
 * read with the first set named and a warning is given.
 */

const ENCODINGS: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_203: 'iso-8859-15',
  ISO_IR_13: 'shift_jis',
  ISO_IR_166: 'windows-874',
  ISO_IR_192: 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

export interface TextDecoding {
  decode(bytes: Uint8Array): string;
  /** Set when the character set was not understood in full. */
  warning: string | null;
}

function normalise(term: string): string {
  // Tolerate 'ISO 2022 IR 6' written as 'ISO_2022_IR_6', 'ISO_IR 192' as 'ISO-IR 192'.
  return term
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_')
    .replace(/^ISO_2022_/, 'ISO_');
}

/** ISO 2022 escape sequences (ESC, intermediate bytes, final byte), PS3.5 §6.1.2.5. */
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCE = /\x1b[\x20-\x2f]+[\x30-\x7e]/g;

/**
 * Multi-byte ISO 2022 sets: GB 2312 and KS X 1001 are carried in G1 with the high bit set,
 * which is how EUC-CN / EUC-KR encode them, so once the escape sequences are removed the
 * WHATWG decoders read them; JIS X 0208 is read by the iso-2022-jp decoder, escapes included.
 */
const ISO_2022: Record<string, { label: string; stripEscapes: boolean }> = {
  ISO_IR_58: { label: 'gb18030', stripEscapes: true },
  ISO_IR_149: { label: 'euc-kr', stripEscapes: true },
  ISO_IR_87: { label: 'iso-2022-jp', stripEscapes: false },
  ISO_IR_159: { label: 'iso-2022-jp', stripEscapes: false },
};

/** A decoder for the text VRs (SH, LO, ST, LT, UC, UT, PN) of a data set. */
export function textDecoding(specificCharacterSet: string | undefined): TextDecoding {
  const raw = specificCharacterSet ?? '';
  const terms = raw.split('\\').map(normalise);
  const multiByte = terms.map((t) => ISO_2022[t]).find((m) => m !== undefined);
  if (multiByte) {
    const decoder = new TextDecoder(multiByte.label);
    return {
      decode: (bytes) => {
        const text = decoder.decode(bytes);
        return multiByte.stripEscapes ? text.replace(ESCAPE_SEQUENCE, '') : text;
      },
      warning: null,
    };
  }
  const first = terms.find((t) => t !== '') ?? '';
  const nonStandard = raw
    .split('\\')
    .map((t) => t.trim())
    .find((t) => t !== '' && !/^(ISO_IR \d+|ISO 2022 IR \d+|GB18030|GBK)$/.test(t));
  const label = ENCODINGS[first];
  const decoder = new TextDecoder(label ?? 'latin1');
  let warning: string | null = null;
  if (!label) warning = `Specific Character Set "${first}" is not known; text read as Latin-1`;
  else if (nonStandard !== undefined) {
    warning = `Specific Character Set "${nonStandard.slice(0, 16)}" is not a defined term (PS3.3 C.12.1.1.2); read as ${label}`;
  } else if (terms.length > 1) {
    warning =
      'Specific Character Set uses ISO 2022 code extensions; text read without switching sets';
  }
  return {
    decode: (bytes) => {
      const text = decoder.decode(bytes);
      return terms.length > 1 ? text.replace(ESCAPE_SEQUENCE, '') : text;
    },
    warning,
  };
}
