// Copies what SWC does not compile into dist/: database migrations and the console's files.
import { cpSync } from 'node:fs';

cpSync('apps/relay/src/infra/database/migrations', 'dist/apps/relay/src/infra/database/migrations', {
  recursive: true,
});
cpSync('apps/console/public', 'dist/apps/console/public', { recursive: true });
