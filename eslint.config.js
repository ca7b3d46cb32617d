// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import boundaries: apps → libs, libs never → apps, contracts → nothing of ours. */
const noApps = {
  group: ['**/apps/**', '../../apps/**'],
  message: 'Libraries and tools must not import application code (apps → libs only).',
};
const noDeepLibs = {
  group: ['**/libs/*/src/**'],
  message: 'Import a library through its entry point (#contracts, #ecg, #dicom).',
};

/**
 * Layering in the relay (docs/architecture.md, "Layering"): outside parts are reached through
 * adapters, so only `apps/relay/src/infra/**` imports them, except that the database is also
 * queried by repositories (`*.repository.ts`) and Socket.IO is also the transport of
 * gateways. Tests (`*.test.ts`) may import them, to run an adapter or seed a real database.
 */
const RELAY = 'apps/relay/src';
const noRedisBrokerQueue = {
  group: [
    'aedes',
    'aedes-*',
    'mqtt-packet',
    'bullmq',
    'ioredis',
    'rate-limiter-flexible',
    'dcmjs-dimse',
    'prom-client',
  ],
  message: `Redis, BullMQ, Aedes, the DICOM network (dcmjs-dimse) and Prometheus (prom-client) are reached through an adapter in ${RELAY}/infra (RedisConnections, JobQueues, MqttBroker, DimseServer, PrometheusMetrics behind common/metrics.ts, a store).`,
};
const noDatabase = {
  group: [
    'pg',
    'pg-*',
    '@electric-sql/pglite',
    '@electric-sql/pglite/*',
    'drizzle-orm',
    'drizzle-orm/*',
  ],
  message: 'Queries live in a *.repository.ts (or in infra/database); services call repositories.',
};
const noTables = {
  group: ['**/infra/database/schema', '**/infra/database/schema.js'],
  message: 'Tables are read and written by repositories (*.repository.ts); services call them.',
};
const noSocketIo = {
  group: ['socket.io', '@nestjs/platform-socket.io'],
  message:
    'Socket.IO is a transport edge: gateways (*.gateway.ts) and the realtime adapters (Notifier, the IoAdapter) only.',
};
/** Every folder of the relay but infra, common and config (layering.test.ts checks the list). */
const DOMAIN_FOLDERS = [
  'analysis',
  'api-docs',
  'audit',
  'consent',
  'demo',
  'devices',
  'ecg-files',
  'facilities',
  'fhir',
  'health',
  'identity',
  'imaging',
  'ingest',
  'outbox',
  'phrases',
  'policies',
  'realtime',
  'records',
  'region',
  'retention',
  'stats',
  'streams',
  'worklist',
];
const noDomain = {
  regex: `^(\\.\\./)+((${DOMAIN_FOLDERS.join('|')})/|(app\\.module|relay|main)\\.js$)`,
  message:
    'infra knows no domain: a domain module builds its adapter from what infra provides (see InfrastructureModule).',
};
/**
 * Time is a dependency (docs/architecture.md, "Layering"): domain code reads the injected
 * `Clock`, so a deadline, a lease or a back-off can be tested with a clock the test moves.
 */
const noWallClock = [
  'error',
  {
    selector: "MemberExpression[object.name='Date'][property.name='now']",
    message: 'Read the time from the injected Clock (common/clock.ts), not Date.now.',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'Read the time from the injected Clock (common/clock.ts), not new Date().',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['apps/relay/**/*.ts', 'apps/console/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noDeepLibs] }] },
  },
  // Layering (see the constants above). For one file the last matching block's list wins.
  {
    files: [`${RELAY}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noDeepLibs, noRedisBrokerQueue, noDatabase, noTables, noSocketIo] },
      ],
    },
  },
  {
    files: [`${RELAY}/**/*.repository.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noDeepLibs, noRedisBrokerQueue, noSocketIo] },
      ],
    },
  },
  {
    files: [
      `${RELAY}/**/*.gateway.ts`,
      `${RELAY}/realtime/notifier.ts`,
      `${RELAY}/realtime/socket-origins.ts`,
      `${RELAY}/realtime/socket-refusal.ts`,
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noDeepLibs, noRedisBrokerQueue, noDatabase, noTables] },
      ],
    },
  },
  {
    files: [`${RELAY}/**/*.ts`],
    ignores: [
      `${RELAY}/infra/**`,
      `${RELAY}/common/clock.ts`,
      `${RELAY}/**/*.test.ts`,
      `${RELAY}/**/testing/**`,
    ],
    rules: { 'no-restricted-syntax': noWallClock },
  },
  {
    files: [`${RELAY}/**/*.test.ts`, `${RELAY}/**/testing/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [noDeepLibs] }] },
  },
  {
    files: [`${RELAY}/infra/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [noDeepLibs, noDomain] }] },
  },
  {
    files: ['apps/console/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noDeepLibs,
            {
              group: ['**/relay/**', '#ecg', '#dicom'],
              message:
                'The console talks to the relay over HTTP and Socket.IO, and shares only #contracts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts', 'device-simulator/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noApps, noDeepLibs] }] },
  },
  {
    files: ['libs/contracts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noApps,
            { group: ['#*', '../../*/**'], message: 'contracts depends on nothing of ours.' },
            {
              regex: '^(?!zod$|\\.{1,2}/)',
              message: 'contracts may use only zod and its own files.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['device-simulator/src/main.ts', 'scripts/**/*.ts', 'scripts/**/*.mjs', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
