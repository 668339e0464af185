/** Jest runs the TypeScript sources as native ES modules, compiled by esbuild (type-checking is tsc's job). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  testTimeout: 30000,
  // Jest's default leaves a core free (cores - 1 workers): one worker on a 2-core machine, while the
  // live suites spend much of their time waiting on PostgreSQL, Redis, restic and child processes.
  maxWorkers: '100%',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
