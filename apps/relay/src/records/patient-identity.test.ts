import { describe, expect, it } from 'vitest';
import {
  ageInYears,
  maskIdentifier,
  nationalIdBirthDate,
  nationalIdCheckCharacter,
  nationalIdSchema,
  nationalIdSex,
  RegisterPatientSchema,
} from '#contracts';
import { PatientIdentity, SealedIdentifierError } from './patient-identity.js';

const key = (fill: number) => Buffer.alloc(32, fill);

describe('national ID (GB 11643-1999)', () => {
  it("computes the check character of the standard's own examples", () => {
    // GB 11643-1999 gives 11010519491231002X and 440524188001010014 as examples.
    expect(nationalIdCheckCharacter('11010519491231002')).toBe('X');
    expect(nationalIdCheckCharacter('44052418800101001')).toBe('4');
  });

  it('accepts fictitious demo numbers whose check character was computed, and a lower-case x', () => {
    expect(nationalIdSchema.parse('500101190001010017')).toBe('500101190001010017');
    expect(nationalIdSchema.parse(' 11010519491231002x ')).toBe('11010519491231002X');
    expect(nationalIdBirthDate('500101190103150037')).toBe('1901-03-15');
    expect(nationalIdSex('500101190103150037')).toBe('male');
    expect(nationalIdSex('500101190001010025')).toBe('female');
  });

  it('refuses a wrong check character, a wrong length, letters and an impossible birth date', () => {
    for (const bad of [
      '500101190001010018', // check character off by one
      '50010119000101001', // 17 characters
      '5001011900010100171',
      '50010119000101A017',
      '500101190002300010', // 30 February 1900; check character recomputed below
    ]) {
      expect(nationalIdSchema.safeParse(bad).success, bad).toBe(false);
    }
    const feb30 = `50010119000230001${nationalIdCheckCharacter('50010119000230001')}`;
    const result = nationalIdSchema.safeParse(feb30);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'date of birth inside is not a valid date',
    ]);
  });

  it('registration takes sex and birth date from a resident ID and refuses ones that disagree', () => {
    const base = {
      documentType: 'resident_id',
      idNumber: '500101190001010017',
      name: '测试患者一',
    };
    expect(RegisterPatientSchema.safeParse(base).success).toBe(true);
    const wrong = RegisterPatientSchema.safeParse({
      ...base,
      sex: 'female',
      birthDate: '1900-01-02',
    });
    expect(wrong.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'birthDate',
      'sex',
    ]);
    const passport = { documentType: 'passport', idNumber: 'E12345678', name: 'Test' };
    expect(RegisterPatientSchema.safeParse(passport).success).toBe(true);
  });
});

describe('ageInYears', () => {
  it('counts whole years, a birthday not yet reached this year not counted, in UTC', () => {
    const at = new Date('2026-03-02T08:00:00Z');
    expect(ageInYears('1986-03-02', at)).toBe(40);
    expect(ageInYears('1986-03-03', at)).toBe(39);
    expect(ageInYears('2025-12-31', at)).toBe(0);
    expect(ageInYears(null, at)).toBeNull();
    expect(ageInYears('2027-01-01', at)).toBeNull();
  });
});

describe('maskIdentifier', () => {
  it('shows four characters at each end of a national ID and a quarter of a shorter number', () => {
    expect(maskIdentifier('500101190001011234')).toBe('5001**********1234');
    expect(maskIdentifier('E12345678')).toBe('E1*****78');
    expect(maskIdentifier('ABC')).toBe('***');
  });
});

describe('PatientIdentity', () => {
  const identity = new PatientIdentity({ hmacKey: key(1), sealKeys: [{ id: 'k1', key: key(2) }] });

  it('gives one lookup key per document type and number, whatever the spelling', () => {
    const a = identity.lookupKey('resident_id', '11010519491231002X');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.lookupKey('resident_id', ' 11010519491231002x')).toBe(a);
    expect(identity.lookupKey('passport', '11010519491231002X')).not.toBe(a);
    const otherKey = new PatientIdentity({
      hmacKey: key(9),
      sealKeys: [{ id: 'k1', key: key(2) }],
    });
    expect(otherKey.lookupKey('resident_id', '11010519491231002X')).not.toBe(a);
  });

  it('seals to a value without the number that opens to it, different each time', () => {
    const first = identity.seal('500101190001010017');
    const second = identity.seal('500101190001010017');
    expect(first).not.toBe(second);
    expect(first).not.toContain('500101');
    expect(first.startsWith('k1.')).toBe(true);
    expect(identity.open(first)).toBe('500101190001010017');
  });

  it('opens values sealed under an older key after rotation, and seals under the newest', () => {
    const sealedBefore = identity.seal('500101190001010017');
    const rotated = new PatientIdentity({
      hmacKey: key(1),
      sealKeys: [
        { id: 'k2', key: key(3) },
        { id: 'k1', key: key(2) },
      ],
    });
    expect(rotated.open(sealedBefore)).toBe('500101190001010017');
    expect(rotated.needsReseal(sealedBefore)).toBe(true);
    const sealedAfter = rotated.seal('500101190001010017');
    expect(sealedAfter.startsWith('k2.')).toBe(true);
    expect(rotated.needsReseal(sealedAfter)).toBe(false);
    // Once k1 is retired, what it sealed no longer opens: re-seal before removing it.
    const retired = new PatientIdentity({ hmacKey: key(1), sealKeys: [{ id: 'k2', key: key(3) }] });
    expect(() => retired.open(sealedBefore)).toThrow(SealedIdentifierError);
  });

  it('refuses a tampered value or one renamed to another key id', () => {
    const sealed = identity.seal('500101190001010017');
    const body = sealed.slice(3);
    const flipped = `k1.${body.slice(0, -2)}${body.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(() => identity.open(flipped)).toThrow(SealedIdentifierError);
    const twoKeys = new PatientIdentity({
      hmacKey: key(1),
      sealKeys: [
        { id: 'k1', key: key(2) },
        { id: 'k0', key: key(2) },
      ],
    });
    expect(() => twoKeys.open(`k0.${body}`)).toThrow(SealedIdentifierError);
  });
});
