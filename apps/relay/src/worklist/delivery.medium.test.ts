import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Socket } from 'socket.io';
import type { DownlinkChannel } from '#contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditService } from '../audit/audit.service.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
import { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import type { DeviceReceipt, MqttBroker } from '../infra/broker/mqtt-broker.js';
import { clinicEvents, devices, recordings } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import type { JobQueues } from '../infra/queue/job-queues.js';
import { RetentionRepository } from '../retention/retention.repository.js';
import { BoxDelivery } from './box-delivery.js';
import { ClinicInboxGateway } from './clinic-inbox.gateway.js';
import { ReviewDesk } from './review-desk.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { worklistWorld, type WorklistWorld } from './testing/worklist-world.js';

/**
 * The broker edge, as BoxDelivery sees it: what is published to a box is kept; the test
 * plays the box subscribing (after a CONNACK) and acknowledging a publish (its PUBACK).
 */
class FakeBroker {
  readonly published: { deviceId: string; channel: DownlinkChannel; body: unknown }[] = [];
  private subscribed: (deviceId: string, channels: DownlinkChannel[]) => void = () => undefined;
  private received: (receipt: DeviceReceipt) => void = () => undefined;

  onDeviceSubscribed(handler: (deviceId: string, channels: DownlinkChannel[]) => void): void {
    this.subscribed = handler;
  }

  onDeviceReceived(handler: (receipt: DeviceReceipt) => void): void {
    this.received = handler;
  }

  publishToDevice(deviceId: string, channel: DownlinkChannel, payload: string): Promise<void> {
    this.published.push({ deviceId, channel, body: JSON.parse(payload) });
    return Promise.resolve();
  }

  subscribe(deviceId: string): void {
    this.subscribed(deviceId, ['diagnosis', 'error']);
  }

  puback(deviceId: string, channel: DownlinkChannel, body: unknown): void {
    this.received({ deviceId, channel, payload: Buffer.from(JSON.stringify(body)) });
  }

  /** How many times the box was sent the diagnosis of this case. */
  diagnosesOf(caseId: string): number {
    return this.published.filter(
      (entry) =>
        entry.channel === 'diagnosis' && (entry.body as { caseId: string }).caseId === caseId,
    ).length;
  }
}

/** Polls a condition of a fire-and-forget handler (a box's subscribe or PUBACK). */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  await expect.poll(condition, { timeout: 10_000, message: what }).toBe(true);
}

/**
 * Diagnoses on their way back (medium tier): the real delivery worker, BoxDelivery, the
 * clinic inbox and its gateway on a real database, the queue, the broker and the sockets
 * faked at their edge, and the clock moved by the test.
 */
