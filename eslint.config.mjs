import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import { layerRules } from './eslint.layers.mjs';

export const config = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.e2e/**', '.cache/**', 'out/**', 'models/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Layout is prettier's (npm run format); eslint checks no formatting of its own.
  prettier,
  {
    // Build and maintenance scripts run as plain Node ES modules.
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        structuredClone: 'readonly',
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // No import cycles in the extension or the webview (type-only imports are erased and do not count).
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Relative imports name no extension: resolve them to the .ts files, and parse those as TypeScript.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  // Each layer imports only what CONTRIBUTING.md's diagram lets it (eslint.layers.mjs).
  ...layerRules,
);

// eslint's flat config loader reads the default export; this file is the one exception to named exports.
export { config as default };
