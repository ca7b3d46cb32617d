import { describe, expect, it } from 'vitest';
import { ConsentCodes } from './consent-codes.js';
import { requestRefusal } from './consent-limits.js';

const codes = new ConsentCodes('a-test-auth-secret-of-at-least-32-characters');

describe('verification codes', () => {
  it('are six digits, spread over the whole range, and each opens only its own request and patient', () => {
    const issued = Array.from({ length: 2000 }, (_, i) => codes.issue(`request-${i}`, 'patient-a'));
    for (const { code } of issued) expect(code).toMatch(/^[0-9]{6}$/);
    // A uniform draw of 2000 from a million: nearly all distinct, both halves of the range hit.
    expect(new Set(issued.map((i) => i.code)).size).toBeGreaterThan(1990);
    expect(issued.some((i) => Number(i.code) < 500_000)).toBe(true);
    expect(issued.some((i) => Number(i.code) >= 500_000)).toBe(true);

    const { code, hash } = codes.issue('request-x', 'patient-a');
    expect(codes.matches(hash, 'request-x', 'patient-a', code)).toBe(true);
    expect(codes.matches(hash, 'request-y', 'patient-a', code)).toBe(false);
    expect(codes.matches(hash, 'request-x', 'patient-b', code)).toBe(false);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(codes.matches(hash, 'request-x', 'patient-a', wrong)).toBe(false);
  });

  it('keep only a keyed hash: the same code under another key does not match, and the hash is not the code', () => {
    const other = new ConsentCodes('another-test-auth-secret-of-32-characters!');
    const { code, hash } = codes.issue('request-1', 'patient-a');
    expect(hash).not.toContain(code);
    expect(other.matches(hash, 'request-1', 'patient-a', code)).toBe(false);
  });

  it('give a request whose number matched nobody a hash that no code opens', () => {
    const hash = codes.issueUnmatchable('request-2');
    for (let n = 0; n < 1_000_000; n += 997) {
      const code = String(n).padStart(6, '0');
      expect(codes.matches(hash, 'request-2', 'none', code)).toBe(false);
    }
    expect(codes.matches(codes.unmatchable, 'request-2', 'none', '000000')).toBe(false);
  });
});

describe('request limits', () => {
  it('allow three requests per number and thirty per user a day, and none after a lock', () => {
    const none = { byUser: 0, bySubject: 0, subjectLocked: false };
    expect(requestRefusal(none)).toBeNull();
    expect(requestRefusal({ ...none, byUser: 2, bySubject: 2 })).toBeNull();
    expect(requestRefusal({ ...none, byUser: 3, bySubject: 3 })).toBe('subject-limit');
    expect(requestRefusal({ ...none, byUser: 30 })).toBe('user-limit');
    expect(requestRefusal({ ...none, byUser: 1, bySubject: 1, subjectLocked: true })).toBe(
      'subject-locked',
    );
  });
});
