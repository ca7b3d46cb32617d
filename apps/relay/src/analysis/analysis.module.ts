import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { RecordsModule } from '../records/records.module.js';
import { WorklistModule } from '../worklist/worklist.module.js';
import { EcgAnalysisService } from './ecg-analysis.service.js';
import { EcgAnalyzer } from './ecg-analyzer.js';

@Module({
  imports: [IngestModule, WorklistModule, OutboxModule, RecordsModule],
  providers: [EcgAnalysisService, EcgAnalyzer],
})
export class AnalysisModule {}
