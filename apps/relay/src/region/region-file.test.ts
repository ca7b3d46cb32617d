import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegionFile, parseRegion, RegionFileError } from './region-file.js';

const valid = {
  facilities: [
    { id: 'tertiary-1', kind: 'tertiary', name: 'City', parentId: null },
    { id: 'county-1', kind: 'county', name: 'County 1', parentId: 'tertiary-1' },
    { id: 'clinic-1', kind: 'clinic', name: 'Clinic 1', parentId: 'county-1' },
  ],
  users: [
    {
      username: 'c1.reader',
      displayName: 'Reader',
      role: 'reader',
      facilityId: 'county-1',
      password: 'a-long-password',
    },
  ],
  devices: [{ id: 'box-1', facilityId: 'clinic-1', secret: 'a-secret-of-24-characters' }],
};

function problemsOf(input: unknown): string[] {
  try {
    parseRegion(input, 'test');
  } catch (error) {
    if (error instanceof RegionFileError) return error.problems;
    throw error;
  }
  return [];
}

describe('region file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telerelay-region-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the documented shape; users and devices are optional', async () => {
    const path = join(dir, 'region.json');
    await writeFile(path, JSON.stringify(valid));
    const region = await loadRegionFile(path);
    expect(region.facilities).toHaveLength(3);
    expect(region.users[0]?.username).toBe('c1.reader');
    expect(parseRegion({ facilities: valid.facilities }, 'test').devices).toEqual([]);
  });

  it("refuses AE titles on a hospital, repeated across clinics, or not DICOM's AE form", () => {
    const withTitles = (titles: Record<string, string[]>) => ({
      facilities: [
        ...valid.facilities.map((f) => ({ ...f, aeTitles: titles[f.id] })),
        {
          id: 'clinic-2',
          kind: 'clinic',
          name: 'Clinic 2',
          parentId: 'county-1',
          aeTitles: titles['clinic-2'],
        },
      ],
    });
    expect(problemsOf(withTitles({ 'clinic-1': ['CT1', 'DX1'], 'clinic-2': ['CT2'] }))).toEqual([]);
    expect(problemsOf(withTitles({ 'county-1': ['CT1'] }))).toEqual([
      'facilities.1 (county-1): only a clinic has calling AE titles',
    ]);
    expect(problemsOf(withTitles({ 'clinic-1': ['CT1'], 'clinic-2': ['CT1'] }))).toEqual([
      'AE title CT1 appears more than once',
    ]);
    expect(problemsOf(withTitles({ 'clinic-1': ['A_TITLE_LONGER_THAN_16'] }))[0]).toMatch(
      /facilities\.2\.aeTitles\.0: must be 1-16/,
    );
    expect(problemsOf(withTitles({ 'clinic-1': ['BACK\\SLASH'] }))).toHaveLength(1);
  });

  it('names a missing or unparsable file', async () => {
    await expect(loadRegionFile(join(dir, 'absent.json'))).rejects.toThrow(/ENOENT/);
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"facilities": [');
    await expect(loadRegionFile(path)).rejects.toThrow(/not valid JSON/);
  });

  it('names each problem by its place in the file, never echoing a password', () => {
    const problems = problemsOf({
      ...valid,
      facilities: [
        ...valid.facilities,
        { id: 'bad:id', kind: 'clinic', name: 'x', parentId: 'county-1' },
      ],
      users: [{ ...valid.users[0], password: 'short' }],
    });
    expect(problems.join('\n')).toMatch(/facilities\.3\.id/);
    expect(problems.join('\n')).toMatch(/users\.0\.password: .*8 characters/);
    expect(problems.join('\n')).not.toContain('short');
  });

  it('wants exactly one of password and passwordHash, secret and secretHash', () => {
    const { password: _p, ...noPassword } = valid.users[0]!;
    expect(problemsOf({ ...valid, users: [noPassword] }).join()).toMatch(/exactly one of password/);
    const both = { ...valid.devices[0], secretHash: '$argon2id$v=19$m=4096,t=2,p=1$abc$def' };
    expect(problemsOf({ ...valid, devices: [both] }).join()).toMatch(/exactly one of secret/);
    expect(problemsOf({ ...valid, extra: true }).join()).toMatch(/extra|Unrecognized/i);
  });

  it('refuses duplicates and a broken hierarchy inside the file', () => {
    const problems = problemsOf({
      facilities: [
        ...valid.facilities,
        { id: 'clinic-1', kind: 'clinic', name: 'Again', parentId: 'county-1' },
        { id: 'clinic-2', kind: 'clinic', name: 'Under a tertiary', parentId: 'tertiary-1' },
      ],
      users: [{ ...valid.users[0], facilityId: 'clinic-1' }],
      devices: [{ ...valid.devices[0], facilityId: 'county-1' }],
    });
    expect(problems).toContain('facility id clinic-1 appears more than once');
    expect(problems.join('\n')).toMatch(/clinic-2: a clinic's parent must be a county/);
    expect(problems.join('\n')).toMatch(/users\.0 \(c1\.reader\): a reader belongs to a county/);
    expect(problems.join('\n')).toMatch(/devices\.0 \(box-1\): a box belongs to a clinic/);
  });
});
