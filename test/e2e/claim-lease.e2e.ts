import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent } from '../support/clients.js';
import { E2E_STORE } from '../support/relay-databases.js';
import { RelayProcess } from '../support/relay-process.js';

const LEASE_SECONDS = 6;

describe(`a claim is a lease (relay on ${E2E_STORE})`, () => {
  let relay: RelayProcess;
  let reader: ConsoleClient;
  let caseIds: string[];

  beforeAll(async () => {
    relay = await RelayProcess.start({
      CLAIM_LEASE_SECONDS: String(LEASE_SECONDS),
    });
    reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    const socket = await reader.connectSocket();
    const device = (await relay.demoDevices()).find(
      (candidate) => candidate.clinicId === 'clinic-2',
    )!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    caseIds = [];
    for (const seed of [61, 62, 63]) {
      const listed = nextEvent(
        socket,
        'worklist.case-added',
        (summary) => summary.clinicId === 'clinic-2',
      );
      caseIds.push((await box.record({ durationSeconds: 3, seed })).caseId!);
      await listed;
    }
    await box.stop();
    socket.disconnect();
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  async function statusOf(caseId: string): Promise<CaseSummary> {
    return (await reader.get<CaseSummary>(`/api/cases/${caseId}`)).body;
  }

  it('returns the case to the queue within the lease time when the reader goes silent', async () => {
    const [caseId] = caseIds;
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const claimedAt = Date.now();
    // The reader's console is gone: no keepalive.
    while ((await statusOf(caseId!)).status === 'in_review') {
      expect(Date.now() - claimedAt).toBeLessThan((LEASE_SECONDS + 5) * 1000);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await statusOf(caseId!)).toMatchObject({ status: 'awaiting_review', claimedById: null });
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
    // The lapsed claim cannot be kept alive or signed any more.
    expect((await reader.post(`/api/cases/${caseId}/lease`)).status).toBe(409);
  });

  it('keeps the case while the console keeps the lease alive, and releases on request', async () => {
    const [, caseId] = caseIds;
    expect((await reader.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const until = Date.now() + (LEASE_SECONDS * 2 + 1) * 1000;
    while (Date.now() < until) {
      expect((await reader.post(`/api/cases/${caseId}/lease`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
    expect((await statusOf(caseId!)).status).toBe('in_review');
    expect((await reader.post(`/api/cases/${caseId}/release`)).status).toBe(200);
    expect((await statusOf(caseId!)).status).toBe('awaiting_review');
  });

  it('lets exactly one of ten racing claims win', async () => {
    const [, , caseId] = caseIds;
    // Ten signed-in consoles claim the same case at the same moment.
    const consoles = await Promise.all(
      Array.from({ length: 10 }, () => ConsoleClient.login(relay.httpUrl, 'county1.reader')),
    );
    const statuses = await Promise.all(consoles.map((c) => c.post(`/api/cases/${caseId}/claim`)));
    const codes = statuses.map((result) => result.status).sort();
    expect(codes).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
  });
});
