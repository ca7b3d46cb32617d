import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CaseDetail,
  CaseMoved,
  CaseReturnedNotice,
  CaseSummary,
  DeadlineNearAlert,
  Diagnosis,
  DiagnosisDelivery,
  HospitalPolicy,
  HospitalPolicyRequest,
  Phrase,
} from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient, nextEvent, type ConsoleSocket } from '../support/clients.js';
import { E2E_STORE } from '../support/relay-databases.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';

/** Short enough for a test, over the policy minimum (5 s). */
const SHORT_DEADLINE = 6;

const everyPriority = (seconds: number) => ({
  ecg: { stat: seconds, urgent: seconds, routine: seconds },
});

describe(`deadlines that act, escalation, returns and phrases (relay on ${E2E_STORE})`, () => {
  let relay: RelayProcess;
  const sockets: ConsoleSocket[] = [];
  const boxes: SimulatedBox[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(boxes.map((box) => box.stop()));
    await relay?.dispose();
  });

  const login = (username: string) => ConsoleClient.login(relay.httpUrl, username);

  async function socketOf(client: ConsoleClient): Promise<ConsoleSocket> {
    const socket = await client.connectSocket();
    sockets.push(socket);
    return socket;
  }

  async function boxIn(clinicId: string): Promise<SimulatedBox> {
    const device = (await relay.demoDevices()).find(
      (candidate) => candidate.clinicId === clinicId,
    )!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    boxes.push(box);
    await box.start();
    return box;
  }

  /** The box records; resolves once the county reader's worklist has the case. */
  async function recordListed(
    box: SimulatedBox,
    readerSocket: ConsoleSocket,
    seed: number,
  ): Promise<string> {
    const listed: CaseSummary[] = [];
    const onAdded = (summary: CaseSummary) => listed.push(summary);
    readerSocket.on('worklist.case-added', onAdded);
    const { caseId } = await box.record({ durationSeconds: 4, seed });
    if (!caseId) throw new Error('the relay opened no case');
    await until(() => listed.some((summary) => summary.id === caseId));
    readerSocket.off('worklist.case-added', onAdded);
    return caseId;
  }

  async function setPolicy(
    hospitalId: string,
    policy: HospitalPolicyRequest,
  ): Promise<HospitalPolicy> {
    const admin = await login('admin');
    const result = await admin.put<HospitalPolicy>(
      `/api/admin/hospitals/${hospitalId}/policy`,
      policy,
    );
    expect(result.status).toBe(200);
    return result.body;
  }

  it('an unclaimed case is announced at 80 % of its deadline, escalated at it, then signed at the tertiary hospital and delivered', async () => {
    const policy = await setPolicy('county-1', {
      deadlines: everyPriority(SHORT_DEADLINE),
      atDeadline: 'escalate',
    });
    expect(policy.deadlines.ecg).toEqual({ stat: 6, urgent: 6, routine: 6 });
    expect(policy.deadlines.imaging.routine).toBe(3600);

    const county = await login('county1.reader');
    const tertiary = await login('tertiary.reader');
    const clinic = await login('clinic1.staff');
    const countySocket = await socketOf(county);
    const tertiarySocket = await socketOf(tertiary);
    const delivered: DiagnosisDelivery[] = [];
    sockets.push(await clinic.connectSocketCollecting('diagnosis.signed', delivered));

    // What the county readers' consoles hear, in order.
    const heard: string[] = [];
    let alert: DeadlineNearAlert | undefined;
    let moved: CaseMoved | undefined;
    countySocket.on('worklist.deadline-near', (event) => {
      heard.push(`near:${event.caseId}`);
      alert = event;
    });
    countySocket.on('worklist.case-moved', (event) => {
      heard.push(`moved:${event.summary.id}`);
      moved = event;
    });
    const tertiaryAdded: string[] = [];
    tertiarySocket.on('worklist.case-added', (summary) => tertiaryAdded.push(summary.id));

    const caseId = await recordListed(await boxIn('clinic-1'), countySocket, 71);
    const listed = (await county.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(listed.deadlineAt).toBe(listed.dueAt);

    // Nobody claims it.
    await until(() => tertiaryAdded.includes(caseId), 30_000);
    await until(() => moved !== undefined);
    expect(heard).toEqual([`near:${caseId}`, `moved:${caseId}`]);
    expect(alert).toMatchObject({ caseId, hospitalId: 'county-1', action: 'escalate' });
    expect(moved).toMatchObject({
      fromHospitalId: 'county-1',
      kind: 'escalated',
      byDeadline: true,
      summary: { id: caseId, hospitalId: 'tertiary-1', status: 'awaiting_review' },
    });

    // It left the county: not on its worklist, not readable there any more.
    const countyList = (await county.get<CaseSummary[]>('/api/worklist')).body;
    expect(countyList.map((item) => item.id)).not.toContain(caseId);
    expect((await county.get(`/api/cases/${caseId}`)).status).toBe(404);

    // The tertiary reader sees why, keeps the clinical due time, and has no further deadline.
    const detail = (await tertiary.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(detail).toMatchObject({
      hospitalId: 'tertiary-1',
      status: 'awaiting_review',
      dueAt: listed.dueAt,
      deadlineAt: null,
    });
    expect(detail.transfers).toHaveLength(1);
    expect(detail.transfers[0]).toMatchObject({
      kind: 'escalated',
      byName: null,
      fromHospitalId: 'county-1',
      fromHospitalName: '南山区人民医院',
      toHospitalId: 'tertiary-1',
      note: 'deadline passed',
      deadline: {
        dueAt: listed.dueAt,
        deadlineAt: listed.dueAt,
        atDeadline: 'escalate',
        deadlineSeconds: SHORT_DEADLINE,
      },
    });

    expect((await tertiary.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const signed = await tertiary.post<Diagnosis>(`/api/cases/${caseId}/sign`, {
      conclusion: 'Sinus rhythm. Normal ECG.',
    });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({
      hospitalId: 'tertiary-1',
      hospitalName: '市心血管病医院',
    });

    await until(() => delivered.some((delivery) => delivery.diagnosis.caseId === caseId));
    expect(
      delivered.find((delivery) => delivery.diagnosis.caseId === caseId)?.diagnosis,
    ).toMatchObject({
      signedByName: '陈思远',
      hospitalName: '市心血管病医院',
    });
  });

  it('a case claimed at its deadline stays with the reader; released after it, it escalates at once', async () => {
    const county = await login('county1.reader');
    const tertiary = await login('tertiary.reader');
    const countySocket = await socketOf(county);
    const caseId = await recordListed(await boxIn('clinic-2'), countySocket, 75);
    const claimed = await county.post<CaseSummary>(`/api/cases/${caseId}/claim`);
    expect(claimed.status).toBe(200);

    // The deadline passes (the lease, 120 s, is still running): the relay's deadline job
    // runs, finds the case claimed and leaves it; nothing moved.
    await relay.waitForLog(
      (line) =>
        line.includes('"deadline passed while claimed: stays with the reader"') &&
        line.includes(caseId),
      0,
      (SHORT_DEADLINE + 30) * 1000,
    );
    expect((await county.get<CaseDetail>(`/api/cases/${caseId}`)).body).toMatchObject({
      hospitalId: 'county-1',
      status: 'in_review',
      transfers: [],
    });

    const moved = nextEvent(
      countySocket,
      'worklist.case-moved',
      (event) => event.summary.id === caseId,
    );
    expect((await county.post(`/api/cases/${caseId}/release`)).status).toBe(200);
    await expect(moved).resolves.toMatchObject({ kind: 'escalated', byDeadline: true });
    const detail = (await tertiary.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(detail.transfers).toEqual([
      expect.objectContaining({ kind: 'escalated', note: 'deadline passed', byName: null }),
    ]);
  });

  it('a reader escalates the case they hold with a note; the tertiary reader sees the note', async () => {
    const county = await login('county2.reader');
    const tertiary = await login('tertiary.reader');
    const clinic = await login('clinic4.staff');
    const countySocket = await socketOf(county);
    const tertiarySocket = await socketOf(tertiary);
    const caseId = await recordListed(await boxIn('clinic-4'), countySocket, 72);
    const note = 'Possible Brugada pattern in V1–V2; please review.';

    expect((await clinic.post(`/api/cases/${caseId}/escalate`, { note })).status).toBe(403);
    expect((await county.post(`/api/cases/${caseId}/escalate`, { note })).status).toBe(409);
    const otherCounty = await login('county1.reader');
    expect((await otherCounty.post(`/api/cases/${caseId}/escalate`, { note })).status).toBe(404);

    expect((await county.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    expect((await county.post(`/api/cases/${caseId}/escalate`, { note: '  ' })).status).toBe(400);
    const moved = nextEvent(
      countySocket,
      'worklist.case-moved',
      (event) => event.summary.id === caseId,
    );
    const added = nextEvent(
      tertiarySocket,
      'worklist.case-added',
      (summary) => summary.id === caseId,
    );
    const escalated = await county.post<CaseSummary>(`/api/cases/${caseId}/escalate`, { note });
    expect(escalated.status).toBe(200);
    expect(escalated.body).toMatchObject({
      hospitalId: 'tertiary-1',
      status: 'awaiting_review',
      claimedById: null,
    });
    await expect(moved).resolves.toMatchObject({ kind: 'escalated', byDeadline: false });
    await added;

    const detail = (await tertiary.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(detail.transfers).toEqual([
      expect.objectContaining({
        kind: 'escalated',
        byName: '张伟',
        fromHospitalName: '北岭区人民医院',
        toHospitalName: '市心血管病医院',
        note,
        deadline: null,
      }),
    ]);
    expect((await county.get(`/api/cases/${caseId}`)).status).toBe(404);

    // The tertiary hospital is the top: there is nowhere further to escalate.
    expect((await tertiary.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    expect((await tertiary.post(`/api/cases/${caseId}/escalate`, { note })).status).toBe(409);
    expect((await tertiary.post(`/api/cases/${caseId}/release`)).status).toBe(200);
  });

  it('a reader returns the case they hold to the clinic; the clinic and the box are told why', async () => {
    const county = await login('county2.reader');
    const clinic = await login('clinic5.staff');
    const countySocket = await socketOf(county);
    const notices: CaseReturnedNotice[] = [];
    sockets.push(await clinic.connectSocketCollecting('case.returned', notices));
    const box = await boxIn('clinic-5');
    const boxNotices: { recordingId: string; reason: string }[] = [];
    box.on('returned', (event) => boxNotices.push(event));
    const caseId = await recordListed(box, countySocket, 73);
    const reason = 'Limb leads look swapped: check the electrodes and record again.';

    expect((await clinic.post(`/api/cases/${caseId}/return`, { reason })).status).toBe(403);
    expect((await county.post(`/api/cases/${caseId}/return`, { reason })).status).toBe(409);
    expect((await county.post(`/api/cases/${caseId}/claim`)).status).toBe(200);
    const returned = await county.post<CaseSummary>(`/api/cases/${caseId}/return`, { reason });
    expect(returned.status).toBe(200);
    expect(returned.body).toMatchObject({
      status: 'returned',
      returnReason: reason,
      claimedById: null,
    });

    await until(() => notices.some((notice) => notice.caseId === caseId));
    expect(notices.find((notice) => notice.caseId === caseId)?.reason).toBe(reason);
    await until(() => boxNotices.length > 0);
    expect(boxNotices[0]?.reason).toContain(reason);
    const countyList = (await county.get<CaseSummary[]>('/api/worklist')).body;
    expect(countyList.map((item) => item.id)).not.toContain(caseId);
    // Returned once: it cannot be returned or signed again.
    expect((await county.post(`/api/cases/${caseId}/return`, { reason })).status).toBe(409);
  });

  it('phrases belong to the readers of one hospital', async () => {
    const county1 = await login('county1.reader');
    const county2 = await login('county2.reader');
    const clinic = await login('clinic1.staff');
    const text = 'Sinus rhythm. No acute ST changes.';

    const added = await county1.post<Phrase>('/api/phrases', { text });
    expect(added.status).toBe(201);
    expect(added.body.text).toBe(text);
    // The same text again is the same phrase.
    expect((await county1.post<Phrase>('/api/phrases', { text: ` ${text} ` })).body.id).toBe(
      added.body.id,
    );
    expect((await county1.post('/api/phrases', { text: '' })).status).toBe(400);
    expect((await county1.get<Phrase[]>('/api/phrases')).body.map((p) => p.text)).toEqual([text]);

    expect((await county2.get<Phrase[]>('/api/phrases')).body).toEqual([]);
    expect((await county2.delete(`/api/phrases/${added.body.id}`)).status).toBe(404);
    expect((await clinic.get('/api/phrases')).status).toBe(403);
    expect((await clinic.post('/api/phrases', { text })).status).toBe(403);
    expect((await county1.get<Phrase[]>('/api/phrases')).body).toHaveLength(1);

    expect((await county1.delete(`/api/phrases/${added.body.id}`)).status).toBe(204);
    expect((await county1.get<Phrase[]>('/api/phrases')).body).toEqual([]);
  });

  it('only an admin sets a policy, and a policy that cannot work is refused', async () => {
    const admin = await login('admin');
    const reader = await login('county1.reader');
    const path = '/api/admin/hospitals/county-2/policy';
    expect((await reader.get(path)).status).toBe(403);
    expect((await reader.put(path, { atDeadline: 'escalate' })).status).toBe(403);
    expect((await admin.get<HospitalPolicy>(path)).body).toMatchObject({
      atDeadline: 'escalate',
      updatedAt: null,
      deadlines: { ecg: { stat: 60, routine: 180 } },
    });
    for (const bad of [
      { atDeadline: 'overflow' },
      { atDeadline: 'overflow', overflowHospitalId: 'tertiary-1' },
      { atDeadline: 'overflow', overflowHospitalId: 'county-2' },
      { atDeadline: 'escalate', deadlines: { ecg: { stat: 0 } } },
    ]) {
      expect((await admin.put(path, bad)).status).toBe(400);
    }
    expect((await admin.get('/api/admin/hospitals/clinic-1/policy')).status).toBe(404);
    expect((await admin.get('/api/admin/hospitals/tertiary-1/policy')).status).toBe(400);
  });

  it('deadline timers survive a relay restart: the case overflows once, then escalates once', async () => {
    // Room for a stop and a start between queueing and the deadline, also with other e2e
    // files running beside this one (a relay start took over 25 s on a loaded machine).
    const restartDeadline = 45;
    await setPolicy('county-2', {
      deadlines: everyPriority(restartDeadline),
      atDeadline: 'overflow',
      overflowHospitalId: 'county-1',
    });
    await setPolicy('county-1', {
      deadlines: everyPriority(SHORT_DEADLINE),
      atDeadline: 'escalate',
    });
    const county2 = await login('county2.reader');
    const caseId = await recordListed(await boxIn('clinic-6'), await socketOf(county2), 74);
    const queued = (await county2.get<CaseDetail>(`/api/cases/${caseId}`)).body;

    for (const socket of sockets.splice(0)) socket.disconnect();
    await Promise.all(boxes.splice(0).map((box) => box.stop()));
    await relay.stop();
    await relay.launch({ PORT: String(relay.httpPort), MQTT_PORT: String(relay.mqttPort) });
    // The restart happened between queueing and the deadline.
    expect(Date.now()).toBeLessThan(Date.parse(queued.dueAt));

    const tertiary = await login('tertiary.reader');
    await until(async () => {
      const seen = await tertiary.get<CaseDetail>(`/api/cases/${caseId}`);
      return seen.status === 200 && seen.body.hospitalId === 'tertiary-1';
    }, 90_000);
    // The escalation's job has finished (its last step is this log line); then count the
    // moves: a second job for either deadline would have added a transfer.
    await relay.waitForLog(
      (line) =>
        line.includes('"deadline passed: case moved"') &&
        line.includes(caseId) &&
        line.includes('"kind":"escalated"'),
    );
    const detail = (await tertiary.get<CaseDetail>(`/api/cases/${caseId}`)).body;
    expect(detail.transfers.map((t) => [t.kind, t.fromHospitalId, t.toHospitalId, t.note])).toEqual(
      [
        ['overflowed', 'county-2', 'county-1', 'deadline passed'],
        ['escalated', 'county-1', 'tertiary-1', 'deadline passed'],
      ],
    );
    expect(detail.transfers[0]?.deadline).toMatchObject({
      atDeadline: 'overflow',
      deadlineSeconds: restartDeadline,
      dueAt: queued.dueAt,
    });
    expect(detail).toMatchObject({
      status: 'awaiting_review',
      dueAt: queued.dueAt,
      deadlineAt: null,
    });
  });
});

/** Polls `check` until it holds (the deadline jobs act on the relay's own clock). */
function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  return waitFor(check, { timeoutMs });
}
