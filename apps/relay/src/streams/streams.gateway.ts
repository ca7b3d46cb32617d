import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { StreamWatchRequestSchema, type SessionUser, type WatchResult } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { parseInput } from '../common/validation.js';
import { GATEWAY_OPTIONS } from '../realtime/gateway-options.js';
import { streamRoom } from '../realtime/notifier.js';
import { socketRefusalSite } from '../realtime/socket-refusal.js';
import { LiveStreamsService } from './live-streams.service.js';

/** Watching a box's live stream over the console's (already authenticated) socket. */
@WebSocketGateway(GATEWAY_OPTIONS)
export class StreamsGateway {
  constructor(
    private readonly streams: LiveStreamsService,
    private readonly audit: AuditService,
  ) {}

  @SubscribeMessage('stream.watch')
  async watch(
    @ConnectedSocket() socket: Socket,
    @MessageBody() body: unknown,
  ): Promise<WatchResult> {
    const user = (socket.data as { user?: SessionUser }).user;
    if (!user) return { ok: false, error: 'not signed in' };
    try {
      const { deviceId } = parseInput(StreamWatchRequestSchema, body);
      const stream = await this.streams.authorizeWatch(user, deviceId);
      await socket.join(streamRoom(deviceId));
      return { ok: true, stream };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.isRefusal) {
        await this.audit.refused(error, socketRefusalSite(socket, 'stream.watch'));
      }
      return { ok: false, error: error.message };
    }
  }

  @SubscribeMessage('stream.unwatch')
  async unwatch(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<void> {
    const request = StreamWatchRequestSchema.safeParse(body);
    if (request.success) await socket.leave(streamRoom(request.data.deviceId));
  }
}
