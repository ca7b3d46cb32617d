import {
  createParamDecorator,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ROLES, type Role, type SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { AuthService } from './auth.service.js';

export const PUBLIC = Symbol('public');
export const ROLES_KEY = Symbol('roles');

/** Marks a route that needs no token (login, health). Everything else does. */
export const Public = () => SetMetadata(PUBLIC, true);
/**
 * Restricts a route to these roles. A route without it is open to every signed-in role
 * except `health_authority`, which is read-only and sees no patient data: it reaches only
 * the routes that name it here.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** Who may call a route without `@Roles`. */
export const DEFAULT_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'health_authority');

interface AuthenticatedRequest extends Request {
  user?: SessionUser;
}

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new DomainError('UNAUTHENTICATED', 'Sign in first');
  return user;
});

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Global guard: every REST route needs a valid access token of a live session and, where
 * declared, a role.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Socket.IO messages arrive on sockets authenticated at the handshake (RealtimeGateway).
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const claims = await this.auth.authenticate(bearerToken(request.headers.authorization));
    // Refusals are audited where they are answered (DomainErrorFilter), with this reason.
    if (!claims) {
      throw new DomainError('UNAUTHENTICATED', 'A valid Bearer token is required', {
        detail: { reason: 'no live session' },
      });
    }
    const user = claims.user;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!(roles ?? DEFAULT_ROLES).includes(user.role)) {
      throw new DomainError('FORBIDDEN', 'Your role may not do this', {
        actor: `user:${user.id}`,
        detail: { reason: 'role', role: user.role },
      });
    }
    request.user = user;
    return true;
  }
}
