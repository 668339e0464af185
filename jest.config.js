import { availableParallelism } from 'node:os';

/** Jest runs the TypeScript sources as native ES modules, compiled by esbuild (type-checking is tsc's job). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
  testTimeout: 30000,
  // Jest's default leaves a core free (cores - 1 workers): one worker on a 2-core machine. The live
  // suites spend much of their time waiting (the Redis failover suite ~100 s, mostly on Sentinel's
  // own timers): one worker more than cores runs the others meanwhile (measured on 2 cores: 282 s
  // with 2 workers, 226 s with 3). A number, as Jest reads a percentage above 100 as a count of
  // workers ('150%' is 150).
  maxWorkers: availableParallelism() + 1,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
