import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, type AuditPage, type DeviceSummary } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

describe('the broker protects the relay', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  let tlsPort: number;
  let certificate: Buffer;

  beforeAll(async () => {
    relay = await RelayProcess.start();
    // A self-signed certificate for localhost, made here with openssl, for mqtts.
    const cert = join(relay.dataDir, 'tls-cert.pem');
    const key = join(relay.dataDir, 'tls-key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    certificate = await readFile(cert);
    await relay.stop();
    await relay.launch({
      MQTT_TLS_PORT: '0',
      MQTT_TLS_CERT_FILE: cert,
      MQTT_TLS_KEY_FILE: key,
      MQTT_CONNECTS_PER_DEVICE_PER_MINUTE: '5',
    });
    const runtime = JSON.parse(await readFile(join(relay.dataDir, 'relay.json'), 'utf8')) as {
      mqttTlsPort: number;
    };
    tlsPort = runtime.mqttTlsPort;
    devices = await relay.demoDevices();
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  it('accepts a box over mqtts and delivers its recording', async () => {
    const device = devices[1]!;
    const box = new SimulatedBox({
      brokerUrl: `mqtts://127.0.0.1:${tlsPort}`,
      deviceId: device.deviceId,
      secret: device.secret,
      tls: { ca: certificate },
    });
    await box.start();
    try {
      const stored = await box.record({ durationSeconds: 2, seed: 31 });
      expect(stored.caseId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await box.stop();
    }
  });

  it('closes a connection that announces a packet over the size limit, and only that one', async () => {
    const [attacker, neighbour] = [devices[2]!, devices[3]!];
    const healthy = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: neighbour.deviceId,
      secret: neighbour.secret,
    });
    await healthy.start();
    const raw = await mqtt.connectAsync(relay.mqttUrl, {
      clientId: attacker.deviceId,
      username: attacker.deviceId,
      password: attacker.secret,
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.publish(deviceTopic(attacker.deviceId, 'rec/chunk'), Buffer.alloc(5 * 1024 * 1024, 1), {
      qos: 1,
    });
    await closed;
    await raw.endAsync(true);
    try {
      const stored = await healthy.record({ durationSeconds: 2, seed: 32 });
      expect(stored.caseId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await healthy.stop();
    }
  });

  it('shows each box online or offline with its last contact, scoped to the clinic', async () => {
    const device = devices.find((d) => d.clinicId === 'clinic-4')!;
    const box = new SimulatedBox({
      brokerUrl: relay.mqttUrl,
      deviceId: device.deviceId,
      secret: device.secret,
    });
    await box.start();
    await new Promise<void>((resolve) => box.once('connected', () => resolve()));
    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic4.staff');
    const listed = (await clinic.get<DeviceSummary[]>('/api/devices')).body;
    expect(new Set(listed.map((d) => d.clinicId))).toEqual(new Set(['clinic-4']));
    expect(listed.filter((d) => d.id.startsWith('demo-box-'))).toHaveLength(2);
    expect(listed.find((d) => d.id === device.deviceId)).toMatchObject({ online: true });
    expect(listed.find((d) => d.id === device.deviceId)?.lastSeenAt).not.toBeNull();
    await box.stop();
    const after = (await clinic.get<DeviceSummary[]>('/api/devices')).body;
    expect(after.find((d) => d.id === device.deviceId)).toMatchObject({ online: false });

    const reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
    expect((await reader.get('/api/devices')).status).toBe(403);
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const all = (await admin.get<DeviceSummary[]>('/api/devices')).body;
    expect(new Set(all.map((d) => d.clinicId)).size).toBe(6);
    expect(all.length).toBe(devices.length);
  });

  it('throttles a device id that keeps trying from one address, even with the right secret afterwards', async () => {
    const device = devices[7]!;
    const connect = (password: string) =>
      mqtt.connectAsync(relay.mqttUrl, {
        clientId: device.deviceId,
        username: device.deviceId,
        password,
        reconnectPeriod: 0,
      });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await expect(connect('guess-' + attempt)).rejects.toMatchObject({ code: 4 });
    }
    await expect(connect(device.secret)).rejects.toMatchObject({ code: 3 });
  });

  it('refuses an MQTT 3.1 box, even with the right secret, with return code 1, and audits it', async () => {
    const device = devices[8]!;
    await expect(
      mqtt.connectAsync(relay.mqttUrl, {
        protocolId: 'MQIsdp',
        protocolVersion: 3,
        clientId: device.deviceId,
        username: device.deviceId,
        password: device.secret,
        reconnectPeriod: 0,
      }),
    ).rejects.toMatchObject({ code: 1 });
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const query = `/api/admin/audit?actor=device:${device.deviceId}&action=mqtt.connect`;
    // Refusals are written to the audit trail just after the answer, so it may lag a little.
    const deadline = Date.now() + 15_000;
    let entries: AuditPage['entries'] = [];
    while (entries.length === 0 && Date.now() < deadline) {
      entries = (await admin.get<AuditPage>(query)).body.entries;
      if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(entries[0]).toMatchObject({ outcome: 'denied' });
    expect(String(entries[0]?.detail?.['reason'])).toMatch(/unacceptable protocol version/);
  });
});
