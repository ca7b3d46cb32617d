import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic, type DeviceDiagnosis, type DeviceError } from '#contracts';
import type { DemoDevice } from './relay-process.js';

/**
 * A box as the relay's clinic inbox sees it: a bare mqtt.js client (which PUBACKs every
 * QoS 1 message as it arrives) that keeps each diagnosis and return notice in arrival order.
 */
export class InboxBox {
  readonly diagnoses: DeviceDiagnosis[] = [];
  readonly returns: DeviceError[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString('utf8')) as DeviceDiagnosis & DeviceError;
      if (topic.endsWith('/diagnosis')) this.diagnoses.push(body);
      else if (topic.endsWith('/error') && body.code === 'UNREADABLE_RECORDING')
        this.returns.push(body);
    });
  }

  /** Connects and subscribes to `diagnosis` and `error` at QoS 1, as the protocol asks. */
  static async connect(url: string, device: DemoDevice, clean: boolean): Promise<InboxBox> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      clientId: device.deviceId,
      username: device.deviceId,
      password: device.secret,
      clean,
      reconnectPeriod: 0,
    });
    const box = new InboxBox(client);
    await client.subscribeAsync(
      [deviceTopic(device.deviceId, 'diagnosis'), deviceTopic(device.deviceId, 'error')],
      { qos: 1 },
    );
    return box;
  }

  get caseIds(): string[] {
    return this.diagnoses.map((diagnosis) => diagnosis.caseId);
  }

  /** A clean MQTT DISCONNECT, after the PUBACKs already written. */
  async leave(): Promise<void> {
    await this.client.endAsync();
  }
}
