import { randomInt } from 'node:crypto';
import { ORDER_NUMBER_ALPHABET } from '#contracts';

/**
 * A fresh order number: 8 characters of a 31-letter alphabet without 0/O/1/I/L (about 8·10^11
 * numbers), so an operator reading it off a screen cannot mistype one for another and a
 * guess hits an open order of the same clinic with negligible chance.
 */
export function drawOrderNumber(): string {
  let number = '';
  for (let i = 0; i < 8; i += 1)
    number += ORDER_NUMBER_ALPHABET[randomInt(ORDER_NUMBER_ALPHABET.length)];
  return number;
}

/** How the number is shown to the operator: `ABCD-2345` (the dash is optional when typed). */
export function formatOrderNumber(number: string): string {
  return `${number.slice(0, 4)}-${number.slice(4)}`;
}
