/**
 * Jest for `pnpm test:mutation` (StrykerJS): only the integration specs that exercise the reindex pipeline
 * and the repositories it uses, as one project (Stryker's jest runner does not take the root's two projects).
 * They need the local Postgres; the Qdrant emulator runs in process.
 */
const base = require('./jest.config.js');
const integration = base.projects.find((p) => p.displayName === 'integration');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  transform: integration.transform,
  testEnvironment: 'node',
  moduleFileExtensions: integration.moduleFileExtensions,
  modulePathIgnorePatterns: integration.modulePathIgnorePatterns,
  testTimeout: base.testTimeout,
  testMatch: [
    '<rootDir>/packages/pipeline/src/**/*.spec.ts',
    '<rootDir>/packages/db/src/repositories/*.int.spec.ts',
    // The switch of embedding space (packages/pipeline/src/space-switch.service.ts) is proven end to end here.
    '<rootDir>/apps/query/src/space-switch.int.spec.ts',
  ],
};
