import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { StatsController } from './stats.controller.js';
import { StatsRepository } from './stats.repository.js';
import { StatsService } from './stats.service.js';
import { SupervisionFeed } from './supervision-feed.js';
import { SupervisionRepository } from './supervision.repository.js';
import { SupervisionService } from './supervision.service.js';

@Module({
  imports: [FacilitiesModule, RealtimeModule],
  controllers: [StatsController],
  providers: [
    StatsRepository,
    StatsService,
    SupervisionRepository,
    SupervisionService,
    SupervisionFeed,
  ],
})
export class StatsModule {}
