import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceDiagnosis, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, type ConsoleSocket } from '../support/clients.js';
import { logEntries } from '../support/crash.js';
import { InboxBox } from '../support/inbox-box.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';
import { deliveredToClinic, listedFor, sign } from './delivery.js';
import { printFigure } from './fault-load.js';

/**
 * A clinic (console and box) offline for 30 minutes across a relay restart gets every
 * diagnosis once when it returns.
 *
 * How 30 minutes are represented. The relay has no clock a test can move from outside its
 * process (Clock is injected inside it, for unit tests), and the test will not add one. What
 * can make an absence of 30 minutes differ from one of 30 seconds is whatever in the relay
 * runs out or runs on a timer in that time:
 * - the clinic's access token (15 minutes by default): it lapses during the absence, so the
 *   clinic must sign in again; here ACCESS_TOKEN_TTL_SECONDS=60 (its minimum), and the
 *   absence lasts until the old token is actually refused;
 * - the retention sweep (hourly by default), which deletes clinic events: here every 60 s
 *   (RETENTION_SWEEP_INTERVAL_SECONDS, its minimum), and the absence lasts until one has run
 *   after the relay restarted. It deletes only delivered events, after days (a day at least,
 *   CLINIC_EVENT_RETENTION_DAYS), so nothing owed may go;
 * - the broker's sessions and Socket.IO state, which live in memory: the restart wipes them,
 *   which is longer than any timeout they have.
 * Nothing else in the relay forgets an owed diagnosis with time (clinic-offline.e2e.ts
 * explains the same for its shorter absence). So the absence here outlives every window
 * the relay has below a day, which is what 30 real minutes would do, in about a minute.
 */
describe('a clinic offline for 30 minutes (as the relay counts them) across a relay restart', () => {
  let relay: RelayProcess | undefined;
  const sockets: ConsoleSocket[] = [];
  const inboxes: InboxBox[] = [];

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const inbox of inboxes) await inbox.leave().catch(() => undefined);
    await relay?.dispose();
  });

  it('gets every diagnosis once, on its console and on its box', async () => {
    const current = await RelayProcess.start({
      ACCESS_TOKEN_TTL_SECONDS: '60',
      RETENTION_SWEEP_INTERVAL_SECONDS: '60',
    });
    relay = current;
    const device = (await current.demoDevices()).find((d) => d.clinicId === 'clinic-5')!;
    const box = new SimulatedBox({
      brokerUrl: current.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    const shownOnBoxBefore: DeviceDiagnosis[] = [];
    box.on('diagnosis', (diagnosis) => shownOnBoxBefore.push(diagnosis));
    const connected = once(box, 'connected');
    await box.start();
    await connected;
    const staff = await ConsoleClient.login(current.httpUrl, 'clinic5.staff');
    const online: DiagnosisDelivery[] = [];
    sockets.push(await staff.connectSocketCollecting('diagnosis.signed', online));

    // Four ECGs recorded while online.
    const caseIds: string[] = [];
    for (let i = 0; i < 4; i++) caseIds.push((await box.record({ durationSeconds: 4 })).caseId!);
    const { readerOf } = await listedFor(current, caseIds);

    // The clinic's link goes down: console and box.
    const offlineAt = Date.now();
    sockets.pop()!.disconnect();
    await box.stop();

    // Two signed before the restart, two after, all while the clinic is away.
    for (const id of caseIds.slice(0, 2)) await sign(readerOf.get(id)!, id);
    await Promise.all(caseIds.slice(0, 2).map((id) => deliveredToClinic(current, id)));
    const restartMark = current.logs.length;
    await current.stop();
    await current.launch({ PORT: String(current.httpPort), MQTT_PORT: String(current.mqttPort) });
    const { readerOf: readerAfter } = await listedFor(current, caseIds.slice(2));
    for (const id of caseIds.slice(2)) await sign(readerAfter.get(id)!, id);
    await Promise.all(caseIds.slice(2).map((id) => deliveredToClinic(current, id)));

    // The absence lasts until the clinic's token has lapsed and a sweep has run since the restart.
    await waitFor(async () => (await staff.get('/api/worklist')).status === 401, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
      what: "the clinic's old access token refused",
    });
    await current.waitForLog((line) => line.includes('"retention sweep"'), restartMark, 120_000);
    const sweeps = logEntries(current, 'retention sweep').length;
    const offlineMs = Date.now() - offlineAt;

    // Back: the console signs in again and gets each diagnosis once; the box too.
    const back = await ConsoleClient.login(current.httpUrl, 'clinic5.staff');
    const replayed: DiagnosisDelivery[] = [];
    const socket = await back.connectSocketCollecting('diagnosis.signed', replayed);
    sockets.push(socket);
    const inbox = await InboxBox.connect(current.mqttUrl, device, false);
    inboxes.push(inbox);
    await waitFor(() => caseIds.every((id) => replayed.some((d) => d.diagnosis.caseId === id)), {
      what: 'every diagnosis on the console',
    });
    await waitFor(() => caseIds.every((id) => inbox.caseIds.includes(id)), {
      what: 'every diagnosis on the box',
    });
    for (const delivery of replayed)
      socket.emit('diagnosis.received', { eventId: delivery.eventId });
    const consoleNotOnce = caseIds.filter(
      (id) => replayed.filter((d) => d.diagnosis.caseId === id).length !== 1,
    ).length;
    const boxNotOnce = caseIds.filter(
      (id) => inbox.caseIds.filter((caseId) => caseId === id).length !== 1,
    ).length;
    printFigure('clinic-offline', {
      diagnoses: caseIds.length,
      offlineMs,
      represents: '30min',
      accessTokenTtlS: 60,
      retentionSweepsSeen: sweeps,
      consoleNotOnce,
      boxNotOnce,
      deliveredWhileOffline: online.length + shownOnBoxBefore.length,
    });
    expect(online).toEqual([]);
    expect(shownOnBoxBefore).toEqual([]);
    expect(consoleNotOnce).toBe(0);
    expect(boxNotOnce).toBe(0);
    expect(replayed).toHaveLength(caseIds.length);
    expect(inbox.diagnoses).toHaveLength(caseIds.length);
  });
});
