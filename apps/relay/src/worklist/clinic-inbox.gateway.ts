import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import type { SessionUser } from '#contracts';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';
import { GATEWAY_OPTIONS } from '../realtime/gateway-options.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox } from './clinic-inbox.js';
import { clinicMessageOf } from './clinic-messages.js';
import { WorklistService } from './worklist.service.js';

/** Replays what a clinic has not acknowledged on every connection, and takes its acknowledgements. */
@WebSocketGateway(GATEWAY_OPTIONS)
export class ClinicInboxGateway implements OnGatewayConnection<Socket> {
  constructor(
    private readonly inbox: ClinicInbox,
    private readonly cases: CasesRepository,
    private readonly worklist: WorklistService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async handleConnection(socket: Socket): Promise<void> {
    const user = (socket.data as { user?: SessionUser }).user;
    if (user?.role !== 'clinic_staff') return;
    for (const owed of await this.inbox.pending(user.facilityId)) {
      const message = await clinicMessageOf(this.cases, owed);
      if (message) socket.emit(message.event, message.payload);
    }
  }

  /** Any clinic event (a diagnosis or a returned recording) shown to the clinic. */
  @SubscribeMessage('diagnosis.received')
  async received(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<void> {
    const user = (socket.data as { user?: SessionUser }).user;
    const eventId = (body as { eventId?: unknown } | null)?.eventId;
    if (user?.role !== 'clinic_staff' || typeof eventId !== 'string') return;
    const acknowledged = await this.inbox.acknowledge(user, eventId);
    if (!acknowledged) return;
    await this.worklist.clinicReceived(user, acknowledged.caseId, acknowledged.kind);
    this.log.info({ eventId, caseId: acknowledged.caseId, userId: user.id }, 'clinic received');
  }
}
