/**
 * The synthesized YAML read by a real YAML linter with go-yaml's concerns in mind (truthy values,
 * duplicate keys, indentation). The tool comes from scripts/test-tools.sh, which `npm test` runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { environments } from '../environments/index';
import { replaceTree } from '../pipeline/output';
import { synthesizeAll } from '../pipeline/pipeline';
import { YAML_OPTIONS } from '../pipeline/synth';

const root = process.cwd();
const config = join(root, '.yamllint.yaml');

function yamllint(dir: string) {
  return spawnSync('yamllint', ['-s', '-f', 'parsable', '-c', config, dir], { encoding: 'utf8' });
}

describe('yamllint', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'shipshape-yamllint-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('passes on every synthesized file of every environment, dist/ and argocd/', async () => {
    const { files, argocd } = await synthesizeAll(environments, root);
    replaceTree(join(dir, 'dist'), files);
    replaceTree(join(dir, 'argocd'), argocd);
    for (const tree of ['dist', 'argocd']) {
      const r = yamllint(join(dir, tree));
      expect(r.error).toBeUndefined();
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  test('catches a string that go-yaml would read as a boolean', () => {
    const bad = join(dir, 'bad');
    replaceTree(bad, new Map([['cm.yaml', 'data:\n  enabled: on\n']]));
    const r = yamllint(bad);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('truthy');
  });

  test('our YAML options quote such strings', () => {
    const file = join(dir, 'quoted.yaml');
    writeFileSync(file, stringify({ data: { a: 'on', b: 'yes', c: 'NO', d: 'y' } }, YAML_OPTIONS));
    const r = yamllint(file);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
