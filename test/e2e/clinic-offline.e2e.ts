import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, DeviceDiagnosis, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

/** How long the clinic's link is down: the scenario, in real time. */
const OFFLINE_MS = 5 * 60_000;

/**
 * clinic-delivery.e2e.ts covers a clinic that never connected while its diagnoses were
 * signed. This is the longer story: a clinic that was online goes offline (console and box)
 * for five minutes, two diagnoses are signed and the relay restarts meanwhile; on return the
 * console gets each exactly once and acknowledges it, and later reconnects (one of them after
 * another relay restart) get nothing again.
 *
 * The box comes back too and gets both diagnoses from the relay's database (what a box is
 * owed survives a restart; box-delivery.e2e.ts covers clean and persistent sessions).
 */
describe('a clinic offline for five minutes', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const sockets: ConsoleSocket[] = [];
  const boxes: SimulatedBox[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const box of boxes) await box.stop();
    await relay?.dispose();
  });

  function boxOf(device: DemoDevice, received: DeviceDiagnosis[]): SimulatedBox {
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    box.on('diagnosis', (diagnosis) => received.push(diagnosis));
    boxes.push(box);
    return box;
  }

  async function connected(box: SimulatedBox): Promise<SimulatedBox> {
    const up = once(box, 'connected');
    await box.start();
    await up;
    return box;
  }

  async function restartRelay(): Promise<void> {
    await relay.stop();
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });
  }

  it(
    'gets both diagnoses exactly once on its console when it returns, across relay restarts',
    async () => {
      const device = devices.find((candidate) => candidate.clinicId === 'clinic-6')!;
      const boxReceived: DeviceDiagnosis[] = [];
      const box = boxOf(device, boxReceived);
      await box.start();
      const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic6.staff');
      const online: DiagnosisDelivery[] = [];
      const clinicSocket = await clinic.connectSocketCollecting('diagnosis.signed', online);
      sockets.push(clinicSocket);
      const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
      const readerSocket = await reader.connectSocket();
      sockets.push(readerSocket);

      // The clinic records two ECGs while online; both reach the county's worklist.
      const caseIds: string[] = [];
      for (const seed of [61, 62]) {
        const listed = nextEvent(
          readerSocket,
          'worklist.case-added',
          (s) => s.clinicId === 'clinic-6',
        );
        const { caseId } = await box.record({ durationSeconds: 4, seed });
        expect((await listed).id).toBe(caseId);
        caseIds.push(caseId!);
      }

      // The clinic's link goes down: console and box both.
      clinicSocket.disconnect();
      await box.stop();
      const offlineSince = Date.now();

      for (const [index, caseId] of caseIds.entries()) {
        expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
        const signed = await reader.post(`/api/cases/${caseId}/sign`, {
          conclusion: index === 0 ? 'Sinus rhythm. Normal ECG.' : 'Sinus bradycardia.',
        });
        expect(signed.status).toBe(200);
      }
      await restartRelay();

      // Real time is the scenario: five minutes with nobody at the clinic's end.
      await sleep(Math.max(0, OFFLINE_MS - (Date.now() - offlineSince)));
      expect(online).toEqual([]);

      // Back online. The console gets each diagnosis once, in event order, and acknowledges it.
      const clinicAgain = await ConsoleClient.login(relay.httpUrl, 'clinic6.staff');
      const first: DiagnosisDelivery[] = [];
      const firstSocket = await clinicAgain.connectSocketCollecting('diagnosis.signed', first);
      sockets.push(firstSocket);
      await until(() => first.length >= 2);
      expect(first.map((d) => d.diagnosis.caseId)).toEqual(caseIds);
      expect(new Set(first.map((d) => d.eventId)).size).toBe(2);
      expect(Number(first[0]!.eventId)).toBeLessThan(Number(first[1]!.eventId));
      for (const delivery of first)
        firstSocket.emit('diagnosis.received', { eventId: delivery.eventId });
      await until(async () => {
        const details = await Promise.all(
          caseIds.map((id) => reader.get<CaseDetail>(`/api/cases/${id}`)),
        );
        return details.every((detail) => detail.body.clinicReceivedAt !== null);
      });

      // The box is back as well: both diagnoses reach it although the relay restarted.
      await connected(boxOf(device, boxReceived));
      await until(() => caseIds.every((id) => boxReceived.some((d) => d.caseId === id)));
      expect(boxReceived.map((d) => d.caseId)).toEqual(caseIds);

      // A later reconnect gets nothing again; nor does one after another relay restart.
      firstSocket.disconnect();
      const second: DiagnosisDelivery[] = [];
      sockets.push(await clinicAgain.connectSocketCollecting('diagnosis.signed', second));
      await restartRelay();
      const clinicAfterRestart = await ConsoleClient.login(relay.httpUrl, 'clinic6.staff');
      const third: DiagnosisDelivery[] = [];
      sockets.push(await clinicAfterRestart.connectSocketCollecting('diagnosis.signed', third));
      // Nothing is expected, so nothing can be awaited: give a replay time to show up.
      await sleep(2_000);
      expect(second).toEqual([]);
      expect(third).toEqual([]);
    },
    OFFLINE_MS + 180_000,
  );
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}
