/**
 * Mutation testing of the modules whose bugs the targeted tests must catch: the policy and schema
 * gates, pod security, the NetworkPolicies and the flows they are made from, the configuration
 * schema and rules, the resolved model, the output writer and the data tier's constructs.
 * `npm run mutate` (scripts/mutate.mjs) runs Stryker once per group below, each group's modules
 * against the test files named after them: a mutant counts as killed only when a test of that
 * module notices it. The whole-output snapshot and freshness tests are never in a group: they fail
 * on any change at all, so they would "kill" every mutant without saying what broke.
 *
 * Most construct code runs while a test file loads (objects are synthesized once per file), so
 * Stryker cannot tell which test covers it and runs the group's whole test set for such a mutant;
 * small groups keep that affordable.
 */
export const GROUPS = {
  policy: {
    mutate: ['pipeline/policy.ts'],
    tests: ['policy', 'network-policy-evaluator'],
  },
  'pod-security': {
    mutate: ['charts/common/pod-security.ts'],
    tests: ['pod-security', 'policy', 'app-namespace', 'web-service', 'redis-sentinel', 'backup-chart'],
  },
  'schema-validation': {
    mutate: ['pipeline/schema-validation.ts'],
    tests: ['schema-validation'],
  },
  'network-policies': {
    mutate: ['charts/security/network-policies.ts', 'environments/model/flows.ts'],
    tests: ['network-policies', 'flows', 'network-flows', 'second-app'],
  },
  config: {
    mutate: ['environments/schema.ts', 'environments/rules.ts'],
    tests: ['config-corpus', 'config-formats', 'config-boundaries', 'config-docs'],
  },
  model: {
    mutate: ['environments/model/*.ts', '!environments/model/flows.ts'],
    tests: ['model-names', 'injected-env', 'flows', 'second-app', 'redis-memory'],
  },
  output: {
    mutate: ['pipeline/output.ts'],
    tests: ['output'],
  },
  'data-tier': {
    mutate: ['charts/data/*.ts'],
    tests: [
      'postgres-cluster', 'postgres-object-store', 'postgres-base-backups', 'postgres-pooler', 'postgres-parameters',
      'redis-sentinel', 'uploads-volume', 'model-names',
    ],
  },
};

const name = process.env.MUTATE_GROUP ?? 'policy';
const group = GROUPS[name];
if (!group) throw new Error(`MUTATE_GROUP=${name} is not one of ${Object.keys(GROUPS).join(', ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: {
      testMatch: group.tests.map((t) => `<rootDir>/test/${t}.test.ts`),
      reporters: ['default'],
    },
    // jest's roots are test/ only, so its dependency graph cannot relate a source file to its tests.
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  mutate: group.mutate,
  // The jest transform strips types without checking them; Stryker's @ts-nocheck banner would only
  // change generated files that a test compares byte for byte.
  disableTypeChecks: false,
  concurrency: 2,
  timeoutMS: 60000,
  reporters: ['clear-text', 'json', 'html', 'progress-append-only'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
