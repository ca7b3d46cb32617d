import { Module } from '@nestjs/common';
import { OutboxRepository } from './outbox.repository.js';
import { Outbox } from './outbox.js';

@Module({ providers: [OutboxRepository, Outbox], exports: [Outbox] })
export class OutboxModule {}
