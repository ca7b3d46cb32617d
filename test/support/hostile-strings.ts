import fc from 'fast-check';

/** Any UTF-16 code unit, so NUL and unpaired surrogates come up as often as letters. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/** The characters that break a store or a display, and a few that should pass untouched. */
const nasty = fc.constantFrom(
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u200E',
  '\u200F',
  '\u202E',
  '\uFEFF',
  '\uFFFD',
  'é',
  '😀',
  'a',
  ' ',
  '\n',
);

/** 64 KB, past every text limit of the contracts and the MQTT frame limit. */
const LONG = 64 * 1024;

/**
 * Strings a hostile or broken client sends: arbitrary code units (NUL, lone surrogates),
 * direction marks, ordinary text in any script, and 64 KB runs with or without a bad unit.
 */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ unit: nasty, minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc
    .tuple(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }), nasty)
    .map(([text, bad]) => text + bad),
  fc.constantFrom('x'.repeat(LONG), '\u200F'.repeat(LONG), `${'a'.repeat(LONG - 1)}\u0000`),
);

/** Whether a string has a character PostgreSQL text cannot hold (independent of contracts). */
export function hasUnstorable(value: string): boolean {
  if (value.includes('\u0000')) return true;
  // An unpaired surrogate does not survive UTF-8: it comes back as U+FFFD.
  return Buffer.from(value, 'utf8').toString('utf8') !== value;
}
