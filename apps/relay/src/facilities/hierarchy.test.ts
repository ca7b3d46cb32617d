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
  { id: 'tertiary-1', kind: 'tertiary', name: 'T1', parentId: null, disabled: false },
  { id: 'tertiary-2', kind: 'tertiary', name: 'T2', parentId: null, disabled: false },
  { id: 'county-1', kind: 'county', name: 'C1', parentId: 'tertiary-1', disabled: false },
  { id: 'county-2', kind: 'county', name: 'C2', parentId: 'tertiary-1', disabled: false },
  { id: 'county-3', kind: 'county', name: 'C3', parentId: 'tertiary-2', disabled: false },
  { id: 'clinic-1', kind: 'clinic', name: 'K1', parentId: 'county-1', disabled: false },
  { id: 'clinic-2', kind: 'clinic', name: 'K2', parentId: 'county-1', disabled: false },
  { id: 'clinic-3', kind: 'clinic', name: 'K3', parentId: 'county-2', disabled: false },
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
    expect(result.moved).toEqual([{ ...moved, disabled: false }]);

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

  it('disables a facility only once nothing enabled is below it, and enables one only under an enabled parent', () => {
    const disabled = (id: string, parentId: string, kind: Facility['kind']): Facility => ({
      id,
      kind,
      name: id,
      parentId,
      disabled: true,
    });
    const countyOff = disabled('county-2', 'tertiary-1', 'county');
    expect(checkChanges([countyOff], region).conflicts).toEqual([
      'county-2 cannot be disabled while clinic-3 below it is enabled; move or disable it first',
    ]);
    expect(checkChanges([disabled('county-1', 'tertiary-1', 'county')], region).conflicts).toEqual([
      'county-1 cannot be disabled while clinic-1, clinic-2 below it are enabled; move or disable them first',
    ]);
    // Together with its only clinic, in one batch: no conflict, and both are reported as disabled now.
    const clinicOff = disabled('clinic-3', 'county-2', 'clinic');
    const both = checkChanges([clinicOff, countyOff], region);
    expect(both.conflicts).toEqual([]);
    expect(both.disabledNow.map((f) => f.id)).toEqual(['clinic-3', 'county-2']);

    const after = both.after;
    // Nothing may be enabled, created or moved under the disabled county.
    const reopened = { ...clinicOff, disabled: false };
    expect(checkChanges([reopened], after).conflicts).toEqual([
      'clinic-3 cannot be enabled under county-2 while county-2 is disabled; enable county-2 first',
    ]);
    const newcomer = { id: 'clinic-9', kind: 'clinic' as const, name: 'K9', parentId: 'county-2' };
    expect(checkChanges([newcomer], after).conflicts).toHaveLength(1);
    const mover = { id: 'clinic-1', kind: 'clinic' as const, name: 'K1', parentId: 'county-2' };
    expect(checkChanges([mover], after).conflicts).toEqual([
      'clinic-1 cannot be enabled under county-2 while county-2 is disabled; enable county-2 first',
    ]);
    // A write that leaves `disabled` out keeps the facility as it is (a region file's rename).
    const renamed = { id: 'clinic-3', kind: 'clinic' as const, name: 'K3b', parentId: 'county-2' };
    const rename = checkChanges([renamed], after);
    expect(rename.conflicts).toEqual([]);
    expect(rename.after.find((f) => f.id === 'clinic-3')?.disabled).toBe(true);
    expect(rename.disabledNow).toEqual([]);
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
