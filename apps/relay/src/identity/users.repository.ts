import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { SessionUser } from '#contracts';
import { Database } from '../infra/database/database.js';
import { facilities, users } from '../infra/database/schema.js';

export interface StoredUser extends SessionUser {
  passwordHash: string;
  disabled: boolean;
}

@Injectable()
export class UsersRepository {
  constructor(private readonly database: Database) {}

  async findByUsername(username: string): Promise<StoredUser | undefined> {
    const [row] = await this.database.db
      .select({
        id: users.id,
        username: users.username,
        displayName: users.displayName,
        role: users.role,
        facilityId: users.facilityId,
        facilityKind: facilities.kind,
        passwordHash: users.passwordHash,
        disabled: users.disabled,
      })
      .from(users)
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(eq(users.username, username));
    return row;
  }

  async displayNameOf(userId: string): Promise<string> {
    const [row] = await this.database.db
      .select({ displayName: users.displayName })
      .from(users)
      .where(eq(users.id, userId));
    return row?.displayName ?? 'unknown';
  }
}
