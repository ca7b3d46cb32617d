import type { Socket } from 'socket.io';
import type { SessionUser } from '#contracts';
import type { RefusalSite } from '../audit/audit.service.js';

/**
 * Where a socket message was refused, for `AuditService.refused`: the socket's user and the
 * event, so a refused message leaves the same kind of row as a refused REST call.
 */
export function socketRefusalSite(socket: Socket, event: string): RefusalSite {
  const user = (socket.data as { user?: SessionUser }).user;
  return {
    actor: user ? `user:${user.id}` : 'anonymous',
    action: `socket.${event}`,
    remoteAddress: socket.handshake.address,
  };
}
