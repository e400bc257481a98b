// Lint: typescript-eslint's recommended rules plus promise hygiene
// (no floating or misused promises) and type-only imports, as opentelemetry-js does,
// and the layers of ../shared/ARCHITECTURE.md: core <- lib <- components <- bin.
import tseslint from 'typescript-eslint';

const COMPONENT_KINDS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'];
const layer = (message, groups) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }],
});
// Tests and benches may reach across layers (a test drives a component with another's output).
const notTests = ['**/*.test.ts', '**/*.test-helper.ts', 'test/**', 'scripts/**', '**/testdata/**'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', '**/*.d.ts', '**/testdata/**', '.tmp-*'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['core/**/*.ts'],
    ignores: notTests,
    rules: layer('core/ is the bottom layer: it imports nothing of ours above it (move shared code down into core/ instead)', [
      ...COMPONENT_KINDS.map((k) => `**/${k}/**`),
      '**/lib/**',
      '**/bin/**',
    ]),
  },
  {
    files: ['lib/**/*.ts'],
    ignores: notTests,
    rules: layer('lib/ holds what several components share: it imports core/ and other lib/ code, never a component or bin/', [
      ...COMPONENT_KINDS.map((k) => `**/${k}/**`),
      '**/bin/**',
    ]),
  },
  {
    files: COMPONENT_KINDS.map((k) => `${k}/**/*.ts`),
    ignores: notTests,
    rules: layer("a component never imports another component's folder (or its own through ../../): shared code lives in core/ or lib/", [
      ...COMPONENT_KINDS.map((k) => `../../${k}/**`),
      // A sibling of the same kind (processors/detect importing ../audit/…).
      '../*/**',
      '!../../**',
      '**/bin/**',
    ]),
  },
);

