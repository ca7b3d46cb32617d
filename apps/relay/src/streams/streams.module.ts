import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module.js';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { IngestModule } from '../ingest/ingest.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { LiveStreamsService } from './live-streams.service.js';
import { StreamsController } from './streams.controller.js';
import { StreamsGateway } from './streams.gateway.js';

@Module({
  imports: [IngestModule, DevicesModule, FacilitiesModule, RealtimeModule],
  controllers: [StreamsController],
  providers: [LiveStreamsService, StreamsGateway],
  exports: [LiveStreamsService],
})
export class StreamsModule {}
