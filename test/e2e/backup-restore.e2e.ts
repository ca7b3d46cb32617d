import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseEcg } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

const run = promisify(execFile);
const serverUrl = process.env['TEST_DATABASE_URL'];

/** A database of its own on the test server, and its drop. */
async function freshDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `telerelay_e2e_${label}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(serverUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

// The procedure of docs/operations.md, "Backups", on PostgreSQL (the production store); CI
// gives TEST_DATABASE_URL (.ci/run), so this runs there.
describe.skipIf(!serverUrl)(
  'backup of a running relay (pg_dump and the blob directory) restored into a new database: needs TEST_DATABASE_URL',
  () => {
    const drops: (() => Promise<void>)[] = [];
    const dirs: string[] = [];
    const relays: RelayProcess[] = [];

    beforeAll(() => {
      if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
    });

    afterAll(async () => {
      for (const relay of relays) await relay.dispose().catch(() => undefined);
      for (const drop of drops) await drop().catch(() => undefined);
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    async function tempDir(prefix: string): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    }

    it('finds every case, its diagnosis and its samples on a relay started from the backup', async () => {
      const original = await freshDatabase('original');
      drops.push(original.drop);
      const relay = await RelayProcess.start({ DATABASE_URL: original.url });
      relays.push(relay);
      const devices: DemoDevice[] = await relay.demoDevices();

      // A box of clinic 1 records twice; the county reader signs the first. The second stays
      // on the worklist.
      const device = devices.find((candidate) => candidate.clinicId === 'clinic-1')!;
      const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
      const socket = await reader.connectSocket();
      const box = new SimulatedBox({
        brokerUrl: relay.mqttUrl,
        deviceId: device.deviceId,
        secret: device.secret,
      });
      await box.start();
      const caseIds: string[] = [];
      for (const seed of [72, 75]) {
        const listed = nextEvent(socket, 'worklist.case-added', (s) => s.clinicId === 'clinic-1');
        const { caseId } = await box.record({ durationSeconds: 4, seed });
        expect((await listed).id).toBe(caseId);
        caseIds.push(caseId!);
      }
      await box.stop();
      socket.disconnect();
      const [signedId, waitingId] = caseIds as [string, string];
      expect((await reader.post(`/api/cases/${signedId}/claim`)).status).toBe(200);
      const conclusion = 'Sinus rhythm, backed up.';
      expect((await reader.post(`/api/cases/${signedId}/sign`, { conclusion })).status).toBe(200);
      const staff = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
      const before = {
        signed: await staff.get<CaseDetail>(`/api/cases/${signedId}`),
        waiting: await staff.get<CaseDetail>(`/api/cases/${waitingId}`),
        ecg: await staff.get<CaseEcg>(`/api/cases/${signedId}/ecg`),
      };
      expect(before.signed.body.diagnosis?.conclusion).toBe(conclusion);

      // The backup, taken while the relay runs: the database first, then the blobs. Blobs are
      // written (and fsynced) before the row that names them commits, so every row in the
      // dump finds its blob in the later copy.
      const backup = await tempDir('telerelay-backup-');
      await run('pg_dump', [
        '--format=custom',
        `--file=${join(backup, 'relay.dump')}`,
        original.url,
      ]);
      await cp(join(relay.dataDir, 'blobs'), join(backup, 'blobs'), { recursive: true });
      // The original is gone (a lost machine): stopped, its database dropped.
      await relay.dispose();
      relays.splice(relays.indexOf(relay), 1);
      await original.drop();
      drops.splice(drops.indexOf(original.drop), 1);

      // Restore into a new database and a new data directory, and start a relay on them.
      const restored = await freshDatabase('restored');
      drops.push(restored.drop);
      await run('pg_restore', [
        '--no-owner',
        '--exit-on-error',
        `--dbname=${restored.url}`,
        join(backup, 'relay.dump'),
      ]);
      const dataDir = await tempDir('telerelay-restored-');
      await cp(join(backup, 'blobs'), join(dataDir, 'blobs'), { recursive: true });
      const again = await RelayProcess.start({ DATABASE_URL: restored.url, DATA_DIR: dataDir });
      relays.push(again);

      const staffAgain = await ConsoleClient.login(again.httpUrl, 'clinic1.staff');
      const after = {
        signed: await staffAgain.get<CaseDetail>(`/api/cases/${signedId}`),
        waiting: await staffAgain.get<CaseDetail>(`/api/cases/${waitingId}`),
        ecg: await staffAgain.get<CaseEcg>(`/api/cases/${signedId}/ecg`),
      };
      expect(after.signed.status).toBe(200);
      expect(after.signed.body).toEqual(before.signed.body);
      expect(after.waiting.body).toEqual(before.waiting.body);
      expect(after.ecg.status).toBe(200);
      expect(after.ecg.body.samples).toBe(before.ecg.body.samples);
      // And the restored relay goes on working: the waiting case can be signed there.
      const readerAgain = await ConsoleClient.login(again.httpUrl, 'county1.reader');
      expect((await readerAgain.post(`/api/cases/${waitingId}/claim`)).status).toBe(200);
      expect(
        (await readerAgain.post(`/api/cases/${waitingId}/sign`, { conclusion: 'Restored.' }))
          .status,
      ).toBe(200);
    });
  },
);
