// ESLint flat config: @eslint/js recommended + typescript-eslint recommendedTypeChecked,
// plus the project's own standards (small files, small functions, no stray promises,
// type-only imports, no console in the service).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Build output, runtime data and coverage reports are not source. The offline author's
    // templates (src/authors/offline/templates/*.ts) are TypeScript modules and are linted.
    ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'],
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      eqeqeq: 'error',
      // A dropped promise is a lost error. `void promise` marks a deliberate fire-and-forget.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      // Tuned: the ports (stores, registry, notifier, model journal) are async so that a
      // SQLite adapter and a networked one are interchangeable; the SQLite adapters are
      // synchronous inside, and Fastify tells async hooks and handlers from callback ones
      // by their being async. Such `async` functions have no `await` by design, and dropping
      // `async` would turn a thrown error into a synchronous throw. The rule flagged only this.
      '@typescript-eslint/require-await': 'off',
      // Tuned: a leading underscore marks a parameter or binding that is unused on purpose
      // (an interface's argument, a field dropped from a row with a rest pattern).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // The guide: "no file much over 300 lines", "no function much over 60".
      'max-lines': ['error', { max: 330, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
      // The service logs through pino; only the entry point may write to the console.
      'no-console': 'error',
    },
  },
  {
    files: ['src/main.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests are long tables of cases and describe() blocks; bench/ and test/ may print.
    files: ['test/**/*.ts'],
    rules: {
      'max-lines': 'off',
      'max-lines-per-function': 'off',
      // Tuned for tests only (src keeps them): tests assert on values typed `any` by their
      // libraries — Fastify's `inject().json()`, `JSON.parse` of a wire body, an error caught
      // to be probed, vitest's `expect.any()` / `expect.objectContaining()` matchers. Reading
      // a field of such a value or calling its method is what the assertion checks; a wrong
      // field fails the test. Passing `any` on (no-unsafe-argument, no-unsafe-return) and
      // writing `any` (no-explicit-any) stay errors.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Tuned for the fake model server only: it stands in for two HTTP APIs, takes whatever
    // JSON a client sends and checks it field by field as the real APIs do (see
    // anthropic-rules.ts). The request body is `any` on purpose: its shape is the very thing
    // under check, so a declared type would assert what the code is there to verify, and
    // narrowing each field from `unknown` would double the validators for no runtime gain.
    files: ['test/support/fake-model/**/*.ts', 'test/support/fake-model-server.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The droplet skeleton: plain ESM JavaScript that generated droplets run as it is,
    // type-checked by droplet-skeleton/tsconfig.json (`// @ts-check`), held to the same size limits.
    files: ['droplet-skeleton/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      eqeqeq: 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'max-lines': ['error', { max: 330, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['droplet-skeleton/src/**/*.js'],
    rules: { 'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }], 'no-console': 'error' },
  },
  {
    // The droplet supervisor: plain ESM JavaScript uploaded alone to hosts (Node built-ins only),
    // type-checked by host-agent/tsconfig.json. One file on purpose, since it ships as one
    // program: no file-size limit, but the function-size limit holds.
    files: ['host-agent/**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      eqeqeq: 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The dashboard: plain ES modules the browser loads as they are (no build step), held
    // to the same size limits as the service.
    files: ['dashboard/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
    rules: {
      eqeqeq: 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'max-lines': ['error', { max: 330, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The plain JavaScript config files at the root (this one) are not in the TypeScript project.
    files: ['*.js', '*.mjs', '*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
);
