/**
 * environments/files.ts: the environment files and environments/index.ts agree, and what does not
 * is said plainly (a file nobody lists, a name that is not the file's, a listed name with no
 * file); environments/load.ts refuses entries of the list that are not environments at all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentDefinition } from '../environments/define';
import { environmentFileProblems } from '../environments/files';
import { environments } from '../environments/index';
import { ConfigError, resolveEnvironments } from '../environments/load';
import { REPOSITORY_ROOT, shop } from './support/fixtures';

let root: string;
const file = (name: string, text: string) => writeFileSync(join(root, 'environments', name), text);
const env = (name: string) => `import { defineEnvironment } from './define';\n\nexport const x = defineEnvironment({\n  name: '${name}',\n  production: false,\n});\n`;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shipshape-env-files-'));
  mkdirSync(join(root, 'environments'));
  file('define.ts', 'export function defineEnvironment(o: { name: string }) { return o; }\n');
  file('shared.ts', 'export const shared = {};\n');
  file('index.ts', "import { staging } from './staging';\nexport const environments = [staging];\n");
  file('staging.ts', env('staging'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('the repository\'s own files and list agree', () => {
  expect(environmentFileProblems(REPOSITORY_ROOT, environments.map((d) => d.name))).toEqual([]);
});

test('files and list that agree: nothing to say; modules that define nothing are not environments', () => {
  expect(environmentFileProblems(root, ['staging'])).toEqual([]);
});

test('a file the list does not name', () => {
  file('qa.ts', env('qa'));
  expect(environmentFileProblems(root, ['staging'])).toEqual([
    'environments/qa.ts defines the environment qa, which environments/index.ts does not list: add it to `environments` there (or delete the file)',
  ]);
});

test('a name that is not the file\'s (a copy not renamed, or a rename): said once, with the file', () => {
  file('staging.ts', env('stage'));
  expect(environmentFileProblems(root, ['stage'])).toEqual([
    'environments/staging.ts: name ("stage") must be the file\'s name, "staging": the environment is written to dist/<name>/ '
    + 'and pinned in environments/images/<name>.yaml, so a different name moves it away from its file',
  ]);
  file('qa.ts', env('staging').replace("'staging'", '"staging"'));
  expect(environmentFileProblems(root, ['stage', 'staging'])).toHaveLength(2);
});

test('a listed name without a file, and a file whose name is not written out', () => {
  file('qa.ts', "import { defineEnvironment } from './define';\nconst n = 'qa';\nexport const qa = defineEnvironment({ name: n });\n");
  expect(environmentFileProblems(root, ['staging', 'production'])).toEqual([
    "environments/qa.ts: defineEnvironment is called without a name written out: give it name: 'qa'",
    'environments/index.ts lists the environment production, but no environments/production.ts defines it',
  ]);
});

test('no environments folder (a test application): nothing to compare', () => {
  expect(environmentFileProblems(join(root, 'elsewhere'), ['shop'])).toEqual([]);
});

test('an entry of the list that is not an environment (a file that exports nothing or something else) is a clear error', () => {
  const defs = [shop, undefined, { name: 'x' }, 'staging'] as unknown as EnvironmentDefinition[];
  const error = (() => {
    try {
      resolveEnvironments(defs, REPOSITORY_ROOT);
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems).toEqual([
    'environments/index.ts: environments[1] is not an environment (undefined): each entry must be what its file exports from defineEnvironment({ name, … })',
    'environments/index.ts: environments[2] is not an environment ({"name":"x"}): each entry must be what its file exports from defineEnvironment({ name, … })',
    'environments/index.ts: environments[3] is not an environment ("staging"): each entry must be what its file exports from defineEnvironment({ name, … })',
  ]);
});

test('a typed export is an environment file too, and only the top-level name counts', () => {
  file('qa.ts', "import { defineEnvironment, type EnvironmentDefinition } from './define';\n\n"
    + "export const qa: EnvironmentDefinition = defineEnvironment({\n  // name: 'not this one'\n  app: { name: 'student-portal', namespace: 'qa' },\n  name: 'qa',\n});\n");
  expect(environmentFileProblems(root, ['staging'])).toEqual([
    'environments/qa.ts defines the environment qa, which environments/index.ts does not list: add it to `environments` there (or delete the file)',
  ]);
  expect(environmentFileProblems(root, ['staging', 'qa'])).toEqual([]);
});
