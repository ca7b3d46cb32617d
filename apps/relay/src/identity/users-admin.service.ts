import { Injectable } from '@nestjs/common';
import type { AdminUser, CreateUserRequest, SessionUser, UpdateUserRequest } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { rolePlacementProblem } from '../facilities/hierarchy.js';
import { SecretHasher } from './secret-hasher.js';
import { SessionsService } from './sessions.service.js';
import { UsersRepository } from './users.repository.js';

/** Accounts, for administrators. Disabling an account ends all of its sessions at once. */
@Injectable()
export class UsersAdminService {
  constructor(
    private readonly users: UsersRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly hasher: SecretHasher,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
  ) {}

  list(): Promise<AdminUser[]> {
    return this.users.list();
  }

  async create(admin: SessionUser, request: CreateUserRequest): Promise<AdminUser> {
    const facility = await this.facilities.get(request.facilityId);
    if (!facility)
      throw new DomainError('INVALID_INPUT', `facility ${request.facilityId} does not exist`);
    const problem = rolePlacementProblem(request.role, facility.kind);
    if (problem) throw new DomainError('INVALID_INPUT', problem);
    const { password, ...account } = request;
    const id = await this.users.provision(
      { ...account, passwordHash: await this.hasher.hash(password) },
      'create',
    );
    if (!id) throw new DomainError('CONFLICT', `username ${request.username} is taken`);
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.user.create',
      outcome: 'allowed',
      subject: `user:${id}`,
      detail: { role: request.role, facilityId: request.facilityId },
    });
    return { id, ...account, disabled: false };
  }

  async update(admin: SessionUser, id: string, request: UpdateUserRequest): Promise<AdminUser> {
    const updated = await this.users.update(id, request);
    if (!updated) throw new DomainError('NOT_FOUND', 'No such user');
    // The guard also refuses a disabled user's sessions; revoking them here ends their
    // refresh tokens and disconnects their sockets now.
    const ended = request.disabled ? await this.sessions.revokeAllOf(id, 'user-disabled') : [];
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.user.update',
      outcome: 'allowed',
      subject: `user:${id}`,
      detail: { changed: Object.keys(request), sessionsEnded: ended.length },
    });
    return updated;
  }
}
