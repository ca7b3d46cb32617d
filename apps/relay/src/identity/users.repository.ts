import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { AdminUser, Role, SessionUser } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import { facilities, users } from '../infra/database/schema.js';

export interface StoredUser extends SessionUser {
  passwordHash: string;
  disabled: boolean;
  /** The account's facility is disabled: nobody of it signs in, whatever the account says. */
  facilityDisabled: boolean;
}

/** Who an account is: the columns every view of a user starts from. */
const identityColumns = {
  id: users.id,
  username: users.username,
  displayName: users.displayName,
  role: users.role,
  facilityId: users.facilityId,
};
const adminColumns = { ...identityColumns, disabled: users.disabled };
const sessionColumns = { ...identityColumns, facilityKind: facilities.kind };

@Injectable()
export class UsersRepository {
  constructor(private readonly database: Database) {}

  async findByUsername(username: string): Promise<StoredUser | undefined> {
    const [row] = await this.database.db
      .select({
        ...sessionColumns,
        passwordHash: users.passwordHash,
        disabled: users.disabled,
        facilityDisabled: facilities.disabled,
      })
      .from(users)
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(eq(users.username, username));
    return row;
  }

  /** The signed-in view of an enabled account at an enabled facility. */
  async sessionUserById(id: string): Promise<SessionUser | undefined> {
    const [row] = await this.database.db
      .select(sessionColumns)
      .from(users)
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(and(eq(users.id, id), eq(users.disabled, false), eq(facilities.disabled, false)));
    return row;
  }

  /** The accounts of a facility. */
  async idsAt(facilityId: string): Promise<string[]> {
    const rows = await this.database.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.facilityId, facilityId));
    return rows.map((row) => row.id);
  }

  async findById(id: string, tx: Queryable = this.database.db): Promise<AdminUser | undefined> {
    const [row] = await tx.select(adminColumns).from(users).where(eq(users.id, id));
    return row;
  }

  list(): Promise<AdminUser[]> {
    return this.database.db.select(adminColumns).from(users).orderBy(asc(users.username));
  }

  /** Which of these usernames exist already. */
  async existing(usernames: string[], tx: Queryable = this.database.db): Promise<Set<string>> {
    if (usernames.length === 0) return new Set();
    const rows = await tx
      .select({ username: users.username })
      .from(users)
      .where(inArray(users.username, usernames));
    return new Set(rows.map((row) => row.username));
  }

  /**
   * Creates an account. `create` leaves an existing username as it is (its password may
   * have been changed since); `reset` (the demo) sets the password again and enables it.
   * Returns the id when the account was written.
   */
  async provision(
    user: {
      username: string;
      displayName: string;
      role: Role;
      facilityId: string;
      passwordHash: string;
    },
    mode: 'create' | 'reset',
    tx: Queryable = this.database.db,
  ): Promise<string | undefined> {
    const insert = tx.insert(users).values(user);
    const [row] = await (
      mode === 'create'
        ? insert.onConflictDoNothing({ target: users.username })
        : insert.onConflictDoUpdate({
            target: users.username,
            set: { passwordHash: user.passwordHash, disabled: false },
          })
    ).returning({ id: users.id });
    return row?.id;
  }

  async update(
    id: string,
    changes: { displayName?: string; disabled?: boolean; passwordHash?: string; role?: Role },
    tx: Queryable = this.database.db,
  ): Promise<AdminUser | undefined> {
    const [row] = await tx
      .update(users)
      .set(changes)
      .where(eq(users.id, id))
      .returning(adminColumns);
    return row;
  }

  async displayNameOf(userId: string): Promise<string> {
    const [row] = await this.database.db
      .select({ displayName: users.displayName })
      .from(users)
      .where(eq(users.id, userId));
    return row?.displayName ?? 'unknown';
  }

  async disableByUsername(usernames: readonly string[]): Promise<void> {
    if (usernames.length === 0) return;
    await this.database.db
      .update(users)
      .set({ disabled: true })
      .where(inArray(users.username, [...usernames]));
  }
}
