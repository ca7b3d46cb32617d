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
  // One key per set: 'ISO 2022 IR 100' and 'ISO_IR 100' name the same repertoire.
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
  const label = ENCODINGS[first];
  const decoder = new TextDecoder(label ?? 'latin1');
  let warning: string | null = null;
  // inspectInstance refuses undefined terms (characterSetProblem); this only keeps decoding total.
  if (!label) warning = 'Specific Character Set is not known; text read as Latin-1';
  else if (terms.length > 1) {
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

/** PS3.3 C.12.1.1.2 Table C.12-2: single-byte character sets without code extensions. */
const SINGLE_BYTE_TERMS = new Set([
  'ISO_IR 100',
  'ISO_IR 101',
  'ISO_IR 109',
  'ISO_IR 110',
  'ISO_IR 144',
  'ISO_IR 127',
  'ISO_IR 126',
  'ISO_IR 138',
  'ISO_IR 148',
  'ISO_IR 203',
  'ISO_IR 13',
  'ISO_IR 166',
]);
/** Tables C.12-3 and C.12-4: single- and multi-byte character sets with ISO 2022 code extensions. */
const ISO_2022_TERMS = new Set([
  'ISO 2022 IR 6',
  'ISO 2022 IR 100',
  'ISO 2022 IR 101',
  'ISO 2022 IR 109',
  'ISO 2022 IR 110',
  'ISO 2022 IR 144',
  'ISO 2022 IR 127',
  'ISO 2022 IR 126',
  'ISO 2022 IR 138',
  'ISO 2022 IR 148',
  'ISO 2022 IR 203',
  'ISO 2022 IR 13',
  'ISO 2022 IR 166',
  'ISO 2022 IR 87',
  'ISO 2022 IR 159',
  'ISO 2022 IR 149',
  'ISO 2022 IR 58',
]);
/** Table C.12-5: multi-byte character sets without code extensions, allowed only as the one value. */
const UNICODE_AND_GB_TERMS = new Set(['ISO_IR 192', 'GB18030', 'GBK']);

/**
 * Why a Specific Character Set (0008,0005) value cannot be trusted to decode text, or null when
 * every term is defined by PS3.3 C.12.1.1.2. Absent or empty means the default repertoire. A
 * multi-valued set is the ISO 2022 form: the first value may be empty (the default repertoire),
 * every other value must be an ISO 2022 term.
 */
export function characterSetProblem(specificCharacterSet: string | undefined): string | null {
  // CS values: leading and trailing spaces are not significant (PS3.5 Table 6.2-1).
  const terms = (specificCharacterSet ?? '').split('\\').map((term) => term.trim());
  const undefinedTerm =
    terms.length === 1
      ? [terms[0]!].find(
          (t) =>
            t !== '' &&
            !SINGLE_BYTE_TERMS.has(t) &&
            !ISO_2022_TERMS.has(t) &&
            !UNICODE_AND_GB_TERMS.has(t),
        )
      : terms.find((t, i) => !(ISO_2022_TERMS.has(t) || (i === 0 && t === '')));
  if (undefinedTerm === undefined) return null;
  // A term is configuration, not patient data; it is named only when it looks like a term.
  const named = /^[A-Z0-9 _-]{1,16}$/.test(undefinedTerm) ? ` "${undefinedTerm}"` : '';
  return UNICODE_AND_GB_TERMS.has(undefinedTerm)
    ? `Specific Character Set (0008,0005) combines${named} with other values, which PS3.3 C.12.1.1.2 does not allow, so names and other text cannot be decoded with certainty`
    : `Specific Character Set (0008,0005) holds${named === '' ? ' a term' : named}, which is not a term PS3.3 C.12.1.1.2 defines, so names and other text cannot be decoded with certainty`;
}
