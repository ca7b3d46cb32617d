import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { Notifier } from './notifier.js';
import { RealtimeGateway } from './realtime.gateway.js';

@Module({ imports: [IdentityModule], providers: [Notifier, RealtimeGateway], exports: [Notifier] })
export class RealtimeModule {}
