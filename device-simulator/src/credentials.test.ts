import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsError, loadCredentials } from './credentials.js';

describe('loadCredentials', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telerelay-sim-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(content: string): Promise<string> {
    const path = join(dir, 'devices.json');
    await writeFile(path, content);
    return path;
  }

  it('reads the devices in file order', async () => {
    const devices = [
      { deviceId: 'box-0001', secret: 's1', clinicId: 'c1' },
      { deviceId: 'box-0002', secret: 's2', clinicId: 'c2' },
    ];
    expect(await loadCredentials(await file(JSON.stringify({ devices })))).toEqual(devices);
  });

  it.each([
    ['a missing file', null],
    ['bad JSON', '{ devices: '],
    ['no devices', '{ "devices": [] }'],
    ['a device without a secret', '{ "devices": [ { "deviceId": "b", "clinicId": "c" } ] }'],
    [
      'a device id with a topic separator',
      '{ "devices": [ { "deviceId": "a/b", "secret": "s", "clinicId": "c" } ] }',
    ],
    [
      'a duplicated device id',
      '{ "devices": [ { "deviceId": "b", "secret": "s", "clinicId": "c" }, { "deviceId": "b", "secret": "t", "clinicId": "c" } ] }',
    ],
  ])('rejects %s with a CredentialsError naming the file', async (_, content) => {
    const path = content === null ? join(dir, 'absent.json') : await file(content);
    const error = await loadCredentials(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).toContain(path);
  });
});
