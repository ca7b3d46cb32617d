import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { ClinicEventReceivedSchema, type SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/tokens.js';
import { parseInput } from '../common/validation.js';
import type { Logger } from '../infra/logging/logger.js';
import { GATEWAY_OPTIONS } from '../realtime/gateway-options.js';
import { socketRefusalSite } from '../realtime/socket-refusal.js';
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
    private readonly audit: AuditService,
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
    if (!user) return;
    let eventId: string;
    let acknowledged: Awaited<ReturnType<ClinicInbox['acknowledge']>>;
    try {
      ({ eventId } = parseInput(ClinicEventReceivedSchema, body));
      if (user.role !== 'clinic_staff') {
        throw new DomainError('FORBIDDEN', 'Only clinic staff acknowledge clinic events', {
          subject: `clinic-event:${eventId}`,
          detail: { reason: 'role', role: user.role },
        });
      }
      acknowledged = await this.inbox.acknowledge(user, eventId);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.isRefusal) {
        await this.audit.refused(error, socketRefusalSite(socket, 'diagnosis.received'));
      } else {
        this.log.warn({ userId: user.id, reason: error.message }, 'clinic acknowledgement refused');
      }
      return;
    }
    if (!acknowledged) return;
    await this.worklist.clinicReceived(user, acknowledged.caseId, acknowledged.kind);
    this.log.info({ eventId, caseId: acknowledged.caseId, userId: user.id }, 'clinic received');
  }
}
