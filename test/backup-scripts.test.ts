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
import { BackupScripts, SCRIPTS_FOLDER, scriptsDirectory } from '../charts/backup/backup-scripts';
import { readScripts, repositoryRoot } from '../charts/common/shipped-files';
import { appIdentity } from '../environments/model/identity';
import { shop, variant } from './support/fixtures';
import { copyRepository, REPO } from './support/repository-copy';
import { only, synthConstruct } from './support/synth-construct';

const dir = join(REPO, SCRIPTS_FOLDER);
const files = readdirSync(dir).filter((f) => f.endsWith('.sh')).sort();

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

/** A script run with exactly `env` (and PATH), stdin closed. */
const run = (script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', [join(dir, script)], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

test('a missing setting fails with EX_CONFIG (64) before anything runs', () => {
  for (const script of ['dump-database.sh', 'backup-database.sh', 'backup-files.sh']) {
    const r = run(script);
    expect({ script, status: r.status }).toEqual({ script, status: 64 });
    expect(r.stderr).toMatch(/FAILED: [A-Z_]+ is not set/);
  }
  const r = run('verify-backups.sh');
  expect(r.status).toBe(64);
  expect(r.stderr).toMatch(/FAILED: neither DATABASE_REPOSITORY nor FILES_REPOSITORY is set: nothing to verify/);
});

test('verify-backups.sh: each repository it is given brings its own required settings, checked before anything runs', () => {
  const work = mkdtempSync(join(tmpdir(), 'shipshape-verify-config-'));
  try {
    // WORK_DIR names a folder the script would empty: it must still be there, untouched, after a refusal.
    const workDir = join(work, 'scratch');
    mkdirSync(workDir);
    writeFileSync(join(workDir, 'keep'), 'untouched');
    const common = { BACKUP_HOST: 'h', WORK_DIR: workDir, CHECK_READ_DATA_PERCENT: '10', MAX_SNAPSHOT_AGE_HOURS: '48', RESTIC_BIN: '/nonexistent/restic' };
    const database = { DATABASE_REPOSITORY: join(work, 'db'), DATABASE_TAG: 'database', DUMP_NAME: 'x.dump', VERIFY_TABLES: 'public.t' };
    const cases: [string, Record<string, string>, RegExp][] = [
      ['files without FILES_TAG', { ...common, FILES_REPOSITORY: join(work, 'files') }, /FAILED: FILES_TAG is not set/],
      ['the database without VERIFY_TABLES', { ...common, ...database, VERIFY_TABLES: '' }, /FAILED: VERIFY_TABLES is not set/],
      ['the database without DUMP_NAME', { ...common, ...database, DUMP_NAME: '' }, /FAILED: DUMP_NAME is not set/],
      ['the database with a table name that is not one', { ...common, ...database, VERIFY_TABLES: 'public.t; DROP TABLE x' }, /is not a table name/],
      ['both, FILES_TAG missing', { ...common, ...database, FILES_REPOSITORY: join(work, 'files') }, /FAILED: FILES_TAG is not set/],
    ];
    for (const [name, env, message] of cases) {
      const r = run('verify-backups.sh', env);
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 64, stderr: expect.stringMatching(message) });
    }
    // Settings of the repository it is not given are not asked for: with them all present the
    // script gets past its checks (and then fails only at running restic, which is not here).
    for (const env of [{ ...common, FILES_REPOSITORY: join(work, 'files'), FILES_TAG: 'uploads' }, { ...common, ...database }]) {
      const r = run('verify-backups.sh', env);
      expect(r.status).not.toBe(64);
      expect(r.stderr).toMatch(/\/nonexistent\/restic/);
    }
    expect(readdirSync(workDir).sort()).toEqual(['keep', 'verify']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('the scripts ConfigMap', () => {
  const identity = appIdentity(variant(shop));
  const configMap = (scripts: readonly string[]) =>
    only(synthConstruct((s) => new BackupScripts(s, 'scripts', { identity, name: 'shop-backup-scripts', scripts })), 'ConfigMap');

  test('holds the files the jobs run, as they are, under their names, with the library they source', () => {
    const cm = configMap(files.filter((f) => f !== 'lib.sh'));
    expect(cm.metadata).toMatchObject({ name: 'shop-backup-scripts', namespace: 'shop-test' });
    expect(cm.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'shop-shop', 'app.kubernetes.io/component': 'backup' });
    expect(Object.keys(cm.data)).toEqual(files);
    for (const f of files) expect(cm.data[f]).toBe(readFileSync(join(dir, f), 'utf8'));
    expect(readScripts(SCRIPTS_FOLDER)).toEqual(cm.data);
  });

  test('holds nothing a job does not run', () => {
    expect(Object.keys(configMap(['verify-backups.sh']).data)).toEqual(['lib.sh', 'verify-backups.sh']);
  });

  test('a script that is not shipped is a construction error, not a pod that fails at 2 a.m.', () => {
    expect(() => configMap(['backup-everything.sh'])).toThrow('no script backup-everything.sh in charts/backup/scripts');
  });
});

test('the repository root is found from the sources, the repository root (the synth bundle) and deeper folders', () => {
  expect(repositoryRoot(join(REPO, 'charts', 'backup'))).toBe(REPO);
  expect(repositoryRoot(REPO)).toBe(REPO);
  expect(repositoryRoot(join(REPO, 'bench'))).toBe(REPO);
  const elsewhere = mkdtempSync(join(tmpdir(), 'shipshape-no-repo-'));
  try {
    mkdirSync(join(elsewhere, 'a'));
    expect(() => repositoryRoot(join(elsewhere, 'a'))).toThrow(/cannot find the repository \(charts\/common\/shipped-files\.ts\)/);
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
