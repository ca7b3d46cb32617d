/**
 * The dates and times the relay sorts studies by and answers QIDO-RS date/time matching with
 * (range matching, PS3.4 C.2.2.2.5). A value that is not a valid DA or TM would be sorted,
 * matched or shown as something it is not, so it is refused rather than guessed.
 */
export const SORTED_DATES_AND_TIMES: readonly { tag: string; name: string; vr: 'DA' | 'TM' }[] = [
  { tag: 'x00080020', name: 'Study Date (0008,0020)', vr: 'DA' },
  { tag: 'x00080030', name: 'Study Time (0008,0030)', vr: 'TM' },
  { tag: 'x00080021', name: 'Series Date (0008,0021)', vr: 'DA' },
  { tag: 'x00080031', name: 'Series Time (0008,0031)', vr: 'TM' },
  { tag: 'x00080022', name: 'Acquisition Date (0008,0022)', vr: 'DA' },
  { tag: 'x00080032', name: 'Acquisition Time (0008,0032)', vr: 'TM' },
  { tag: 'x00080023', name: 'Content Date (0008,0023)', vr: 'DA' },
  { tag: 'x00080033', name: 'Content Time (0008,0033)', vr: 'TM' },
  { tag: 'x00100030', name: "Patient's Birth Date (0010,0030)", vr: 'DA' },
];

/** PS3.5 Table 6.2-1 DA: YYYYMMDD, a calendar date. */
export function isValidDate(value: string): boolean {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/**
 * PS3.5 Table 6.2-1 TM: HH[MM[SS[.F{1,6}]]], hours 00-23, minutes 00-59, seconds 00-60 (a leap
 * second); at most 13 characters, within the 16 bytes TM allows. The ACR-NEMA form HH:MM:SS.frac
 * that PS3.5 once recommended reading for backward compatibility is no longer part of TM.
 */
const TIME = /^([01]\d|2[0-3])([0-5]\d(([0-5]\d|60)(\.\d{1,6})?)?)?$/;
export function isValidTime(value: string): boolean {
  return TIME.test(value);
}

/**
 * The value as stored with its trailing space pad removed (PS3.5 §6.2: DA and TM values are
 * padded with a trailing space to an even length; leading and embedded spaces are not allowed).
 */
export function withoutPad(raw: string): string {
  return raw.replace(/ +$/, '');
}
