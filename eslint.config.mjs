// @ts-check
// ESLint as a NestJS project scaffolds it: typescript-eslint's type-checked rules, Prettier as a
// rule. A rule switched off or relaxed below says why.
import eslint from '@eslint/js';
import eslintPluginPrettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'eslint.config.mjs',
      'dist/**',
      'node_modules/**',
      '.stack/**',
      'bench-results/**',
      'coverage/**',
      '**/*.js',
      // generator output: scripts/gen-lua.ts writes it from the .lua files beside it
      'libs/cache-protocol/src/lua/generated.ts',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  eslintPluginPrettierRecommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      sourceType: 'commonjs',
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `const { version: _v, ...content } = x` is how the code drops fields from a copy, and a
      // leading underscore marks a parameter an interface makes us take but we do not read.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Passing a caught error on unchanged (`catch (error) { return Promise.reject(error) }`) is
      // what the promise-returning APIs do; rejecting with a literal or an object is still refused.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Tests. Test doubles implement async interfaces (loaders, sinks, Kafka handlers) as
    // `async () => value`; rewriting each as Promise.resolve adds noise and no safety. jest's
    // asymmetric matchers (`expect.objectContaining(...)`, `expect.stringContaining(...)`) and
    // Nest's `app.getHttpServer()` are typed `any` by their libraries, so passing them on trips
    // no-unsafe-argument/-assignment at every use.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/support/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // End-to-end tests read supertest's `res.body` (typed `any`) on nearly every line, and the
    // dashboard test reaches DOM elements through Playwright without DOM types; a failing
    // assertion is the check there. Unit tests keep these rules: type what JSON.parse returns.
    files: ['**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
