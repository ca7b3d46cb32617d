import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, DeviceDiagnosis, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/**
 * clinic-delivery.e2e.ts covers a clinic that never connected while its diagnoses were
 * signed. This is the longer story: a clinic that was online goes offline (console and box),
 * two diagnoses are signed and pushed while nobody listens, and the relay restarts
 * meanwhile; on return the console gets each exactly once and acknowledges it, and later
 * reconnects (one of them after another relay restart) get only what is still owed.
 *
 * "Long" is measured against what the relay remembers, not in minutes. The relay keeps
 * nothing for an absent clinic that runs out with time: Socket.IO's connection-state
 * recovery is off, and the broker's sessions live in memory, so the restart during the
 * absence already outlasts every memory the relay has of the clinic's socket and box. What
 * the clinic gets back can then only come from the database (`clinic_events`). Waiting
 * five real minutes on top (as this test once did) proved nothing more: no timer in the
 * relay forgets an owed event after minutes (retention deletes only delivered ones, after
 * days, and retention.repository.test.ts checks that with a clock).
 *
 * The box comes back too and gets both diagnoses from the relay's database (what a box is
 * owed survives a restart; box-delivery.e2e.ts covers clean and persistent sessions).
 */
describe('a clinic offline across relay restarts', () => {
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

  /** The delivery job has pushed the case's clinic event (to whoever was listening). */
  function pushed(caseId: string): Promise<string> {
    return relay.waitForLog(
      (line) => line.includes('"delivered to the clinic"') && line.includes(caseId),
      0,
      30_000,
    );
  }

  it('gets both diagnoses exactly once on its console when it returns, across relay restarts', async () => {
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
    const sign = async (caseId: string, conclusion: string) => {
      expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
      expect((await reader.post(`/api/cases/${caseId}/sign`, { conclusion })).status).toBe(200);
    };

    // The clinic records three ECGs while online; all reach the county's worklist.
    const recorded: string[] = [];
    for (const seed of [61, 62, 63]) {
      const listed = nextEvent(
        readerSocket,
        'worklist.case-added',
        (s) => s.clinicId === 'clinic-6',
      );
      const { caseId } = await box.record({ durationSeconds: 4, seed });
      expect((await listed).id).toBe(caseId);
      recorded.push(caseId!);
    }
    const caseIds = recorded.slice(0, 2);
    const later = recorded[2]!;

    // The clinic's link goes down: console and box both.
    clinicSocket.disconnect();
    await box.stop();

    // Two are signed, and their live pushes go out to nobody; then the relay restarts, and
    // with it goes every socket and MQTT session it knew of the clinic.
    await sign(caseIds[0]!, 'Sinus rhythm. Normal ECG.');
    await sign(caseIds[1]!, 'Sinus bradycardia.');
    await Promise.all(caseIds.map(pushed));
    await restartRelay();
    expect(online).toEqual([]);

    // Back online. The console gets each diagnosis once, in event order, and acknowledges it.
    const clinicAgain = await ConsoleClient.login(relay.httpUrl, 'clinic6.staff');
    const first: DiagnosisDelivery[] = [];
    const firstSocket = await clinicAgain.connectSocketCollecting('diagnosis.signed', first);
    sockets.push(firstSocket);
    await waitFor(() => first.length >= 2, { what: 'both diagnoses replayed' });
    expect(first.map((d) => d.diagnosis.caseId)).toEqual(caseIds);
    expect(new Set(first.map((d) => d.eventId)).size).toBe(2);
    expect(Number(first[0]!.eventId)).toBeLessThan(Number(first[1]!.eventId));
    for (const delivery of first)
      firstSocket.emit('diagnosis.received', { eventId: delivery.eventId });
    await waitFor(
      async () => {
        const details = await Promise.all(
          caseIds.map((id) => reader.get<CaseDetail>(`/api/cases/${id}`)),
        );
        return details.every((detail) => detail.body.clinicReceivedAt !== null);
      },
      { what: 'clinicReceivedAt on both cases' },
    );

    // The box is back as well: both diagnoses reach it although the relay restarted.
    await connected(boxOf(device, boxReceived));
    await waitFor(() => caseIds.every((id) => boxReceived.some((d) => d.caseId === id)), {
      what: 'both diagnoses on the box',
    });
    expect(boxReceived.map((d) => d.caseId)).toEqual(caseIds);

    // Later reconnects, one after another relay restart, get only what is owed since: the
    // third diagnosis, signed while the console was away again. The relay replays in event
    // order in one pass, so once the newest event is in, an acknowledged (older) one that
    // came again would already be there too: the third is the barrier, and no sleep is.
    firstSocket.disconnect();
    await sign(later, 'Sinus rhythm.');
    await pushed(later);
    const second: DiagnosisDelivery[] = [];
    sockets.push(await clinicAgain.connectSocketCollecting('diagnosis.signed', second));
    await waitFor(() => second.length >= 1, { what: 'the third diagnosis replayed' });
    await restartRelay();
    const clinicAfterRestart = await ConsoleClient.login(relay.httpUrl, 'clinic6.staff');
    const third: DiagnosisDelivery[] = [];
    sockets.push(await clinicAfterRestart.connectSocketCollecting('diagnosis.signed', third));
    await waitFor(() => third.length >= 1, { what: 'the third diagnosis replayed again' });
    expect(second.map((d) => d.diagnosis.caseId)).toEqual([later]);
    expect(third.map((d) => d.diagnosis.caseId)).toEqual([later]);
  }, 240_000);
});
