import { Module } from '@nestjs/common';
import { AUTH_SECRET, CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import type { Logger } from '../infra/logging/logger.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { Notifier } from '../realtime/notifier.js';
import { RecordsModule } from '../records/records.module.js';
import { ConsentCodes } from './consent-codes.js';
import {
  ConsentNotifier,
  DemoConsentNotifier,
  UnconfiguredConsentNotifier,
} from './consent-notifier.js';
import { ConsentController } from './consent.controller.js';
import { ConsentRepository } from './consent.repository.js';
import { ConsentService } from './consent.service.js';
import { SharedRecordRepository } from './shared-record.repository.js';
import { SharedRecordService } from './shared-record.service.js';

@Module({
  imports: [FacilitiesModule, RealtimeModule, RecordsModule],
  controllers: [ConsentController],
  providers: [
    ConsentRepository,
    SharedRecordRepository,
    ConsentService,
    SharedRecordService,
    {
      provide: ConsentCodes,
      useFactory: (secret: string) => new ConsentCodes(secret),
      inject: [AUTH_SECRET],
    },
    {
      provide: ConsentNotifier,
      useFactory: (config: RelayConfig, notifier: Notifier, log: Logger) =>
        config.demo.enabled
          ? new DemoConsentNotifier(notifier, log)
          : new UnconfiguredConsentNotifier(log),
      inject: [CONFIG, Notifier, LOGGER],
    },
  ],
  exports: [ConsentService],
})
export class ConsentModule {}
