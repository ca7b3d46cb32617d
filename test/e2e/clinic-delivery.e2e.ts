import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary, DiagnosisDelivery } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

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
    const device = devices.find((candidate) => candidate.clinicId === 'clinic-5')!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const readerSocket = await reader.connectSocket();
    sockets.push(readerSocket);
    const caseIds: string[] = [];
    for (const seed of [51, 52]) {
      const listed = nextEvent(
        readerSocket,
        'worklist.case-added',
        (summary) => summary.clinicId === 'clinic-5',
      );
      const { caseId } = await box.record({ durationSeconds: 4, seed });
      await listed;
      caseIds.push(caseId!);
    }
    await box.stop();

    // The clinic is offline (no socket) while both are signed.
    await readerSigns(reader, caseIds[0]!, 'Sinus rhythm. Normal ECG.');
    await readerSigns(reader, caseIds[1]!, 'Sinus rhythm with first-degree AV block.');

    await relay.stop();
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });

    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic5.staff');
    const received: DiagnosisDelivery[] = [];
    const socket = await clinic.connectSocketCollecting('diagnosis.signed', received);
    sockets.push(socket);
    await until(() => received.length >= 2);
    expect(received.map((delivery) => delivery.diagnosis.caseId).sort()).toEqual(
      [...caseIds].sort(),
    );
    expect(new Set(received.map((delivery) => delivery.eventId)).size).toBe(2);
    for (const delivery of received)
      socket.emit('diagnosis.received', { eventId: delivery.eventId });

    // Acknowledged: the reader sees the clinic has it, and a new connection gets nothing again.
    await until(async () => {
      const detail = (await reader.get<CaseSummary>(`/api/cases/${caseIds[0]}`)).body;
      return detail.clinicReceivedAt !== null;
    });
    socket.disconnect();
    const again: DiagnosisDelivery[] = [];
    const second = await clinic.connectSocketCollecting('diagnosis.signed', again);
    sockets.push(second);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(again).toEqual([]);

    // Another clinic cannot acknowledge (or see) them.
    const other = await ConsoleClient.login(relay.httpUrl, 'clinic4.staff');
    const otherReceived: DiagnosisDelivery[] = [];
    const otherSocket = await other.connectSocketCollecting('diagnosis.signed', otherReceived);
    sockets.push(otherSocket);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(otherReceived).toEqual([]);
  });
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
