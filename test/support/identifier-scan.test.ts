import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nationalIdCheckCharacter } from '#contracts';
import { assertNoIdentifierLeak, identifierLeaks, nationalIdsIn } from './identifier-scan.js';

/** A checksum-valid, fictitious citizen identity number. */
function fictitiousId(first17: string): string {
  return first17 + nationalIdCheckCharacter(first17);
}

const ID = fictitiousId('50010119850317201');
/** Some order code gives the check character X (remainder 2); the first such one. */
const ID_ENDING_X = Array.from({ length: 900 }, (_, i) =>
  fictitiousId(`50010119900101${100 + i}`),
).find((id) => id.endsWith('X'))!;

describe('nationalIdsIn', () => {
  it('finds a valid number in text, also one ending in a lower-case x', () => {
    expect(nationalIdsIn(`{"patient":"${ID}"}`)).toEqual([ID]);
    expect(nationalIdsIn(`id=${ID_ENDING_X.toLowerCase()};`)).toEqual([ID_ENDING_X.toLowerCase()]);
  });

  it('passes over a wrong check digit, an impossible birth date and longer digit runs', () => {
    const wrongCheck = ID.slice(0, 17) + (ID.endsWith('0') ? '1' : '0');
    const noSuchDate = fictitiousId('50010119851332201');
    expect(nationalIdsIn(`${wrongCheck} ${noSuchDate} 9${ID} ${ID}7`)).toEqual([]);
  });
});

describe('identifierLeaks', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('names each file and log holding a number, masked, and leaves the database folder out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-scan-'));
    dirs.push(dir);
    await mkdir(join(dir, 'blobs', 'ab'), { recursive: true });
    await mkdir(join(dir, 'redis'), { recursive: true });
    await mkdir(join(dir, 'pg'), { recursive: true });
    // Binary around it, as in a blob or Redis's append-only file.
    await writeFile(
      join(dir, 'blobs', 'ab', 'blob'),
      Buffer.concat([Buffer.from([0, 255, 16]), Buffer.from(ID), Buffer.from([0, 1])]),
    );
    await writeFile(join(dir, 'redis', 'appendonly.aof'), `*3\r\n$4\r\nHSET\r\n$18\r\n${ID}\r\n`);
    await writeFile(join(dir, 'pg', 'base'), ID);
    await writeFile(join(dir, 'relay.json'), '{"pid":1}');

    const leaks = await identifierLeaks({
      logs: [`{"msg":"x","id":"${ID}"}`],
      dirs: [dir],
      skip: ['pg'],
    });

    expect(leaks.map((leak) => leak.where).sort()).toEqual(
      ['blobs/ab/blob', 'log', 'redis/appendonly.aof'].sort(),
    );
    for (const leak of leaks) {
      expect(leak.masked).not.toContain(ID.slice(4, 14));
      expect(leak.masked.endsWith(ID.slice(-4))).toBe(true);
    }
    await expect(
      assertNoIdentifierLeak('the relay', { dirs: [dir], skip: ['pg'] }),
    ).rejects.toThrow(/blobs\/ab\/blob/);
    await expect(
      assertNoIdentifierLeak('the relay', { dirs: [join(dir, 'pg-missing')] }),
    ).resolves.toBeUndefined();
  });
});
