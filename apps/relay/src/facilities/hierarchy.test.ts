import { describe, expect, it } from 'vitest';
import type { Facility } from '#contracts';
import {
  ancestorsOf,
  checkChanges,
  holdersAfterMove,
  placementProblem,
  rolePlacementProblem,
  subtreeOf,
} from './hierarchy.js';

const region: Facility[] = [
  { id: 'tertiary-1', kind: 'tertiary', name: 'T1', parentId: null },
  { id: 'tertiary-2', kind: 'tertiary', name: 'T2', parentId: null },
  { id: 'county-1', kind: 'county', name: 'C1', parentId: 'tertiary-1' },
  { id: 'county-2', kind: 'county', name: 'C2', parentId: 'tertiary-1' },
  { id: 'county-3', kind: 'county', name: 'C3', parentId: 'tertiary-2' },
  { id: 'clinic-1', kind: 'clinic', name: 'K1', parentId: 'county-1' },
  { id: 'clinic-2', kind: 'clinic', name: 'K2', parentId: 'county-1' },
  { id: 'clinic-3', kind: 'clinic', name: 'K3', parentId: 'county-2' },
];

describe('facility hierarchy', () => {
  it('puts a clinic under a county, a county under a tertiary, a tertiary under nothing', () => {
    const county = { id: 'county-1', kind: 'county' as const };
    const tertiary = { id: 'tertiary-1', kind: 'tertiary' as const };
    const clinic = { id: 'clinic-9', kind: 'clinic' as const };
    expect(placementProblem(clinic, 'county-1', county)).toBeNull();
    expect(placementProblem({ id: 'c', kind: 'county' }, 'tertiary-1', tertiary)).toBeNull();
    expect(placementProblem(tertiary, null, undefined)).toBeNull();

    expect(placementProblem(clinic, 'tertiary-1', tertiary)).toMatch(/must be a county/);
    expect(placementProblem(clinic, null, undefined)).toMatch(/needs a county parent/);
    expect(placementProblem(clinic, 'county-x', undefined)).toMatch(/does not exist/);
    expect(placementProblem(tertiary, 'county-1', county)).toMatch(/has no parent/);
    expect(placementProblem(county, 'county-1', county)).toMatch(/its own parent/);
  });

  it('refuses a change of kind, and reports moves for the stranding check', () => {
    const moved = { id: 'clinic-1', kind: 'clinic' as const, name: 'K1', parentId: 'county-2' };
    const result = checkChanges([moved], region);
    expect(result.problems).toEqual([]);
    expect(result.moved).toEqual([moved]);

    const promoted = { id: 'county-1', kind: 'tertiary' as const, name: 'C1', parentId: null };
    expect(checkChanges([promoted], region).problems).toEqual([
      "county-1 is a county; a facility's kind cannot change",
    ]);
  });

  it('checks a batch as if applied together (a new county and its clinic)', () => {
    const county = { id: 'county-9', kind: 'county' as const, name: 'C9', parentId: 'tertiary-2' };
    const clinic = { id: 'clinic-9', kind: 'clinic' as const, name: 'K9', parentId: 'county-9' };
    expect(checkChanges([clinic, county], region).problems).toEqual([]);
    expect(checkChanges([clinic], region).problems).toEqual([
      'clinic-9: parent county-9 does not exist',
    ]);
  });

  it('walks a subtree and the ancestors', () => {
    expect(
      subtreeOf('tertiary-1', region)
        .map((f) => f.id)
        .sort(),
    ).toEqual(['clinic-1', 'clinic-2', 'clinic-3', 'county-1', 'county-2', 'tertiary-1']);
    expect(subtreeOf('nowhere', region)).toEqual([]);
    expect(ancestorsOf('clinic-1', region).map((f) => f.id)).toEqual(['county-1', 'tertiary-1']);
  });

  it('knows which hospitals may still hold the open cases after a move', () => {
    // clinic-1 to county-3 (another tertiary): neither county-1 nor tertiary-1 is above it any more.
    expect([...holdersAfterMove('clinic-1', 'county-3', region)].sort()).toEqual([
      'county-3',
      'tertiary-2',
    ]);
    // county-1 to tertiary-2: its own cases stay; an escalation held by tertiary-1 would not.
    expect([...holdersAfterMove('county-1', 'tertiary-2', region)].sort()).toEqual([
      'county-1',
      'tertiary-2',
    ]);
  });

  it('places readers at hospitals and clinic staff at clinics', () => {
    expect(rolePlacementProblem('reader', 'county')).toBeNull();
    expect(rolePlacementProblem('reader', 'clinic')).toMatch(/hospital/);
    expect(rolePlacementProblem('clinic_staff', 'county')).toMatch(/clinic/);
    expect(rolePlacementProblem('health_authority', 'tertiary')).toBeNull();
  });
});
