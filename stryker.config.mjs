/**
 * `pnpm test:mutation`: StrykerJS over the reindex pipeline and the repositories it writes through, run by
 * their integration specs (real Postgres, the Qdrant emulator in process). Not part of `pnpm test` or CI:
 * see the README for how long a run takes and what it scored. Mutants inside logger
 * calls are ignored (see scripts/stryker-log-ignorer.mjs). The report lands in reports/mutation/.
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'pnpm',
  plugins: ['@stryker-mutator/jest-runner', '@stryker-mutator/typescript-checker', './scripts/stryker-log-ignorer.mjs'],
  ignorers: ['log-calls'],
  testRunner: 'jest',
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: [
    'packages/pipeline/src/**/*.ts',
    '!packages/pipeline/src/**/*.spec.ts',
    '!packages/pipeline/src/index.ts',
    'packages/db/src/repositories/embedding.repository.ts',
    'packages/db/src/repositories/lease.repository.ts',
    'packages/db/src/repositories/point-deletion.repository.ts',
    'packages/db/src/repositories/index-run.repository.ts',
  ],
  // Workspace packages resolve each other through pnpm's symlinks to the real files: mutate them in place
  // (Stryker restores them when it ends) rather than in a sandbox copy the symlinks would bypass.
  inPlace: true,
  coverageAnalysis: 'perTest',
  // Stryker gives half the slots to TypeScript checkers and, once they have checked every mutant, hands their
  // slots to more jest runners: two slots make one checker and one runner, then two runners, which is what
  // two cores sustain. With four, the four runners of the run's second half overloaded the machine, and a
  // mutant whose tests merely ran slow (a survivor among them) counted as timed out.
  concurrency: 2,
  // Reruns only test mutants whose code or covering tests changed since the last report.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  timeoutMS: 5_000,
  // Static mutants (module-level code: schemas, constants) run against every spec, not only the specs that
  // cover them: about 590 of the 1,992 mutants but most of the run's time. They are left out of the run and
  // the score (Stryker reports them as ignored).
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
};
