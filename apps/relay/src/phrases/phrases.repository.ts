import { Injectable } from '@nestjs/common';
import { and, asc, eq } from 'drizzle-orm';
import type { Phrase } from '#contracts';
import { Database } from '../infra/database/database.js';
import { phrases } from '../infra/database/schema.js';

const columns = { id: phrases.id, text: phrases.text, createdAt: phrases.createdAt };

function toPhrase(row: { id: string; text: string; createdAt: Date }): Phrase {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

/** Every query names the hospital: a phrase is only ever read or removed within its own. */
@Injectable()
export class PhrasesRepository {
  constructor(private readonly database: Database) {}

  async list(hospitalId: string): Promise<Phrase[]> {
    const rows = await this.database.db
      .select(columns)
      .from(phrases)
      .where(eq(phrases.hospitalId, hospitalId))
      .orderBy(asc(phrases.text))
      .limit(500);
    return rows.map(toPhrase);
  }

  /** Adds the phrase; the same text twice in one hospital returns the existing one. */
  async add(hospitalId: string, text: string, userId: string): Promise<Phrase> {
    await this.database.db
      .insert(phrases)
      .values({ hospitalId, text, createdBy: userId })
      .onConflictDoNothing();
    const [row] = await this.database.db
      .select(columns)
      .from(phrases)
      .where(and(eq(phrases.hospitalId, hospitalId), eq(phrases.text, text)));
    if (!row) throw new Error('phrase not written');
    return toPhrase(row);
  }

  async remove(hospitalId: string, id: string): Promise<boolean> {
    const rows = await this.database.db
      .delete(phrases)
      .where(and(eq(phrases.id, id), eq(phrases.hospitalId, hospitalId)))
      .returning({ id: phrases.id });
    return rows.length === 1;
  }
}
