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
