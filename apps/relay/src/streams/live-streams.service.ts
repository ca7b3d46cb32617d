import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  STREAM_LIMITS,
  StreamCloseSchema,
  StreamOpenSchema,
  type LiveStreamInfo,
  type SessionUser,
} from '#contracts';
import { decodeChunkFrame } from '#ecg';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/tokens.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { RecordingArchive } from '../ingest/recording-archive.js';
import { MqttBroker, type DeviceMessage } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { Notifier } from '../realtime/notifier.js';
import { StreamBuffer } from './stream-buffer.js';

interface LiveStream {
  info: LiveStreamInfo;
  buffer: StreamBuffer;
}

/**
 * Live monitoring: a box streams a few leads continuously; readers of its county and its
 * clinic's staff watch in near real time; the last minute is kept so a watcher can turn it
 * into a stored rhythm strip. Nothing here is durable: a stream is a view, the stored strip
 * is the record.
 */
@Injectable()
export class LiveStreamsService implements OnApplicationBootstrap {
  private readonly streams = new Map<string, LiveStream>();
  private readonly dropped = { frames: 0 };

  constructor(
    private readonly broker: MqttBroker,
    private readonly devices: DevicesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly archive: RecordingArchive,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // A box that drops off cannot send its close; its stream ends with the connection.
    this.broker.onDeviceConnection((deviceId, online) => {
      if (!online) this.streams.delete(deviceId);
    });
    this.broker.onDeviceMessage((message) => {
      if (!message.channel.startsWith('stream/')) return;
      try {
        this.handle(message);
      } catch (error) {
        this.dropped.frames += 1;
        this.log.warn(
          { deviceId: message.deviceId, channel: message.channel, err: (error as Error).message },
          'stream message dropped',
        );
      }
    });
  }

  get stats(): { live: number; droppedFrames: number } {
    return { live: this.streams.size, droppedFrames: this.dropped.frames };
  }

  private handle(message: DeviceMessage): void {
    const { deviceId, payload } = message;
    switch (message.channel) {
      case 'stream/open': {
        const open = StreamOpenSchema.parse(JSON.parse(payload.toString('utf8')));
        const current = this.streams.get(deviceId);
        if (current?.info.streamId === open.streamId) return; // re-open after a reconnect
        // Registered at once, with no lookup in between, so the frames right behind the
        // open are not dropped; the broker already vouched for the device.
        this.streams.set(deviceId, {
          info: { deviceId, ...open },
          buffer: new StreamBuffer(
            open.leads.length,
            open.sampleRateHz * STREAM_LIMITS.bufferSeconds,
          ),
        });
        this.log.info({ deviceId, streamId: open.streamId }, 'live stream opened');
        return;
      }
      case 'stream/frame': {
        const frame = decodeChunkFrame(payload);
        const stream = this.streams.get(deviceId);
        if (
          !stream ||
          stream.info.streamId !== frame.recordingId ||
          frame.leadCount !== stream.info.leads.length
        ) {
          throw new Error('frame of no open stream');
        }
        stream.buffer.write(frame.firstSample, frame.samples);
        this.notifier.toStreamWatchers(deviceId, {
          deviceId,
          streamId: frame.recordingId,
          firstSample: frame.firstSample,
          samples: Array.from(frame.samples),
        });
        return;
      }
      case 'stream/close': {
        const { streamId } = StreamCloseSchema.parse(JSON.parse(payload.toString('utf8')));
        if (this.streams.get(deviceId)?.info.streamId === streamId) this.streams.delete(deviceId);
        return;
      }
      case 'rec/open':
      case 'rec/chunk':
      case 'rec/close':
      case 'status':
        return; // recordings and status: ingest/
    }
  }

  /** Whether this user may watch the box: its clinic's staff, or readers of its county. */
  async authorizeWatch(user: SessionUser, deviceId: string): Promise<LiveStreamInfo | null> {
    await this.clinicOfWatchable(user, deviceId);
    return this.streams.get(deviceId)?.info ?? null;
  }

  /** The box's clinic, if this user may watch the box; otherwise the box does not exist. */
  private async clinicOfWatchable(user: SessionUser, deviceId: string): Promise<string> {
    const device = await this.devices.find(deviceId);
    const allowed =
      device !== undefined &&
      ((user.role === 'clinic_staff' && user.facilityId === device.clinicId) ||
        (user.role === 'reader' &&
          (await this.facilities.readingHospitalOf(device.clinicId)).id === user.facilityId));
    if (!allowed) {
      // Another clinic's or county's box looks exactly like a missing one (audited by the edge).
      throw new DomainError('NOT_FOUND', 'No such device', {
        subject: `device:${deviceId}`,
        detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
      });
    }
    return device.clinicId;
  }

  /**
   * Stores the last `seconds` of the live stream as a rhythm-strip recording, which becomes a
   * case for the county like any other recording.
   */
  async snapshot(
    user: SessionUser,
    deviceId: string,
    seconds: number,
  ): Promise<{ caseId: string; recordingId: string; seconds: number }> {
    const clinicId = await this.clinicOfWatchable(user, deviceId);
    const stream = this.streams.get(deviceId);
    if (!stream) throw new DomainError('CONFLICT', 'The box is not streaming');
    const { info, buffer } = stream;
    const { samples } = buffer.latest(Math.round(seconds * info.sampleRateHz));
    const samplesPerLead = samples.length / info.leads.length;
    if (samplesPerLead < info.sampleRateHz * 2) {
      throw new DomainError('CONFLICT', 'Less than 2 s of uninterrupted stream to store');
    }
    const bytes = Buffer.alloc(samples.length * 2);
    samples.forEach((value, index) => bytes.writeInt16LE(value, index * 2));
    const recordingId = randomUUID();
    const caseId = await this.archive.archive(
      {
        recordingId,
        deviceId,
        clinicId,
        examKind: 'rhythm-strip',
        leads: info.leads,
        sampleRateHz: info.sampleRateHz,
        microvoltsPerLsb: info.microvoltsPerLsb,
        startedAt: new Date(
          this.clock.now().getTime() - (samplesPerLead / info.sampleRateHz) * 1000,
        ).toISOString(),
      },
      bytes,
      1,
    );
    this.log.info(
      { deviceId, recordingId, caseId, requestedBy: user.id },
      'rhythm strip stored from a live stream',
    );
    return { caseId, recordingId, seconds: samplesPerLead / info.sampleRateHz };
  }
}
