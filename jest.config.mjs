import { swcOptions } from './scripts/swc-options.mjs';

const { module: _module, sourceMaps: _sourceMaps, ...transformOptions } = swcOptions;

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...transformOptions, module: { type: 'es6' } }] },
  moduleNameMapper: {
    '^@cx/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  reporters: ['default', '<rootDir>/test/suite-reporter.mjs'],
  testTimeout: 30000,
};
