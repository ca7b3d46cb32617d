import { Injectable } from '@nestjs/common';
import { NewPhraseSchema, type Phrase, type SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { parseInput } from '../common/validation.js';
import { PhrasesRepository } from './phrases.repository.js';

/**
 * Reusable phrases for the sign form, per hospital: the caller's facility is the scope of
 * every call, so another hospital's phrases can be neither seen nor removed.
 */
@Injectable()
export class PhrasesService {
  constructor(private readonly phrases: PhrasesRepository) {}

  list(user: SessionUser): Promise<Phrase[]> {
    return this.phrases.list(user.facilityId);
  }

  add(user: SessionUser, body: unknown): Promise<Phrase> {
    const { text } = parseInput(NewPhraseSchema, body);
    return this.phrases.add(user.facilityId, text, user.id);
  }

  async remove(user: SessionUser, id: string): Promise<void> {
    if (await this.phrases.remove(user.facilityId, id)) return;
    // Another hospital's phrase looks exactly like a missing one (audited by the edge).
    throw new DomainError('NOT_FOUND', 'No such phrase at your hospital', {
      subject: `phrase:${id}`,
      detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
    });
  }
}
