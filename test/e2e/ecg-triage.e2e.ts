import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDetail, CaseSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

describe('the relay triages ECGs by their analysis', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  let reader: ConsoleClient;
  let clinic: ConsoleClient;
  let readerSocket: ConsoleSocket;
  let clinicSocket: ConsoleSocket;
  const boxes: SimulatedBox[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
    reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    clinic = await ConsoleClient.login(relay.httpUrl, 'clinic3.staff');
    readerSocket = await reader.connectSocket();
    clinicSocket = await clinic.connectSocket();
  });

  afterAll(async () => {
    readerSocket?.disconnect();
    clinicSocket?.disconnect();
    await Promise.all(boxes.map((box) => box.stop()));
    await relay?.dispose();
  });

  async function boxIn(
    clinicId: string,
    index = 0,
  ): Promise<{ box: SimulatedBox; device: DemoDevice }> {
    const device = devices.filter((candidate) => candidate.clinicId === clinicId)[index]!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    boxes.push(box);
    await box.start();
    return { box, device };
  }

  it('puts a simulated anterior STEMI at the top of its county queue as STAT', async () => {
    const { box: routineBox } = await boxIn('clinic-1');
    const { box: stemiBox } = await boxIn('clinic-2');
    const routineListed = nextEvent(
      readerSocket,
      'worklist.case-added',
      (c) => c.clinicId === 'clinic-1',
    );
    const routine = await routineBox.record({ durationSeconds: 10, finding: 'normal', seed: 21 });
    expect((await routineListed).priority).toBe('routine');

    const stemiListed = nextEvent(
      readerSocket,
      'worklist.case-added',
      (c) => c.clinicId === 'clinic-2',
    );
    const stemi = await stemiBox.record({
      durationSeconds: 10,
      finding: 'anterior-stemi',
      seed: 22,
    });
    const listed = await stemiListed;
    expect(listed).toMatchObject({ id: stemi.caseId, priority: 'stat' });
    expect(listed.flags[0]).toMatchObject({ severity: 'critical' });

    const worklist = (await reader.get<CaseSummary[]>('/api/worklist')).body;
    expect(worklist[0]?.id).toBe(stemi.caseId);
    expect(worklist.map((item) => item.id)).toContain(routine.caseId);
    // A STAT deadline is the shorter one (1 min by default, 3 min for routine).
    const stemiDue = Date.parse(listed.dueAt) - Date.parse(listed.createdAt);
    expect(stemiDue).toBeLessThan(90_000);

    // The reader sees the analysis as a suggestion, and their review is kept with the diagnosis.
    const detail = (await reader.get<CaseDetail>(`/api/cases/${stemi.caseId}`)).body;
    expect(detail.analysis).toMatchObject({
      algorithmVersion: expect.stringMatching(/^telerelay-ecg /),
      priority: 'stat',
    });
    expect(detail.analysis?.flags.map((flag) => flag.code)).toContain('STEMI');
    expect(detail.analysis?.measurements.heartRateBpm).toBeGreaterThan(50);
    expect((await reader.post(`/api/cases/${stemi.caseId}/claim`)).status).toBe(200);
    const signed = await reader.post(`/api/cases/${stemi.caseId}/sign`, {
      conclusion: 'Acute anterior STEMI. Activate the cath lab.',
      measurementReview: { confirmed: false, corrections: { qtcMs: 430 } },
    });
    expect(signed.status).toBe(200);
  });

  it('returns a lead-off recording to the clinic with its reason instead of queueing it', async () => {
    const { box } = await boxIn('clinic-3');
    const returned = nextEvent(clinicSocket, 'case.returned');
    const boxNotice = new Promise<{ recordingId: string; reason: string }>((resolve) =>
      box.once('returned', resolve),
    );
    let readerSawIt = false;
    readerSocket.on('worklist.case-added', (summary) => {
      if (summary.clinicId === 'clinic-3') readerSawIt = true;
    });

    const sent = await box.record({ durationSeconds: 10, finding: 'lead-off', seed: 23 });
    const notice = await returned;
    expect(notice).toMatchObject({ caseId: sent.caseId, recordingId: sent.recordingId });
    expect(notice.reason).toMatch(/V3/);

    const asClinic = (await clinic.get<CaseSummary>(`/api/cases/${sent.caseId}`)).body;
    expect(asClinic).toMatchObject({ status: 'returned' });
    expect(asClinic.returnReason).toMatch(/V3/);
    expect((await reader.get<CaseSummary[]>('/api/worklist')).body.map((c) => c.id)).not.toContain(
      sent.caseId,
    );
    expect(readerSawIt).toBe(false);
    // The box's screen says so too, from the relay's UNREADABLE_RECORDING on its error topic.
    expect(await boxNotice).toMatchObject({
      recordingId: sent.recordingId,
      reason: expect.stringMatching(/V3/),
    });
  });
});