describe.each(DRIVERS)('delivery to the clinic and the box (%s)', (driver) => {
  let world: WorklistWorld;
  let dispose: () => Promise<void>;
  let broker: FakeBroker;
  let gateway: ClinicInboxGateway;

  beforeAll(async () => {
    const opened = await openTestDatabase(driver);
    dispose = opened.dispose;
    world = await worklistWorld(opened.database);
    await world.database.db
      .insert(devices)
      .values({ id: 'box-k', facilityId: 'clinic-k', secretHash: 'x' });
    broker = new FakeBroker();
    const boxes = new BoxDelivery(
      broker as unknown as MqttBroker,
      world.inbox,
      world.cases,
      quietLog,
    );
    boxes.onApplicationBootstrap();
    const desk = new ReviewDesk(
      world.queues as unknown as JobQueues,
      world.facilities,
      new FacilitiesService(
        world.facilities,
        world.database,
        {} as AuditService,
        new ClinicAeTitlesRepository(world.database),
      ),
      world.worklist,
      world.announcer,
      world.cases,
      world.notifier,
      boxes,
      quietLog,
    );
    await desk.onApplicationBootstrap();
    gateway = new ClinicInboxGateway(
      world.inbox,
      world.cases,
      world.worklist,
      {} as AuditService,
      quietLog,
    );
  }, 60_000);

  afterAll(async () => {
    await dispose();
  });

  /** A 12-lead ECG the clinic's box sent, claimed by County One's reader. */
  async function claimedEcg(): Promise<string> {
    const recordingId = randomUUID();
    await world.database.db.insert(recordings).values({
      id: recordingId,
      deviceId: 'box-k',
      clinicId: 'clinic-k',
      examKind: 'ecg-12',
      leads: ['I'],
      sampleRateHz: 500,
      microvoltsPerLsb: 1,
      samplesPerLead: 5000,
      chunkCount: 1,
      sha256: randomUUID(),
      startedAt: world.clock.now(),
    });
    return world.caseAs({
      kind: 'ecg',
      examKind: 'ecg-12',
      recordingId,
      status: 'in_review',
      claimedBy: world.readers.c1.id,
      claimedAt: world.clock.now(),
      leaseExpiresAt: new Date(world.clock.now().getTime() + 120_000),
    });
  }

  /** The reader signs; returns the delivery job the outbox handed to the queue. */
  async function sign(caseId: string) {
    await world.worklist.sign(world.readers.c1, caseId, {
      conclusion: 'Sinus rhythm',
      findings: [],
    });
    await world.outbox.flush();
    await world.outbox.dispatchDue(world.clock.now());
    const job = world.queues
      .named('deliver-diagnosis')
      .find((entry) => entry.job.data['caseId'] === caseId);
    if (!job) throw new Error(`no delivery job for ${caseId}`);
    return job;
  }

  async function eventOf(caseId: string) {
    const [row] = await world.database.db
      .select()
      .from(clinicEvents)
      .where(eq(clinicEvents.caseId, caseId));
    if (!row) throw new Error(`no clinic event for ${caseId}`);
    return row;
  }

  /** A clinic console connecting: what the gateway replays to it, in order. */
  async function clinicConnects() {
    const sent: { event: string; payload: { eventId: string; diagnosis: { caseId: string } } }[] =
      [];
    const socket = {
      data: { user: world.nurse },
      emit: (event: string, payload: (typeof sent)[number]['payload']) =>
        sent.push({ event, payload }),
    } as unknown as Socket;
    await gateway.handleConnection(socket);
    return { socket, cases: sent.map((message) => message.payload.diagnosis.caseId) };
  }

  it('the signed diagnosis reaches the clinic and the box; the box is sent it again at every subscribe until its PUBACK, whose time the clock gives', async () => {
    const caseId = await claimedEcg();
    const delivery = await sign(caseId);
    await world.queues.run(delivery);
    expect(world.notifier.pushed).toContainEqual({
      room: 'clinic:clinic-k',
      event: 'diagnosis.signed',
      payload: expect.objectContaining({
        diagnosis: expect.objectContaining({ caseId, conclusion: 'Sinus rhythm' }),
      }),
    });
    expect(broker.diagnosesOf(caseId)).toBe(1);

    // The box was offline: it reconnects, subscribes, and is sent it again.
    broker.subscribe('box-k');
    await until('the diagnosis re-sent at subscribe', () => broker.diagnosesOf(caseId) === 2);

    // Its PUBACK, five minutes later by the clock, settles the debt.
    const receivedAt = world.clock.advance(5 * 60_000);
    broker.puback('box-k', 'diagnosis', { caseId });
    await until(
      'the receipt recorded',
      async () => (await eventOf(caseId)).deviceReceivedAt !== null,
    );
    expect((await eventOf(caseId)).deviceReceivedAt).toEqual(receivedAt);

    // A newer diagnosis, owed and not yet acknowledged, is re-sent at the next subscribe;
    // the settled one, which would come first (oldest first), is not.
    const newer = await claimedEcg();
    await sign(newer);
    broker.subscribe('box-k');
    await until('the newer diagnosis re-sent', () => broker.diagnosesOf(newer) === 1);
    expect(broker.diagnosesOf(caseId)).toBe(2);
  });

  it('a clinic that connects is sent what it has not acknowledged, oldest first; its acknowledgement, at the clock’s time, ends the replays', async () => {
    const first = await claimedEcg();
    const second = await claimedEcg();
    await sign(first);
    await sign(second);

    const { socket, cases } = await clinicConnects();
    expect(cases.filter((id) => id === first || id === second)).toEqual([first, second]);

    const acknowledgedAt = world.clock.advance(60_000);
    const { id } = await eventOf(first);
    await gateway.received(socket, { eventId: String(id) });
    expect(await eventOf(first)).toMatchObject({
      acknowledgedAt,
      acknowledgedBy: world.nurse.id,
    });
    expect((await world.eventsOf(first)).map((event) => event.type)).toContain('clinic-received');

    const again = await clinicConnects();
    expect(again.cases).toContain(second);
    expect(again.cases).not.toContain(first);
  });

  it('retention counts from those receipts: delivered to clinic and box 30 days ago by the clock, the event is swept; one the box never took is kept', async () => {
    const delivered = await claimedEcg();
    const notTaken = await claimedEcg();
    for (const caseId of [delivered, notTaken]) await world.queues.run(await sign(caseId));
    const { socket } = await clinicConnects();
    for (const caseId of [delivered, notTaken]) {
      await gateway.received(socket, { eventId: String((await eventOf(caseId)).id) });
    }
    broker.puback('box-k', 'diagnosis', { caseId: delivered });
    await until(
      'the receipt recorded',
      async () => (await eventOf(delivered)).deviceReceivedAt !== null,
    );

    const DAY = 86_400_000;
    const sweep = (ms: number) =>
      new RetentionRepository(world.database).sweep(world.clock.advance(ms), {
        sessionDays: 7,
        clinicEventDays: 30,
      });
    await sweep(30 * DAY);
    expect((await eventOf(delivered)).id).toBeGreaterThan(0);
    await sweep(1);
    await expect(eventOf(delivered)).rejects.toThrow('no clinic event');
    expect((await eventOf(notTaken)).deviceReceivedAt).toBeNull();
  });
});
