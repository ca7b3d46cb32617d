import { Injectable } from '@nestjs/common';
import {
  and,
  asc,
  eq,
  getTableName,
  inArray,
  like,
  or,
  sql,
  type Column,
  type Table,
} from 'drizzle-orm';
import { Database, type Queryable } from '../infra/database/database.js';
import { devices, facilities, recordings } from '../infra/database/schema.js';

export interface Device {
  id: string;
  clinicId: string;
  secretHash: string;
  disabled: boolean;
  /** The box's clinic is disabled: it may not connect, whatever the box's own flag says. */
  clinicDisabled: boolean;
}

@Injectable()
export class DevicesRepository {
  constructor(private readonly database: Database) {}

  async find(id: string): Promise<Device | undefined> {
    const [row] = await this.database.db
      .select({
        id: devices.id,
        clinicId: devices.facilityId,
        secretHash: devices.secretHash,
        disabled: devices.disabled,
        clinicDisabled: facilities.disabled,
      })
      .from(devices)
      .innerJoin(facilities, eq(facilities.id, devices.facilityId))
      .where(eq(devices.id, id));
    return row;
  }

  /** Boxes with their last contact, firmware and newest recording: all, one clinic's, or one. */
  async list(filter: { clinicId?: string; id?: string } = {}) {
    return this.database.db
      .select({
        id: devices.id,
        clinicId: devices.facilityId,
        disabled: devices.disabled,
        lastSeenAt: devices.lastSeenAt,
        firmware: devices.firmware,
        // Per box, so recordings_device_idx answers it from its last entry (no scan of all
        // recordings on each refresh of the list).
        lastRecordingAt: sql<Date | null>`(
          select max(${column(recordings, recordings.receivedAt)}) from ${recordings}
          where ${column(recordings, recordings.deviceId)} = ${column(devices, devices.id)}
        )`.mapWith(recordings.receivedAt),
      })
      .from(devices)
      .where(
        and(
          filter.clinicId === undefined ? undefined : eq(devices.facilityId, filter.clinicId),
          filter.id === undefined ? undefined : eq(devices.id, filter.id),
        ),
      )
      .orderBy(asc(devices.id));
  }

  /** Enables or disables a box; false when there is no such box. */
  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const rows = await this.database.db
      .update(devices)
      .set({ disabled })
      .where(eq(devices.id, id))
      .returning({ id: devices.id });
    return rows.length > 0;
  }

  /** The registered ones among these ids, with their secret hashes. */
  async hashesOf(ids: string[], tx: Queryable = this.database.db): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await tx
      .select({ id: devices.id, secretHash: devices.secretHash })
      .from(devices)
      .where(inArray(devices.id, ids));
    return new Map(rows.map((row) => [row.id, row.secretHash]));
  }

  /**
   * Registers a box. `create` leaves a registered box as it is (its secret may have been
   * changed since); `reset` (the demo) sets the secret again and enables the box.
   * True when the box was written.
   */
  async provision(
    device: { id: string; facilityId: string; secretHash: string },
    mode: 'create' | 'reset',
    tx: Queryable = this.database.db,
  ): Promise<boolean> {
    const insert = tx.insert(devices).values(device);
    const rows = await (
      mode === 'create'
        ? insert.onConflictDoNothing({ target: devices.id })
        : insert.onConflictDoUpdate({
            target: devices.id,
            set: { secretHash: device.secretHash, disabled: false },
          })
    ).returning({ id: devices.id });
    return rows.length > 0;
  }

  /**
   * Stores a box's secret again in the current format, unless its secret changed since it
   * was read (`previous`): a secret reset in the meantime must not be undone.
   */
  async replaceSecretHash(id: string, previous: string, secretHash: string): Promise<void> {
    await this.database.db
      .update(devices)
      .set({ secretHash })
      .where(and(eq(devices.id, id), eq(devices.secretHash, previous)));
  }

  /** The box was heard from; `firmware` when it announced one on `status`. */
  async markSeen(id: string, at: Date, firmware?: string): Promise<void> {
    await this.database.db
      .update(devices)
      .set(firmware === undefined ? { lastSeenAt: at } : { lastSeenAt: at, firmware })
      .where(eq(devices.id, id));
  }

  /** Disables every box whose id starts with one of the prefixes. */
  async disableWhereIdStartsWith(prefixes: readonly string[]): Promise<void> {
    if (prefixes.length === 0) return;
    await this.database.db
      .update(devices)
      .set({ disabled: true })
      .where(
        or(...prefixes.map((prefix) => like(devices.id, `${prefix.replace(/[\\%_]/g, '\\$&')}%`))),
      );
  }
}

/**
 * A column named with its table, for a correlated subquery: drizzle leaves columns
 * unqualified in a query without joins, where the inner and outer `id` would be the same.
 */
function column(table: Table, of: Column) {
  return sql`${sql.identifier(getTableName(table))}.${sql.identifier(of.name)}`;
}
