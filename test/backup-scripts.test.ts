/**
 * The shipped backup scripts as files: shellcheck passes on every one (the real shellcheck), each
 * runs under bash with `set -euo pipefail`, and what synthesis puts in the ConfigMap is exactly the
 * files, whether the charts run from their sources (jest, tsx) or from the esbuild bundle
 * `npm run synth` writes into the repository root.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BackupScripts, readScripts, repositoryRoot, SCRIPTS_FOLDER, scriptsDirectory } from '../charts/backup/backup-scripts';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { copyRepository, REPO } from './support/repository-copy';
import { only, synthConstruct } from './support/synth-construct';

const dir = join(REPO, SCRIPTS_FOLDER);
const files = readdirSync(dir).filter((f) => f.endsWith('.sh')).sort();
const [, env] = resolveEnvironments(environments, process.cwd());

test('the scripts are where the charts look for them', () => {
  expect(scriptsDirectory()).toBe(dir);
  expect(files).toEqual(['backup-database.sh', 'backup-files.sh', 'dump-database.sh', 'lib.sh', 'verify-backups.sh']);
});

test('shellcheck finds nothing in any script (sourced files followed, every severity)', () => {
  const r = spawnSync('shellcheck', ['--external-sources', '--severity=style', '--format=gcc', ...files], { cwd: dir, encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test.each(files.filter((f) => f !== 'lib.sh'))('%s is bash with errexit, nounset and pipefail, and uses the shared library', (file) => {
  const text = readFileSync(join(dir, file), 'utf8');
  expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
  expect(text).toMatch(/^set -euo pipefail$/m);
  expect(text).toMatch(/^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh"$/m);
});

test('lib.sh is a library: sourced, never run, and makes command substitutions fail too', () => {
  const text = readFileSync(join(dir, 'lib.sh'), 'utf8');
  expect(text.startsWith('# shellcheck shell=bash\n')).toBe(true);
  expect(text).toMatch(/^shopt -s inherit_errexit$/m);
});

test('a script stops at the first failing command, in a pipeline and in a command substitution, and says so', () => {
  const work = mkdtempSync(join(tmpdir(), 'shipshape-scripts-'));
  try {
    const probe = join(work, 'probe.sh');
    const cases = {
      pipeline: 'false | cat',
      substitution: 'x=$(false; echo ignored); echo "$x"',
      unset: 'echo "$NOT_SET_ANYWHERE"',
    };
    for (const [name, body] of Object.entries(cases)) {
      writeFileSync(probe, `set -euo pipefail\nsource ${join(dir, 'lib.sh')}\n${body}\necho reached\n`);
      const r = spawnSync('bash', [probe], { encoding: 'utf8', env: { PATH: process.env.PATH } });
      expect({ name, status: r.status === 0 ? 0 : 'failed', reached: r.stdout.includes('reached') }).toEqual({ name, status: 'failed', reached: false });
    }
    writeFileSync(probe, `set -euo pipefail\nsource ${join(dir, 'lib.sh')}\nfalse\n`);
    expect(spawnSync('bash', [probe], { encoding: 'utf8' }).stderr).toMatch(/FAILED: exit status 1/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a missing setting fails with EX_CONFIG (64) before anything runs', () => {
  for (const script of ['dump-database.sh', 'backup-database.sh', 'backup-files.sh', 'verify-backups.sh']) {
    const r = spawnSync('bash', [join(dir, script)], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect({ script, status: r.status }).toEqual({ script, status: 64 });
    expect(r.stderr).toMatch(/FAILED: [A-Z_]+ is not set/);
  }
});

test('the ConfigMap holds exactly the files, under their names', () => {
  const cm = only(synthConstruct((s) => new BackupScripts(s, 'scripts', { env })), 'ConfigMap');
  expect(cm.metadata.name).toBe('backup-scripts');
  expect(Object.keys(cm.data)).toEqual(files);
  for (const f of files) expect(cm.data[f]).toBe(readFileSync(join(dir, f), 'utf8'));
  expect(readScripts()).toEqual(cm.data);
});

test('the repository root is found from the sources, the repository root (the synth bundle) and deeper folders', () => {
  expect(repositoryRoot(join(REPO, 'charts', 'backup'))).toBe(REPO);
  expect(repositoryRoot(REPO)).toBe(REPO);
  expect(repositoryRoot(join(REPO, 'bench'))).toBe(REPO);
  const elsewhere = mkdtempSync(join(tmpdir(), 'shipshape-no-repo-'));
  try {
    mkdirSync(join(elsewhere, 'a'));
    expect(() => repositoryRoot(join(elsewhere, 'a'))).toThrow(/cannot find charts\/backup\/scripts/);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test('npm run synth (the esbuild bundle in the repository root) writes the same scripts into the ConfigMap', () => {
  const copy = copyRepository('shipshape-scripts-');
  try {
    const r = spawnSync('npm', ['run', '-s', 'synth'], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const environment of ['staging', 'production']) {
      const cm = parse(readFileSync(join(copy, 'dist', environment, 'backup', 'configmap-backup-scripts.yaml'), 'utf8'));
      expect(Object.keys(cm.data)).toEqual(files);
      for (const f of files) expect(cm.data[f]).toBe(readFileSync(join(dir, f), 'utf8'));
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}, 60_000);
