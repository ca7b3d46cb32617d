import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { AuditModule } from './audit/audit.module.js';
import { HealthModule } from './health/health.module.js';
import { IdentityModule } from './identity/identity.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import type { Infrastructure } from './infra/infrastructure.js';
import { InfrastructureModule } from './infra/infrastructure.module.js';
import { WorklistModule } from './worklist/worklist.module.js';

/** The console's static files sit at the same relative place in the sources and in dist/. */
const consoleRoot = fileURLToPath(new URL('../../console/public', import.meta.url));

@Module({})
export class AppModule {
  static forRoot(infra: Infrastructure): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.forRoot(infra),
        ServeStaticModule.forRoot({
          rootPath: consoleRoot,
          exclude: ['/api/{*rest}', '/health', '/socket.io/{*rest}'],
        }),
        AuditModule,
        IdentityModule,
        WorklistModule,
        IngestModule,
        HealthModule,
      ],
    };
  }
}
