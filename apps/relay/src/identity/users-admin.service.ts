import { Injectable } from '@nestjs/common';
import type { AdminUser, CreateUserRequest, SessionUser, UpdateUserRequest } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
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
    hierarchy: FacilitiesService,
  ) {
    // The guard refuses them anyway (it reads the facility's flag); revoking ends their
    // refresh tokens and closes their sockets now.
    hierarchy.onFacilityDisabled(async (facility) => {
      let sessionsEnded = 0;
      for (const userId of await this.users.idsAt(facility.id)) {
        sessionsEnded += (await this.sessions.revokeAllOf(userId, 'facility-disabled')).length;
      }
      return { sessionsEnded };
    });
  }

  list(): Promise<AdminUser[]> {
    return this.users.list();
  }

  async create(admin: SessionUser, request: CreateUserRequest): Promise<AdminUser> {
    const facility = await this.facilities.get(request.facilityId);
    if (!facility)
      throw new DomainError('INVALID_INPUT', `facility ${request.facilityId} does not exist`);
    const problem = rolePlacementProblem(request.role, facility.kind);
    if (problem) throw new DomainError('INVALID_INPUT', problem);
    if (facility.disabled) {
      throw new DomainError('CONFLICT', `${facility.id} is disabled; enable it first`);
    }
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
    const { password, ...changes } = request;
    if (changes.role !== undefined) {
      const user = await this.users.findById(id);
      if (!user) throw new DomainError('NOT_FOUND', 'No such user');
      const facility = await this.facilities.get(user.facilityId);
      const problem = facility && rolePlacementProblem(changes.role, facility.kind);
      if (problem) throw new DomainError('INVALID_INPUT', problem);
    }
    const updated = await this.users.update(id, {
      ...changes,
      ...(password === undefined ? {} : { passwordHash: await this.hasher.hash(password) }),
    });
    if (!updated) throw new DomainError('NOT_FOUND', 'No such user');
    // The guard also refuses a disabled user's sessions; revoking them here ends their
    // refresh tokens and disconnects their sockets now. A new password or role ends them
    // too: whoever held the old password, or the old role's pages, signs in again.
    const ended = request.disabled
      ? await this.sessions.revokeAllOf(id, 'user-disabled')
      : password !== undefined || changes.role !== undefined
        ? await this.sessions.revokeAllOf(id, 'credentials-changed')
        : [];
    await this.audit.record({
      actor: `user:${admin.id}`,
      action: 'admin.user.update',
      outcome: 'allowed',
      subject: `user:${id}`,
      // Which fields changed, never the password itself.
      detail: { changed: Object.keys(request), role: changes.role, sessionsEnded: ended.length },
    });
    return updated;
  }
}
