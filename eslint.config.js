// Flat config: typescript-eslint's recommended rules on every TypeScript file, plus the type-aware rules that catch
// promises nobody awaits (a lost error, or a job that "completes" before its write), and the layer rule.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Dependencies point down (CONTRIBUTING.md, "Layers"): entry points (workers/, board/, scripts/) on top, queues/ (the
 * producer contract) below them, src/ (the library) at the bottom. An import that points up is a lint error.
 */
const upwardImports = (folders, why) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          regex: `^(\\.\\./)+(${folders.join('|')})/`,
          message: `${why} (see CONTRIBUTING.md, "Layers")`,
        },
      ],
    },
  ],
});

export const LAYERS = [
  {
    files: ['src/**/*.ts'],
    rules: upwardImports(
      ['queues', 'workers', 'board', 'scripts', 'bench', 'test'],
      'src/ is the library: it imports nothing from the job kinds, the processes or the scripts above it',
    ),
  },
  {
    files: ['queues/**/*.ts'],
    rules: upwardImports(
      ['workers', 'board', 'scripts', 'bench', 'test'],
      'queues/ is the producer contract: it may use src/, never the processes or scripts above it',
    ),
  },
  {
    files: ['workers/**/*.ts'],
    rules: upwardImports(
      ['board', 'scripts', 'bench', 'test'],
      'workers/ may use queues/ and src/, not the board or scripts',
    ),
  },
  {
    files: ['board/**/*.ts'],
    rules: upwardImports(
      ['workers', 'scripts', 'bench', 'test'],
      'board/ may use queues/ and src/, not the workers or scripts',
    ),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'test/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/test return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  ...LAYERS,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
