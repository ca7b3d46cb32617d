import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './apps/relay/src/infra/database/schema.ts',
  out: './apps/relay/src/infra/database/migrations',
});
