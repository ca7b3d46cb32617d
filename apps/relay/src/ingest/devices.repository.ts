import { Injectable } from '@nestjs/common';
import { asc, eq } from 'drizzle-orm';
import { Database } from '../infra/database/database.js';
import { devices } from '../infra/database/schema.js';

export interface Device {
  id: string;
  clinicId: string;
  secretHash: string;
  disabled: boolean;
}

@Injectable()
export class DevicesRepository {
  constructor(private readonly database: Database) {}

  async find(id: string): Promise<Device | undefined> {
    const [row] = await this.database.db.select().from(devices).where(eq(devices.id, id));
    return (
      row && {
        id: row.id,
        clinicId: row.facilityId,
        secretHash: row.secretHash,
        disabled: row.disabled,
      }
    );
  }

  async list(clinicId: string | undefined) {
    const rows = await this.database.db
      .select({
        id: devices.id,
        clinicId: devices.facilityId,
        disabled: devices.disabled,
        lastSeenAt: devices.lastSeenAt,
      })
      .from(devices)
      .where(clinicId === undefined ? undefined : eq(devices.facilityId, clinicId))
      .orderBy(asc(devices.id));
    return rows;
  }

  async markSeen(id: string, at: Date): Promise<void> {
    await this.database.db.update(devices).set({ lastSeenAt: at }).where(eq(devices.id, id));
  }
}
