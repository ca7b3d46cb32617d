import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { AnalysisModule } from './analysis/analysis.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ConsentModule } from './consent/consent.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { FhirModule } from './fhir/fhir.module.js';
import { HealthModule } from './health/health.module.js';
import { CredentialsModule } from './identity/credentials.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import type { Infrastructure } from './infra/infrastructure.js';
import { InfrastructureModule } from './infra/infrastructure.module.js';
import { PhrasesModule } from './phrases/phrases.module.js';
import { PoliciesModule } from './policies/policies.module.js';
import { RecordsModule } from './records/records.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { DicomListenerModule } from './imaging/dicom-listener.module.js';
import { ImagingModule } from './imaging/imaging.module.js';
import { EcgFilesModule } from './ecg-files/ecg-files.module.js';
import { StatsModule } from './stats/stats.module.js';
import { StreamsModule } from './streams/streams.module.js';
import { WorklistModule } from './worklist/worklist.module.js';

/** The console, built by Vite into dist/apps/console/public (npm run build). */
const consoleRoot = fileURLToPath(new URL('../../console/public', import.meta.url));

/**
 * The relay's own modules: every REST controller and gateway is reachable from these
 * (test/e2e/access-matrix.e2e.ts walks them to find every route).
 */
export const DOMAIN_MODULES = [
  AuditModule,
  IdentityModule,
  WorklistModule,
  PhrasesModule,
  PoliciesModule,
  DevicesModule,
  IngestModule,
  AnalysisModule,
  StreamsModule,
  StatsModule,
  HealthModule,
  RetentionModule,
  ImagingModule,
  EcgFilesModule,
  DicomListenerModule,
  RecordsModule,
  ConsentModule,
  FhirModule,
];

@Module({})
export class AppModule {
  static forRoot(infra: Infrastructure): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.forRoot(infra),
        CredentialsModule,
        ServeStaticModule.forRoot({
          rootPath: consoleRoot,
          exclude: [
            '/api/{*rest}',
            '/health',
            '/socket.io/{*rest}',
            '/dicomweb/{*rest}',
            '/fhir/{*rest}',
          ],
        }),
        ...DOMAIN_MODULES,
      ],
    };
  }
}
