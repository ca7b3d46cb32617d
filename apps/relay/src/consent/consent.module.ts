import { Module } from '@nestjs/common';
import { AUTH_SECRET, CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import type { Logger } from '../infra/logging/logger.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { Notifier } from '../realtime/notifier.js';
import { HttpSmsGateway } from '../infra/sms/sms-gateway.js';
import { PatientsService } from '../records/patients.service.js';
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
import { SmsConsentNotifier } from './sms-consent-notifier.js';

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
      // A configured gateway wins, in the demo too (to try one out); else the demo shows
      // codes on the clinic's page, and outside it nothing can be sent.
      useFactory: (
        config: RelayConfig,
        notifier: Notifier,
        patients: PatientsService,
        log: Logger,
      ) =>
        config.consent.sms
          ? new SmsConsentNotifier(new HttpSmsGateway(config.consent.sms, log), patients, log)
          : config.demo.enabled
            ? new DemoConsentNotifier(notifier, log)
            : new UnconfiguredConsentNotifier(log),
      inject: [CONFIG, Notifier, PatientsService, LOGGER],
    },
  ],
  exports: [ConsentService],
})
export class ConsentModule {}
