import { afterAll, describe, expect, it } from 'vitest';
import type { CaseDetail, DeviceDiagnosis, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, type ConsoleSocket } from '../support/clients.js';
import { crashRelay, relaunchOnSamePorts } from '../support/crash.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';
import { listedFor, sign, staffOf } from './delivery.js';
import {
  caseRows,
  countFromEnv,
  printFigure,
  reconcile,
  type StoredRecording,
  stopOrKill,
} from './fault-load.js';

const RUNS = countFromEnv('FAULT_WORKER_RUNS', 3);
/** BullMQ's worst case for a job whose worker died (lock 30 s + stalled check 30 s), doubled. */
const DELIVERY_AFTER_CRASH_MS = 120_000;

/**
 * The relay's BullMQ workers run inside the relay process (every instance runs them), so a
 * worker killed with jobs in flight is the relay killed with -9 right after handing them
 * work: once just after twelve recordings were stored (their analysis jobs queued or
 * running), once just after the twelve cases were signed (their delivery jobs queued or
 * running). Every job must have its effect exactly once after the restart: each case
 * analysed and listed once, each diagnosis written once as a clinic event, shown once on the
 * clinic's console and once (per protocol key) on the box.
 */
describe(`a worker killed with jobs in flight, ${RUNS} times`, () => {
  let relay: RelayProcess | undefined;
  const boxes: SimulatedBox[] = [];
  const sockets: ConsoleSocket[] = [];

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const box of boxes) await box.stop();
    await relay?.dispose();
  });

  it('runs each job’s effect exactly once: one case per recording, one diagnosis per case at the clinic and the box', async () => {
    const current = await RelayProcess.start();
    relay = current;
    const devices: DemoDevice[] = (await current.demoDevices()).slice(0, 12);
    const seenByBox = new Map<string, DeviceDiagnosis[]>();
    for (const device of devices) {
      const box = new SimulatedBox({
        brokerUrl: current.mqttUrl,
        deviceId: device.deviceId,
        secret: device.secret,
        ackTimeoutMs: 2_000,
        reconnect: { minMs: 100, maxMs: 1_000 },
        retry: { minMs: 100, maxMs: 1_000 },
      });
      box.on('error', () => undefined);
      // The box shows each diagnosis once per protocol key (caseId, signedAt): count those.
      box.on('diagnosis', (diagnosis) =>
        seenByBox.set(diagnosis.caseId, [...(seenByBox.get(diagnosis.caseId) ?? []), diagnosis]),
      );
      boxes.push(box);
      await box.start();
    }

    const stored = new Map<string, StoredRecording>();
    const clinicOf = new Map<string, string>();
    let listedTwice = 0;
    for (let run = 0; run < RUNS; run++) {
      const results = await Promise.all(
        boxes.map(async (box, i) => {
          const result = await box.record({ durationSeconds: 4 });
          clinicOf.set(result.caseId!, devices[i]!.clinicId);
          stored.set(result.recordingId, {
            ...result,
            caseId: result.caseId!,
            deviceId: box.deviceId,
          });
          return result.caseId!;
        }),
      );
      // Analysis jobs for the twelve are queued or running now.
      await crashRelay(current);
      await relaunchOnSamePorts(current);
      const listing = await listedFor(current, results);
      listedTwice += listing.listedTwice;
      for (const caseId of results) await sign(listing.readerOf.get(caseId)!, caseId);
      // Delivery jobs for the twelve are queued or running now.
      await crashRelay(current);
      await relaunchOnSamePorts(current);
      // Barrier: each diagnosis has reached its box, the effect seen from outside. Not the
      // relay's "delivered to the clinic" log line: pino writes asynchronously, so a line of
      // a job that finished just before the kill can die with the process while the job
      // counts as done and never runs again. And a job that was running at the kill is
      // taken up again only once BullMQ sees it stalled: its lock lapses (lockDuration,
      // 30 s) and the next stalled check runs (stalledInterval, 30 s), up to a minute after
      // the restart before the job runs at all.
      await waitFor(() => results.every((caseId) => seenByBox.has(caseId)), {
        timeoutMs: DELIVERY_AFTER_CRASH_MS,
        what: `run ${run}: every diagnosis on its box after the crash`,
      });
    }
    const caseIds = [...clinicOf.keys()];

    // The clinics were away during every crash; now each comes online and must get each of
    // its diagnoses once, under one event id.
    const atClinic: DiagnosisDelivery[] = [];
    const staffOfClinic = new Map<string, ConsoleClient>();
    for (const clinicId of new Set(clinicOf.values())) {
      const staff = await ConsoleClient.login(current.httpUrl, staffOf(clinicId));
      staffOfClinic.set(clinicId, staff);
      sockets.push(await staff.connectSocketCollecting('diagnosis.signed', atClinic));
    }
    await waitFor(() => caseIds.every((id) => atClinic.some((d) => d.diagnosis.caseId === id)), {
      what: 'every diagnosis at its clinic',
    });
    await waitFor(() => caseIds.every((id) => seenByBox.has(id)), {
      what: 'every diagnosis on its box',
    });
    // Any repeat would be in by now: the relay replays a clinic's whole backlog in one pass.
    const clinicRepeats = caseIds.filter(
      (id) => atClinic.filter((d) => d.diagnosis.caseId === id).length !== 1,
    ).length;
    const boxRepeats = caseIds.filter((id) => seenByBox.get(id)!.length !== 1).length;
    let unsigned = 0;
    for (const id of caseIds) {
      const detail = await staffOfClinic
        .get(clinicOf.get(id)!)!
        .get<CaseDetail>(`/api/cases/${id}`);
      if (detail.status !== 200 || detail.body.status !== 'signed') unsigned += 1;
    }
    for (const socket of sockets.splice(0)) socket.disconnect();
    for (const box of boxes) await box.stop();
    const sigtermStop = await stopOrKill(current);
    const { ackedLost, duplicateCases } = reconcile(stored, await caseRows(current.dataDir));
    printFigure('worker-kill', {
      sigtermStopMs: sigtermStop,
      runs: RUNS,
      kills: RUNS * 2,
      cases: caseIds.length,
      ackedLost,
      duplicateCases,
      listedTwice,
      unsigned,
      clinicDeliveriesNotOnce: clinicRepeats,
      boxDiagnosesNotOnce: boxRepeats,
    });
    expect(ackedLost).toBe(0);
    expect(duplicateCases).toBe(0);
    expect(listedTwice).toBe(0);
    expect(unsigned).toBe(0);
    expect(clinicRepeats).toBe(0);
    expect(boxRepeats).toBe(0);
    expect(new Set(atClinic.map((d) => d.eventId)).size).toBe(caseIds.length);
  });
});
