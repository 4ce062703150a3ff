/**
 * Two Jest projects over the whole monorepo:
 * - unit: `*.spec.ts` beside the code, no services;
 * - integration: `*.int.spec.ts` (real Postgres, Redis, emulators) and `tests/e2e/*.e2e.spec.ts`
 *   (the three apps as separate processes).
 * Integration files each use their own database, queue prefix and collection, so they may run in parallel.
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    },
  ],
};
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  // Two cores: integration files start servers and child processes of their own.
  maxWorkers: 2,
  // A global option (Jest ignores it inside a project): integration tests start databases, servers and
  // processes, which take more than Jest's 5 s on a loaded two-core machine; unit specs take milliseconds.
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      rootDir: __dirname,
      // tests/deploy: docker-compose.yml, deploy/ and the README read as files, no services.
      testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.spec.ts', '<rootDir>/tests/*/src/**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      rootDir: __dirname,
      testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.int.spec.ts', '<rootDir>/tests/*/src/**/*.e2e.spec.ts'],
    },
  ],
};
