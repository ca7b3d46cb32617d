import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { InboxBox } from '../support/inbox-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

describe('a box gets every diagnosis for its recordings, across a relay restart', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const sockets: ConsoleSocket[] = [];
  const boxes: InboxBox[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    devices = await relay.demoDevices();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const box of boxes) await box.leave().catch(() => undefined);
    await relay?.dispose();
  });

  async function connect(device: DemoDevice, clean: boolean): Promise<InboxBox> {
    const box = await InboxBox.connect(relay.mqttUrl, device, clean);
    boxes.push(box);
    return box;
  }

  /** The relay recorded the box's PUBACK for this case's event (no API shows it: its log). */
  function boxReceived(deviceId: string, caseId: string, from: number): Promise<string> {
    return relay.waitForLog(
      (line) =>
        line.includes('"box received"') &&
        line.includes(`"deviceId":"${deviceId}"`) &&
        line.includes(`"caseId":"${caseId}"`),
      from,
      30_000,
    );
  }

  /** The delivery job has published the case's clinic event (to whoever was listening). */
  function pushed(caseId: string): Promise<string> {
    return relay.waitForLog(
      (line) => line.includes('"delivered to the clinic"') && line.includes(caseId),
      0,
      30_000,
    );
  }

  /** The relay's re-send on this box's subscribe is done: it published exactly one. */
  async function resentOne(deviceId: string, from: number): Promise<void> {
    const line = await relay.waitForLog(
      (candidate) =>
        candidate.includes('"resent what the box is owed"') &&
        candidate.includes(`"deviceId":"${deviceId}"`),
      from,
      30_000,
    );
    expect(JSON.parse(line)).toMatchObject({ deviceId, sent: 1 });
  }

  async function restartRelay(): Promise<void> {
    await relay.stop();
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });
  }

  it('re-sends what each box is owed on every connect until its PUBACK, then nothing more', async () => {
    // Both boxes of clinic 4: the same clinic, so only the box id keeps them apart.
    const [kept, clean] = devices.filter((device) => device.clinicId === 'clinic-4') as [
      DemoDevice,
      DemoDevice,
    ];
    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const readerSocket = await reader.connectSocket();
    sockets.push(readerSocket);

    // Each box records while online; every recording reaches the county's worklist.
    async function record(device: DemoDevice, seeds: number[]) {
      const box = new SimulatedBox({
        brokerUrl: relay.mqttUrl,
        deviceId: device.deviceId,
        secret: device.secret,
      });
      await box.start();
      const recorded: { caseId: string; recordingId: string }[] = [];
      for (const seed of seeds) {
        const listed = nextEvent(
          readerSocket,
          'worklist.case-added',
          (s) => s.clinicId === 'clinic-4',
        );
        const { caseId, recordingId } = await box.record({ durationSeconds: 4, seed });
        expect((await listed).id).toBe(caseId);
        recorded.push({ caseId: caseId!, recordingId });
      }
      // The clinic's link goes down.
      await box.stop();
      return recorded;
    }
    const keptCases = await record(kept, [71, 72, 73, 76]);
    const cleanCases = await record(clean, [74, 75, 77, 78]);

    // While both are offline: four diagnoses signed, one recording returned to the clinic.
    const claim = async (caseId: string) =>
      expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const signed = [keptCases[0]!, keptCases[1]!, cleanCases[0]!, cleanCases[1]!];
    const sign = async (caseId: string, conclusion: string) => {
      await claim(caseId);
      expect((await reader.post(`/api/cases/${caseId}/sign`, { conclusion })).status).toBe(200);
    };
    for (const [index, { caseId }] of signed.entries())
      await sign(caseId, `Sinus rhythm (${index + 1}).`);
    const returned = keptCases[2]!;
    await claim(returned.caseId);
    const reason = 'Limb leads swapped';
    expect((await reader.post(`/api/cases/${returned.caseId}/return`, { reason })).status).toBe(
      200,
    );

    // Every delivery job has run (so none is left to publish again after the restart), into
    // the broker's sessions, which are in memory: the restart loses them.
    await Promise.all([...signed, returned].map(({ caseId }) => pushed(caseId)));
    await restartRelay();

    // The box with a persistent session (clean = false, as the protocol asks) gets both its
    // diagnoses, oldest first, and the return notice; none of the other box's.
    let from = relay.logs.length;
    const keptBox = await connect(kept, false);
    await Promise.all(
      [...signed.slice(0, 2), returned].map(({ caseId }) =>
        boxReceived(kept.deviceId, caseId, from),
      ),
    );
    expect(keptBox.caseIds).toEqual([keptCases[0]!.caseId, keptCases[1]!.caseId]);
    expect(keptBox.diagnoses.map((d) => d.recordingId)).toEqual([
      keptCases[0]!.recordingId,
      keptCases[1]!.recordingId,
    ]);
    expect(keptBox.diagnoses.map((d) => d.conclusion)).toEqual([
      'Sinus rhythm (1).',
      'Sinus rhythm (2).',
    ]);
    expect(keptBox.returns).toEqual([
      expect.objectContaining({ recordingId: returned.recordingId, retryable: false }),
    ]);
    expect(keptBox.returns[0]!.message).toContain(reason);
    await keptBox.leave();

    // The other box comes back without a session (clean = true): both its diagnoses arrive.
    // Aedes keeps no copy of a message in flight to a clean session, so its PUBACK cannot be
    // matched: the diagnoses stay owed and come again at the next connect.
    const cleanFirst = await connect(clean, true);
    await until(() => cleanFirst.diagnoses.length >= 2);
    expect(cleanFirst.caseIds).toEqual([cleanCases[0]!.caseId, cleanCases[1]!.caseId]);
    expect(cleanFirst.returns).toEqual([]);
    await cleanFirst.leave();
    from = relay.logs.length;
    const cleanAgain = await connect(clean, false);
    await Promise.all(
      cleanCases.slice(0, 2).map(({ caseId }) => boxReceived(clean.deviceId, caseId, from)),
    );
    expect(cleanAgain.caseIds).toEqual([cleanCases[0]!.caseId, cleanCases[1]!.caseId]);
    await cleanAgain.leave();

    // Acknowledged: further connects, in either kind of session and after another restart,
    // get only what was signed since. The relay re-sends oldest first, in one pass that it
    // logs with its count once every publish is out: that line is the barrier, and with the
    // newer diagnosis arriving it shows that no acknowledged one went out again.
    // A clean connect first drops each box's broker session, so that the newer diagnosis
    // cannot come from the broker's offline queue before the relay's re-send has run.
    for (const device of [kept, clean]) await (await connect(device, true)).leave();
    const [keptLater, cleanLater, cleanLast] = [keptCases[3]!, cleanCases[2]!, cleanCases[3]!];
    for (const { caseId } of [keptLater, cleanLater]) {
      await sign(caseId, 'Sinus rhythm (later).');
      await pushed(caseId);
    }
    from = relay.logs.length;
    const later = [await connect(kept, true), await connect(clean, false)];
    await Promise.all([resentOne(kept.deviceId, from), resentOne(clean.deviceId, from)]);
    await boxReceived(clean.deviceId, cleanLater.caseId, from);
    await until(() => later[0]!.caseIds.includes(keptLater.caseId));
    for (const box of later) await box.leave();
    expect(new Set(later[0]!.caseIds)).toEqual(new Set([keptLater.caseId]));
    expect(new Set(later[1]!.caseIds)).toEqual(new Set([cleanLater.caseId]));

    // Another restart; the clean session could not acknowledge, so that one is still owed.
    await sign(cleanLast.caseId, 'Sinus rhythm (last).');
    await pushed(cleanLast.caseId);
    await restartRelay();
    from = relay.logs.length;
    const afterRestart = [await connect(kept, false), await connect(clean, true)];
    await Promise.all([resentOne(kept.deviceId, from), resentOne(clean.deviceId, from)]);
    await boxReceived(kept.deviceId, keptLater.caseId, from);
    await until(() => afterRestart[1]!.caseIds.includes(cleanLast.caseId));
    expect(new Set(afterRestart[0]!.caseIds)).toEqual(new Set([keptLater.caseId]));
    expect(new Set(afterRestart[1]!.caseIds)).toEqual(new Set([cleanLast.caseId]));
    for (const box of [...later, ...afterRestart]) expect(box.returns).toEqual([]);
  });

  it("a box never receives another box's diagnosis, even while that box is online", async () => {
    const [first, second] = devices.filter((device) => device.clinicId === 'clinic-5') as [
      DemoDevice,
      DemoDevice,
    ];
    const reader = await ConsoleClient.login(relay.httpUrl, 'county2.reader');
    const readerSocket = await reader.connectSocket();
    sockets.push(readerSocket);
    const recorder = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: first.deviceId,
      secret: first.secret,
    });
    await recorder.start();
    const listed = nextEvent(readerSocket, 'worklist.case-added', (s) => s.clinicId === 'clinic-5');
    const { caseId } = await recorder.record({ durationSeconds: 4, seed: 76 });
    await listed;
    await recorder.stop();

    const owner = await connect(first, false);
    const neighbour = await connect(second, false);
    // The neighbour also tries to listen on the owner's topic: refused (0x80 in SUBACK).
    await expect(
      neighbour.client.subscribeAsync(deviceTopic(first.deviceId, 'diagnosis'), { qos: 1 }),
    ).rejects.toMatchObject({ packet: { granted: [128] } });

    const from = relay.logs.length;
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const body = { conclusion: 'Sinus rhythm.' };
    expect((await reader.post(`/api/cases/${caseId}/sign`, body)).status).toBe(200);
    await boxReceived(first.deviceId, caseId!, from);
    expect(owner.caseIds).toEqual([caseId]);
    expect(neighbour.diagnoses).toEqual([]);
  });
});

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}
