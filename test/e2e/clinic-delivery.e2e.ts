import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

describe('diagnoses reach a clinic that was offline, exactly once', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const sockets: ConsoleSocket[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await relay?.dispose();
  });

  async function readerSigns(
    reader: ConsoleClient,
    caseId: string,
    conclusion: string,
  ): Promise<void> {
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    expect((await reader.post(`/api/cases/${caseId}/sign`, { conclusion })).status).toBe(200);
  }

  it('replays what the clinic has not acknowledged after it reconnects, also across a relay restart', async () => {
    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const readerSocket = await reader.connectSocket();
    sockets.push(readerSocket);
    /** A box of the clinic records while online; resolves once the case is on the worklist. */
    async function record(clinicId: string, seeds: number[]): Promise<string[]> {
      const device = devices.find((candidate) => candidate.clinicId === clinicId)!;
      const box = new SimulatedBox({
        brokerUrl: relay.mqttUrl,
        deviceId: device.deviceId,
        secret: device.secret,
      });
      await box.start();
      const caseIds: string[] = [];
      for (const seed of seeds) {
        const listed = nextEvent(
          readerSocket,
          'worklist.case-added',
          (summary) => summary.clinicId === clinicId,
        );
        const { caseId } = await box.record({ durationSeconds: 4, seed });
        await listed;
        caseIds.push(caseId!);
      }
      await box.stop();
      return caseIds;
    }
    const [first, second, later] = (await record('clinic-5', [51, 52, 53])) as [
      string,
      string,
      string,
    ];
    const caseIds = [first, second];
    const [otherCase] = (await record('clinic-4', [54])) as [string];

    // The clinic is offline (no socket) while both are signed.
    await readerSigns(reader, first, 'Sinus rhythm. Normal ECG.');
    await readerSigns(reader, second, 'Sinus rhythm with first-degree AV block.');

    await relay.stop();
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });

    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic5.staff');
    const received: DiagnosisDelivery[] = [];
    const socket = await clinic.connectSocketCollecting('diagnosis.signed', received);
    sockets.push(socket);
    await waitFor(() => received.length >= 2, { what: 'both diagnoses replayed' });
    expect(received.map((delivery) => delivery.diagnosis.caseId).sort()).toEqual(
      [...caseIds].sort(),
    );
    expect(new Set(received.map((delivery) => delivery.eventId)).size).toBe(2);
    for (const delivery of received)
      socket.emit('diagnosis.received', { eventId: delivery.eventId });

    // Acknowledged: the reader sees the clinic has it, and a new connection gets only what
    // was signed since. The replay goes in event order in one pass, so the newer diagnosis
    // arriving is the barrier: an acknowledged one replayed again would have come before it.
    await waitFor(
      async () => {
        const details = await Promise.all(
          caseIds.map((id) => reader.get<CaseSummary>(`/api/cases/${id}`)),
        );
        return details.every((detail) => detail.body.clinicReceivedAt !== null);
      },
      { what: 'clinicReceivedAt on both cases' },
    );
    socket.disconnect();
    await readerSigns(reader, later, 'Sinus rhythm.');
    await relay.waitForLog(
      (line) => line.includes('"delivered to the clinic"') && line.includes(later),
    );
    const again: DiagnosisDelivery[] = [];
    const reconnected = await clinic.connectSocketCollecting('diagnosis.signed', again);
    sockets.push(reconnected);
    await waitFor(() => again.length >= 1, { what: 'the newer diagnosis replayed' });
    expect(again.map((delivery) => delivery.diagnosis.caseId)).toEqual([later]);

    // Another clinic gets its own diagnosis and none of these (the same barrier: had one
    // of clinic 5's events been replayed to it, it would have come before its own).
    await readerSigns(reader, otherCase, 'Sinus rhythm.');
    const other = await ConsoleClient.login(relay.httpUrl, 'clinic4.staff');
    const otherReceived: DiagnosisDelivery[] = [];
    const otherSocket = await other.connectSocketCollecting('diagnosis.signed', otherReceived);
    sockets.push(otherSocket);
    await waitFor(() => otherReceived.length >= 1, { what: "clinic 4's own diagnosis" });
    expect(otherReceived.map((delivery) => delivery.diagnosis.caseId)).toEqual([otherCase]);
  });
});
