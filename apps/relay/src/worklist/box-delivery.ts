import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { z } from 'zod';
import type { DownlinkChannel } from '#contracts';
import { LOGGER } from '../common/tokens.js';
import { MqttBroker, type DeviceReceipt } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox, type ClinicEventKind } from './clinic-inbox.js';
import { boxMessageOf, clinicMessageOf, type ClinicMessage } from './clinic-messages.js';

/** The channel each kind of clinic event reaches the box on. */
const CHANNEL_OF: Record<ClinicEventKind, DownlinkChannel> = {
  'diagnosis.signed': 'diagnosis',
  'case.returned': 'error',
};

/** Our own payloads come back with the PUBACK; only these fields identify the event. */
const DiagnosisReceipt = z.object({ caseId: z.uuid() });
const ReturnReceipt = z.object({ code: z.literal('UNREADABLE_RECORDING'), recordingId: z.uuid() });

/**
 * The box side of the clinic inbox. A box is owed every diagnosis and return notice for its
 * recordings (the `clinic_events` rows that name it) until its PUBACK for one arrives. The
 * delivery job publishes at once; every time the box subscribes (after each CONNACK), what
 * it is still owed is published again, oldest first, so neither a long time offline nor a
 * relay restart (the broker's sessions are in memory) loses one. QoS 1 may deliver twice:
 * the box de-duplicates (docs/protocol.md).
 */
@Injectable()
export class BoxDelivery implements OnApplicationBootstrap {
  constructor(
    private readonly broker: MqttBroker,
    private readonly inbox: ClinicInbox,
    private readonly cases: CasesRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.broker.onDeviceSubscribed((deviceId, channels) => {
      this.resend(deviceId, channels).catch((error: unknown) =>
        this.log.error({ err: error, deviceId }, 'resending what the box is owed failed'),
      );
    });
    this.broker.onDeviceReceived((receipt) => {
      this.received(receipt).catch((error: unknown) =>
        this.log.error({ err: error, deviceId: receipt.deviceId }, 'box receipt not recorded'),
      );
    });
  }

  /** Publishes the box's copy of a clinic message (QoS 1, not retained), if it has one. */
  async send(message: ClinicMessage): Promise<void> {
    const toBox = boxMessageOf(message);
    if (!toBox) return;
    // Not retained: the broker keeps retained messages in memory and only the last per
    // topic, and every subscribe would repeat it even after the box acknowledged it.
    await this.broker.publishToDevice(toBox.deviceId, toBox.channel, JSON.stringify(toBox.body));
  }

  private async resend(deviceId: string, channels: DownlinkChannel[]): Promise<void> {
    const kinds = (Object.keys(CHANNEL_OF) as ClinicEventKind[]).filter((kind) =>
      channels.includes(CHANNEL_OF[kind]),
    );
    let after: string | null = null;
    let sent = 0;
    for (;;) {
      const page = await this.inbox.pendingForBox(deviceId, kinds, after);
      if (page.length === 0) break;
      for (const owed of page) {
        const message = await clinicMessageOf(this.cases, owed);
        if (message?.deviceId === deviceId) {
          await this.send(message);
          sent += 1;
        }
        after = owed.eventId;
      }
    }
    if (sent > 0) this.log.info({ deviceId, sent }, 'resent what the box is owed');
  }

  private async received({ deviceId, channel, payload }: DeviceReceipt): Promise<void> {
    if (channel !== 'diagnosis' && channel !== 'error') return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    let caseId: string | null = null;
    if (channel === 'diagnosis') {
      const parsed = DiagnosisReceipt.safeParse(body);
      if (parsed.success)
        caseId = await this.inbox.boxReceived(deviceId, 'diagnosis.signed', parsed.data);
    } else {
      // Other errors on this channel are replies to the box's own messages, owed nothing.
      const parsed = ReturnReceipt.safeParse(body);
      if (parsed.success)
        caseId = await this.inbox.boxReceived(deviceId, 'case.returned', {
          recordingId: parsed.data.recordingId,
        });
    }
    if (caseId) this.log.info({ deviceId, caseId, channel }, 'box received');
  }
}
