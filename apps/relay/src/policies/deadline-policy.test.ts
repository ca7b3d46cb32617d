import { describe, expect, it } from 'vitest';
import { HospitalPolicyRequestSchema } from '#contracts';
import { deadlineAfter, deadlineMove, effectivePolicy, nearTime } from './deadline-policy.js';

const SLA = { ecgSeconds: 180, ecgStatSeconds: 60, imagingSeconds: 3600, imagingStatSeconds: 900 };
const county = { id: 'county-1', parentId: 'tertiary-1' };

describe('deadlines', () => {
  it('takes the relay defaults by kind and priority when a hospital has set nothing', () => {
    const policy = effectivePolicy('county-1', undefined, SLA);
    expect(policy.deadlines).toEqual({
      ecg: { stat: 60, urgent: 180, routine: 180 },
      imaging: { stat: 900, urgent: 3600, routine: 3600 },
    });
    expect(policy).toMatchObject({
      atDeadline: 'escalate',
      overflowHospitalId: null,
      updatedAt: null,
    });
  });

  it('lays a hospital’s own deadlines over the defaults, one cell at a time', () => {
    const policy = effectivePolicy(
      'county-1',
      {
        deadlines: { ecg: { stat: 30 }, imaging: { routine: 7200 } },
        atDeadline: 'overflow',
        overflowHospitalId: 'county-2',
        updatedAt: new Date('2026-01-01T00:00:00Z'),
      },
      SLA,
    );
    expect(policy.deadlines.ecg).toEqual({ stat: 30, urgent: 180, routine: 180 });
    expect(policy.deadlines.imaging).toEqual({ stat: 900, urgent: 3600, routine: 7200 });
    const from = new Date('2026-01-01T10:00:00Z');
    expect(deadlineAfter(policy, 'ecg', 'stat', from).toISOString()).toBe(
      '2026-01-01T10:00:30.000Z',
    );
    expect(deadlineAfter(policy, 'imaging', 'urgent', from).toISOString()).toBe(
      '2026-01-01T11:00:00.000Z',
    );
  });

  it('warns at 80 % of the time from queueing to the deadline', () => {
    const from = new Date('2026-01-01T10:00:00Z');
    expect(nearTime(from, new Date('2026-01-01T10:03:00Z')).toISOString()).toBe(
      '2026-01-01T10:02:24.000Z',
    );
    // A deadline already past (a late restart) warns at once, never in the past's future.
    expect(nearTime(from, new Date('2026-01-01T09:00:00Z'))).toEqual(from);
  });
});

describe('where an unclaimed case goes at the deadline', () => {
  const escalate = effectivePolicy('county-1', undefined, SLA);
  const overflow = effectivePolicy(
    'county-1',
    {
      deadlines: {},
      atDeadline: 'overflow',
      overflowHospitalId: 'county-2',
      updatedAt: new Date(),
    },
    SLA,
  );

  it('escalates to the hospital above', () => {
    expect(deadlineMove(escalate, county, false)).toEqual({
      kind: 'escalated',
      toHospitalId: 'tertiary-1',
    });
  });

  it('overflows to the named county hospital, but only once per case', () => {
    expect(deadlineMove(overflow, county, false)).toEqual({
      kind: 'overflowed',
      toHospitalId: 'county-2',
    });
    // A case that already overflowed once escalates instead: no ping-pong between counties.
    expect(deadlineMove(overflow, county, true)).toEqual({
      kind: 'escalated',
      toHospitalId: 'tertiary-1',
    });
  });

  it('leaves the case where it is at a hospital with nobody above it', () => {
    const tertiary = { id: 'tertiary-1', parentId: null };
    expect(deadlineMove(effectivePolicy('tertiary-1', undefined, SLA), tertiary, false)).toBeNull();
  });
});

describe('policy validation', () => {
  it('accepts a partial table of deadlines and fills the rest in', () => {
    expect(
      HospitalPolicyRequestSchema.parse({
        atDeadline: 'escalate',
        deadlines: { ecg: { stat: 45 } },
      }),
    ).toEqual({
      atDeadline: 'escalate',
      deadlines: { ecg: { stat: 45 } },
      overflowHospitalId: null,
    });
  });

  it.each([
    ['an overflow without a target', { atDeadline: 'overflow' }, 'overflowHospitalId'],
    [
      'a target without overflow',
      { atDeadline: 'escalate', overflowHospitalId: 'county-2' },
      'overflowHospitalId',
    ],
    ['an unknown action', { atDeadline: 'discard' }, 'atDeadline'],
    [
      'a deadline too short',
      { atDeadline: 'escalate', deadlines: { ecg: { stat: 1 } } },
      'deadlines.ecg.stat',
    ],
    [
      'a fractional deadline',
      { atDeadline: 'escalate', deadlines: { ecg: { routine: 9.5 } } },
      'deadlines.ecg.routine',
    ],
    ['an unknown kind', { atDeadline: 'escalate', deadlines: { mri: { stat: 60 } } }, 'deadlines'],
    [
      'an unknown priority',
      { atDeadline: 'escalate', deadlines: { ecg: { soon: 60 } } },
      'deadlines.ecg',
    ],
    ['an unknown field', { atDeadline: 'escalate', pager: true }, ''],
  ])('refuses %s', (_name, input, path) => {
    const result = HospitalPolicyRequestSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });
});
