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
  // A mutant that makes a test hang (a lease never freed, a retry loop without its deadline) fails the test
  // here rather than waiting for Stryker's own timeout, which is computed from every covering test and costs
  // a restart of the runner: about a minute each for the lease code that every spec covers. The longest test
  // takes about 5 s on a loaded machine; Stryker counts both kinds of hang as detected.
  testTimeout: 15_000,
  testMatch: [
    '<rootDir>/packages/pipeline/src/**/*.spec.ts',
    '<rootDir>/packages/db/src/repositories/*.int.spec.ts',
    // The switch of embedding space (packages/pipeline/src/space-switch.service.ts) is proven end to end here.
    '<rootDir>/apps/query/src/space-switch.int.spec.ts',
  ],
};
