// Copies what SWC does not compile into dist/: the database migrations. (Vite builds the
// console into dist/apps/console/public; see apps/console/vite.config.ts.)
import { cpSync } from 'node:fs';

cpSync(
  'apps/relay/src/infra/database/migrations',
  'dist/apps/relay/src/infra/database/migrations',
  {
    recursive: true,
  },
);
