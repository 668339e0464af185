/**
 * `npm run restore-plan`, the real command in a copy of the repository. On good input it writes one
 * reviewed-for-apply file holding exactly what the environment will have, and does not have today,
 * once its configuration adopts the recovered cluster (data.postgres.name and recovery): the
 * recovery Cluster, made by the same construct as the live one, bootstrapped from the object store
 * to the given time and archiving to a new server name; its own Pooler (a Pooler's cluster cannot
 * change), and their NetworkPolicies, monitors, disruption budget and base backups, all through the
 * gate synthesis uses; and it prints the configuration to adopt. Adopted as the runbook says (the
 * printed lines in environments/<env>.ts, npm run synth), that configuration writes exactly the
 * plan's objects, byte for byte, and nothing else new. On bad input it says exactly what is wrong,
 * exits 1 and writes nothing. dist/ is never touched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { dataEndpoints } from '../environments/model/names';
import { ref, type K8sObject } from '../pipeline/k8s-object';
import { restorePlanCommand } from '../pipeline/restore-plan';
import { policyProblems, schemaProblems, synthObjects } from '../pipeline/synth';
import { commandEnv, runCommand, type CommandResult } from './support/command';
import { copyRepository, readTree, REPO } from './support/repository-copy';

const USAGE = 'usage: npm run restore-plan -- --env <environment> --to <RFC 3339 time> [--source <server name>] [--out <file>]';
const production = resolveEnvironments(environments, REPO).find((e) => e.name === 'production');
if (!production) throw new Error('no production environment');
const postgres = dataEndpoints(production).postgres;
const pg = production.data.postgres;
if (!postgres || !pg) throw new Error('production has PostgreSQL');
/** The objects production has today: what a plan must never contain. */
const today = synthObjects(production).map((o) => o.object);
const NS = production.app.namespace;
const RUNBOOK = 'runbooks/restore-database-point-in-time.md';

let work: string;

type Result = CommandResult;

/** Name of the recovery cluster for a target: named after the application, never after a cluster before it. */
const recoveryName = (time: string) => `${production.app.name}-db-restore-${stampOf(time)}`;
const key = (o: K8sObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** npm's own warnings about the machine's configuration are not the command's output. */
const withoutNpmWarnings = (text: string) => text.replace(/^npm warn .*\n/gm, '');

/** npm run restore-plan in the copy (or in `cwd`). */
function restorePlan(...args: string[]): Result {
  return restorePlanIn(work, ...args);
}

function restorePlanIn(cwd: string, ...args: string[]): Result {
  const r = spawnSync('npm', ['run', '--silent', 'restore-plan', '--', ...args], { cwd, env: commandEnv(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: withoutNpmWarnings(r.stderr) };
}

/**
 * What the command does, in this process on the copy (run from its top): for the many cases of
 * bad input, each of which would otherwise cost a command's start-up. That the command line passes
 * the arguments, exit status and output through is shown by the cases run as `npm run`.
 */
function restorePlanHere(...args: string[]): Promise<Result> {
  return restorePlanCommand(args, { root: work, invocationDir: work });
}

async function restorePlanAsyncIn(cwd: string, ...args: string[]): Promise<Result> {
  const r = await runCommand('npm', ['run', '--silent', 'restore-plan', '--', ...args], { cwd });
  return { ...r, stderr: withoutNpmWarnings(r.stderr) };
}

/** An RFC 3339 time `ms` milliseconds from now, to the second. */
const at = (ms: number) => `${new Date(Date.now() + ms).toISOString().slice(0, 19)}Z`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** `202611220315` of an RFC 3339 UTC time. */
const stampOf = (time: string) => new Date(time).toISOString().replace(/[-:T]/g, '').slice(0, 12);

function outputs(): Map<string, string> {
  const all = new Map<string, string>();
  for (const dir of ['dist', 'restore', 'elsewhere']) for (const [k, v] of readTree(join(work, dir))) all.set(`${dir}/${k}`, v);
  return all;
}

function documents(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as K8sObject);
}

/** The plan's documents as written, without the file's header comment: each is one object's YAML. */
function documentTexts(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return text.slice(text.search(/^[^#\n]/m)).split(/^---\n/m);
}

/** The lines restore-plan prints for the adoption (what goes under data.postgres). */
function adoptionLines(stdout: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^Then switch the application by adopting the recovered cluster in environments\/[a-z0-9-]+\.ts, under data\.postgres:$/.test(l));
  const end = lines.findIndex((l) => l.startsWith('and npm run synth'));
  if (start < 0 || end < start) throw new Error(`restore-plan printed no adoption:\n${stdout}`);
  return lines.slice(start + 1, end);
}

beforeAll(() => {
  work = copyRepository('shipshape-restore-plan-');
  // The committed output, so that "never touches dist/" is checked against real files.
  cpSync(join(REPO, 'dist'), join(work, 'dist'), { recursive: true });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('on good input', () => {
  const to = at(-2 * HOUR);
  const name = recoveryName(to);
  const file = `restore/production-${stampOf(to)}.yaml`;
  let result: ReturnType<typeof restorePlan>;
  let distBefore: Map<string, string>;
  let objects: K8sObject[];
  const named = (kind: string, n: string) => objects.find((o) => o.kind === kind && o.metadata.name === n);

  beforeAll(() => {
    distBefore = readTree(join(work, 'dist'));
    result = restorePlan('--env', 'production', '--to', to);
    objects = existsSync(join(work, file)) ? documents(join(work, file)) : [];
  }, 60_000);

  test('writes the plan and says what to review, what to run next and what to adopt', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    const listed = [
      `Cluster ${NS}/${name}`, `NetworkPolicy ${NS}/${name}`, `NetworkPolicy ${NS}/${name}-pooler`, `PodDisruptionBudget ${NS}/${name}-pooler`,
      `PodMonitor ${NS}/${name}`, `PodMonitor ${NS}/${name}-pooler`, `Pooler ${NS}/${name}-pooler`, `ScheduledBackup ${NS}/${name}`,
    ];
    expect(lines[0]).toBe(`restore-plan: wrote ${file} (${listed.length} objects, checked like npm run synth's):`);
    expect(lines.slice(1, 1 + listed.length).sort()).toEqual(listed.map((l) => `  ${l}`));
    expect(lines.slice(1 + listed.length)).toEqual([
      '',
      'Review before applying:',
      `  - spec.bootstrap.recovery.recoveryTarget.targetTime is ${to}: just before the damage, not after it`,
      `  - externalClusters[0] reads server name ${postgres.cluster}; the new cluster archives to ${name} (spec.plugins[0].parameters.serverName)`,
      `  - a base backup of ${postgres.cluster} older than the target exists: kubectl -n ${NS} get backups.postgresql.cnpg.io`,
      '',
      `Next (${RUNBOOK}):`,
      `  kubectl apply -f ${file} -l 'app.kubernetes.io/component!=backup'`,
      `  kubectl -n ${NS} get cluster ${name} -w`,
      `  kubectl cnpg psql ${name} -n ${NS} -- -d ${postgres.database}   # check the data`,
      `  kubectl apply -f ${file} -l 'app.kubernetes.io/component=backup'   # base backups of the new archive path`,
      'Then switch the application by adopting the recovered cluster in environments/production.ts, under data.postgres:',
      `  name: '${name}',`,
      `  recovery: { source: '${postgres.cluster}', targetTime: '${to}' },`,
      `and npm run synth, review the diff (the services move to ${name}-pooler), commit and push.`,
      `Runbook: ${RUNBOOK}`,
      '',
    ]);
    // The switch is a commit: nothing to patch by hand, Argo CD's automated sync stays on.
    expect(result.stdout).not.toMatch(/patch|syncPolicy|automated/);
  });

  test('the recovery Cluster reads the live archive up to the target and archives to a new path', () => {
    const cluster = named('Cluster', name);
    expect(cluster?.metadata.namespace).toBe(NS);
    const { bootstrap, externalClusters, plugins } = cluster?.spec ?? {};
    // No secret: the recovered cluster has credentials of its own (Secret <name>-app, the
    // operator's), which the services take on when the environment adopts it.
    expect(bootstrap).toEqual({
      recovery: {
        source: externalClusters[0].name,
        database: pg.database,
        owner: pg.owner,
        recoveryTarget: { targetTime: to },
      },
    });
    expect(externalClusters).toEqual([{
      name: externalClusters[0].name,
      plugin: { name: 'barman-cloud.cloudnative-pg.io', enabled: true, isWALArchiver: false, parameters: { barmanObjectName: postgres.objectStore, serverName: postgres.cluster } },
    }]);
    expect(plugins).toEqual([{
      name: 'barman-cloud.cloudnative-pg.io',
      enabled: true,
      isWALArchiver: true,
      parameters: { barmanObjectName: postgres.objectStore, serverName: name },
    }]);
  });

  test('the recovery Cluster is configured like the live one, apart from what makes it a recovery', () => {
    const live = today.find((o) => o.kind === 'Cluster' && o.metadata.name === postgres.cluster);
    const restored = named('Cluster', name);
    const comparable = (o: K8sObject | undefined) => {
      const { bootstrap: _b, externalClusters: _e, plugins: _p, ...spec } = structuredClone(o?.spec ?? {});
      return JSON.parse(JSON.stringify(spec).replaceAll(`"${o?.metadata.name}"`, '"<name>"'));
    };
    expect(live).toBeDefined();
    expect(comparable(restored)).toEqual(comparable(live));
    expect(restored?.metadata.labels).toEqual(live?.metadata.labels);
    expect(restored?.metadata.annotations).toEqual(live?.metadata.annotations);
  });

  test('the recovered cluster gets its own Pooler, with its disruption budget, monitor and NetworkPolicy', () => {
    const pooler = named('Pooler', `${name}-pooler`);
    expect(pooler?.spec.cluster).toEqual({ name });
    expect(pooler?.spec.type).toBe('rw');
    const podLabels = { 'cnpg.io/poolerName': `${name}-pooler` };
    expect(named('PodDisruptionBudget', `${name}-pooler`)?.spec.selector).toEqual({ matchLabels: podLabels });
    expect(named('PodMonitor', `${name}-pooler`)?.spec.selector).toEqual({ matchLabels: podLabels });
    expect(named('NetworkPolicy', `${name}-pooler`)?.spec.podSelector).toEqual({ matchLabels: podLabels });
    // The live Pooler stays as it is: the plan never names it.
    expect(objects.filter((o) => o.kind === 'Pooler')).toHaveLength(1);
  });

  test('every object is the live cluster\'s counterpart, renamed: same policies, monitors, budget, schedule', () => {
    const renamed = (o: K8sObject) => JSON.parse(JSON.stringify(o).replaceAll(name, postgres.cluster)) as K8sObject;
    for (const o of objects.filter((x) => x.kind !== 'Cluster')) {
      const counterpart = renamed(o);
      const live = today.find((l) => key(l) === key(counterpart));
      expect({ object: ref(o), live: live === undefined ? 'missing' : live }).toEqual({ object: ref(o), live: counterpart });
    }
    // Applied in two steps by label: everything but the schedule first, the schedule once healthy.
    expect(objects.filter((o) => o.metadata.labels['app.kubernetes.io/component'] === 'backup').map(ref)).toEqual([`ScheduledBackup ${NS}/${name}`]);
  });

  test('never an object the environment has today', () => {
    expect(objects.length).toBeGreaterThan(0);
    const existing = new Set(today.map(key));
    expect(objects.map(key).filter((k) => existing.has(k))).toEqual([]);
    for (const o of objects) expect(o.metadata.name.startsWith(name)).toBe(true);
  });

  test('every object passes the gate synthesis uses (strict schema, and the policy rules over the environment plus the plan) and lives in the namespace', async () => {
    expect(await schemaProblems(production, objects)).toEqual([]);
    expect(policyProblems(production, [...today, ...objects])).toEqual([]);
    for (const o of objects) expect(o.metadata.namespace).toBe(NS);
  });

  test('dist/ is untouched', () => {
    expect(readTree(join(work, 'dist'))).toEqual(distBefore);
  });

  test('--source reads another archive path and --out writes elsewhere, relative to where npm runs', () => {
    const other = at(-3 * HOUR);
    const r = restorePlan('--env', 'production', '--to', other, '--source', 'student-portal-db-restore-202601010000', '--out', 'elsewhere/plan.yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^restore-plan: wrote elsewhere\/plan\.yaml \(8 objects/);
    const cluster = documents(join(work, 'elsewhere/plan.yaml')).find((o) => o.kind === 'Cluster');
    expect(cluster?.spec.externalClusters[0].plugin.parameters.serverName).toBe('student-portal-db-restore-202601010000');
    expect(adoptionLines(r.stdout)[1]).toBe(`  recovery: { source: 'student-portal-db-restore-202601010000', targetTime: '${other}' },`);
    expect(existsSync(join(work, `restore/production-${stampOf(other)}.yaml`))).toBe(false);
  }, 60_000);

  test('the runbook shows the adoption restore-plan prints', () => {
    const placeholders = adoptionLines(result.stdout).map((l) => l.replace(stampOf(to), '<yyyymmddhhmm>').replace(to, '<the --to time>').trim());
    const runbook = readFileSync(join(REPO, RUNBOOK), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(runbook)?.[1] ?? '';
    expect(block.split('\n').map((l) => l.trim())).toEqual(expect.arrayContaining(placeholders));
    expect(block).toMatch(/data: \{\n\s+postgres: \{\n/);
  });
});

describe('adopting the plan: its printed configuration, committed and synthesized, is exactly the plan', () => {
  // The path of the runbook's step 5 in a copy of its own: the printed lines under data.postgres
  // in environments/production.ts, then npm run synth, against npm run synth before the change.
  const to = at(-2 * HOUR - 5 * 60_000);
  const name = recoveryName(to);
  let copy: string;
  let planFile: string;
  let plan: Result;
  let synthBefore: Result;
  /** Only when the plan was made. */
  let synthAfter: Result | undefined;
  let before: Map<string, string>;
  let after: Map<string, string>;

  const synth = (cwd: string): Result => {
    const r = spawnSync('npm', ['run', '--silent', 'synth'], { cwd, env: commandEnv(), encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: withoutNpmWarnings(r.stderr) };
  };
  /** Files of dist/production by the object each holds (parsed), with their text. */
  const byObject = (files: Map<string, string>, names: readonly string[]) =>
    new Map(names.map((f) => [key(parse(files.get(f)?.toString() ?? '') as K8sObject), files.get(f)?.toString() ?? '']));

  beforeAll(() => {
    copy = copyRepository('shipshape-adoption-');
    synthBefore = synth(copy);
    before = readTree(join(copy, 'dist', 'production'));
    planFile = join(copy, 'plan.yaml');
    plan = restorePlanIn(copy, '--env', 'production', '--to', to, '--out', 'plan.yaml');
    const config = join(copy, 'environments', 'production.ts');
    const text = readFileSync(config, 'utf8');
    const anchor = '  data: {\n    postgres: {\n';
    if (!text.includes(anchor)) throw new Error(`environments/production.ts no longer has ${JSON.stringify(anchor)}: update this test`);
    if (plan.status === 0) {
      writeFileSync(config, text.replace(anchor, `${anchor}${adoptionLines(plan.stdout).map((l) => `    ${l.trim()}\n`).join('')}`));
      synthAfter = synth(copy);
    }
    after = readTree(join(copy, 'dist', 'production'));
  }, 240_000);

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  test('the plan is made and the adopted configuration synthesizes', () => {
    expect([synthBefore.stderr, synthBefore.status]).toEqual(['', 0]);
    expect([plan.stderr, plan.status]).toEqual(['', 0]);
    expect(adoptionLines(plan.stdout)).toEqual([`  name: '${name}',`, `  recovery: { source: '${postgres.cluster}', targetTime: '${to}' },`]);
    expect([synthAfter?.stderr, synthAfter?.status]).toEqual(['', 0]);
  });

  test('what the adoption adds to dist/ is exactly the plan\'s objects, byte for byte', () => {
    const added = byObject(after, [...after.keys()].filter((f) => !before.has(f)));
    const planned = new Map(documentTexts(planFile).map((t) => [key(parse(t) as K8sObject), t]));
    expect([...added.keys()].sort()).toEqual([...planned.keys()].sort());
    // The files say where they come from in a first line; the plan, in its header.
    for (const [k, text] of added) expect({ k, text: text.replace(/^# Generated by shipshape[^\n]*\n/, '') }).toEqual({ k, text: planned.get(k) });
  });

  test('and removes the old cluster\'s counterparts, which Argo CD prunes (all but the Cluster itself, kept by Prune=false)', () => {
    const removed = byObject(before, [...before.keys()].filter((f) => !after.has(f)));
    const planned = documents(planFile).map((o) => key(o).replace(name, postgres.cluster));
    expect([...removed.keys()].sort()).toEqual(planned.sort());
    const oldCluster = parse(removed.get(`Cluster ${NS}/${postgres.cluster}`) ?? '') as K8sObject;
    expect(oldCluster.metadata.annotations['argocd.argoproj.io/sync-options']).toMatch(/Prune=false/);
  });

  test('the services move to the new Pooler and its credentials, the nightly dump to the recovered cluster', () => {
    const file = (f: string) => parse(after.get(f)?.toString() ?? '') as K8sObject;
    const api = file('app/deployment-api.yaml').spec.template.spec.containers.find((c: K8sObject) => c.name === 'api');
    const envVar = (c: K8sObject, n: string) => (c.env as K8sObject[]).find((e) => e.name === n);
    expect(envVar(api, 'DATABASE_HOST')?.value).toBe(`${name}-pooler`);
    expect(envVar(api, 'DATABASE_USER')?.valueFrom.secretKeyRef.name).toBe(`${name}-app`);
    const dump = file('backup/cronjob-backup-database.yaml').spec.jobTemplate.spec.template.spec.initContainers.find((c: K8sObject) => c.name === 'dump');
    expect(envVar(dump, 'PGHOST')?.value).toBe(`${name}-ro`);
  });

  describe('a later recovery, from the adopted environment', () => {
    let next: { to: string; result: Result };
    let sameMinute: { to: string; result: Result };
    beforeAll(async () => {
      // Another minute: a recovery of the recovered cluster's own archive. The same minute as the
      // adopted one, from the original archive: a name that is taken.
      const nextTo = at(-HOUR);
      const sameTo = `${to.slice(0, 17)}${to.slice(17, 19) === '59' ? '00' : '59'}Z`;
      const [n, s] = await Promise.all([
        restorePlanAsyncIn(copy, '--env', 'production', '--to', nextTo, '--out', 'next.yaml'),
        restorePlanAsyncIn(copy, '--env', 'production', '--to', sameTo, '--source', postgres.cluster, '--out', 'same.yaml'),
      ]);
      next = { to: nextTo, result: n };
      sameMinute = { to: sameTo, result: s };
    }, 120_000);

    test('reads the adopted cluster\'s archive, and is named after the application, not after the adopted cluster', () => {
      expect([next.result.stderr, next.result.status]).toEqual(['', 0]);
      const objects = documents(join(copy, 'next.yaml'));
      const cluster = objects.find((o) => o.kind === 'Cluster');
      expect(cluster?.metadata.name).toBe(recoveryName(next.to));
      expect(cluster?.spec.externalClusters[0].plugin.parameters.serverName).toBe(name);
      expect(adoptionLines(next.result.stdout)[1]).toBe(`  recovery: { source: '${name}', targetTime: '${next.to}' },`);
      // None of the adopted cluster's objects, which the environment now has.
      const adopted = new Set(documents(planFile).map(key));
      expect(objects.map(key).filter((k) => adopted.has(k))).toEqual([]);
      expect(objects).toHaveLength(8);
    });

    test('a target whose minute names the cluster serving today is refused: exit 1, nothing written', () => {
      expect(sameMinute.result.stderr).toBe(`restore-plan: --to ${sameMinute.to} names the recovery cluster ${name}, the name of the cluster serving production today `
        + '(data.postgres.name): a recovery needs a new name and archive path; pick a --to in another minute\n');
      expect(sameMinute.result.stdout).toBe('');
      expect(sameMinute.result.status).toBe(1);
      expect(existsSync(join(copy, 'same.yaml'))).toBe(false);
    });
  });
});

describe('a target less than archive_timeout ago', () => {
  // The WAL holding the target's last commits may still be waiting for archive_timeout to ship it.
  const timeout = pg.archiveTimeoutSeconds;
  const warning = `  - the target is less than archive_timeout (${timeout}s) ago: WAL after it may not be archived yet, and recovery fails if no commit after the target is archived`;
  const review = (stdout: string) => {
    const lines = stdout.split('\n');
    return lines.slice(lines.indexOf('Review before applying:') + 1, lines.indexOf(`Next (runbooks/restore-database-point-in-time.md):`) - 1);
  };
  let recent: { to: string; started: number; finished: number; result: Result };
  let older: { to: string; result: Result };

  beforeAll(async () => {
    const started = Date.now();
    // Now, to the second (never in the future); an older target by a second more than the timeout.
    const recentTo = at(0);
    const olderTo = at(-(timeout + 1) * 1000);
    const r = await restorePlanHere('--env', 'production', '--to', recentTo, '--out', 'elsewhere/recent.yaml');
    const o = await restorePlanHere('--env', 'production', '--to', olderTo, '--out', 'elsewhere/older.yaml');
    recent = { to: recentTo, started, finished: Date.now(), result: r };
    older = { to: olderTo, result: o };
  }, 120_000);

  test('production archives WAL at least every minute (the timeout the warning is about)', () => {
    expect(timeout).toBe(60);
  });

  /** What the review list says for any target. */
  const alwaysReviewed = (to: string) => [
    `  - spec.bootstrap.recovery.recoveryTarget.targetTime is ${to}: just before the damage, not after it`,
    `  - externalClusters[0] reads server name ${postgres.cluster}; the new cluster archives to ${recoveryName(to)} (spec.plugins[0].parameters.serverName)`,
    `  - a base backup of ${postgres.cluster} older than the target exists: kubectl -n ${NS} get backups.postgresql.cnpg.io`,
  ];

  test('is warned about before applying', () => {
    // The command judges the target against its own clock: it must have started within the timeout.
    expect(recent.finished - Math.floor(recent.started / 1000) * 1000).toBeLessThan(timeout * 1000);
    expect(recent.result.stderr).toBe('');
    expect(recent.result.status).toBe(0);
    expect(review(recent.result.stdout)).toEqual([...alwaysReviewed(recent.to), warning]);
  });

  test('an older target is not', () => {
    expect(older.result.stderr).toBe('');
    expect(older.result.status).toBe(0);
    expect(review(older.result.stdout)).toEqual(alwaysReviewed(older.to));
  });
});

describe('the plan goes through the gate synthesis uses', () => {
  const script = 'pipeline/restore-plan.ts';
  let original: string;
  beforeAll(() => { original = readFileSync(join(work, script), 'utf8'); });
  afterEach(() => writeFileSync(join(work, script), original));

  /** The copy's script with one more line before the plan is returned. */
  function breakPlan(line: string): void {
    const marker = '  return { name, sourceServerName, adoption, objects };';
    if (!original.includes(marker)) throw new Error(`${script} no longer contains ${JSON.stringify(marker)}: update this test`);
    writeFileSync(join(work, script), original.replace(marker, `${line}\n${marker}`));
  }

  const to = at(-5 * HOUR);
  const name = recoveryName(to);
  test.each([
    ['a misspelt field (strict schema)',
      "{ const c = objects.find((o) => o.kind === 'Cluster'); c.spec.bootstrap.recovery.recoveryTargte = c.spec.bootstrap.recovery.recoveryTarget; }",
      `production: Cluster student-portal/${name}: schema: /spec/bootstrap/recovery/recoveryTargte is not a field of postgresql.cnpg.io/v1 Cluster (did you mean recoveryTarget?)`],
    ['an object without a recommended label (policy)',
      "delete objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-pooler')).metadata.labels['app.kubernetes.io/part-of'];",
      `production: NetworkPolicy student-portal/${name}-pooler: policy recommended-labels: has no app.kubernetes.io/part-of label`],
  ])('%s: exit 1, nothing written', (_what, line, problem) => {
    breakPlan(line);
    const before = outputs();
    const r = restorePlan('--env', 'production', '--to', to);
    expect(r.stderr).toBe(`restore-plan: nothing was written; fix these 1 problem(s):\n  ${problem}\n`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
    expect(outputs()).toEqual(before);
  }, 60_000);
});

describe('on bad input: the exact problem, exit 1, nothing written', () => {
  const future = at(2 * HOUR);
  const tooOld = at(-31 * DAY);
  const recent = at(-HOUR);
  const existing = `restore/production-${stampOf(recent)}.yaml`;

  const cases: Array<[string, string[], string]> = [
    ['no arguments', [], `restore-plan: --env is required: one of staging, production\n${USAGE}\n`],
    ['an unknown environment', ['--env', 'prod', '--to', recent], 'restore-plan: unknown environment "prod": one of staging, production\n'],
    ['no --to', ['--env', 'production'], `restore-plan: --to is required: the moment to recover to, in RFC 3339 (for example 2026-11-22T03:15:00Z)\n${USAGE}\n`],
    ['--to without a value', ['--env', 'production', '--to'], `restore-plan: --to needs a value\n${USAGE}\n`],
    ['--to that is not a time', ['--env', 'production', '--to', 'yesterday'],
      'restore-plan: --to "yesterday" is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z or 2026-11-22T04:15:00+01:00\n'],
    ['--to without a time zone', ['--env', 'production', '--to', '2026-11-22T03:15:00'],
      'restore-plan: --to "2026-11-22T03:15:00" is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z or 2026-11-22T04:15:00+01:00\n'],
    ['--to on a day that does not exist', ['--env', 'production', '--to', '2026-02-30T03:15:00Z'],
      'restore-plan: --to "2026-02-30T03:15:00Z" is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z or 2026-11-22T04:15:00+01:00\n'],
    ['--to in the future', ['--env', 'production', '--to', future],
      `restore-plan: --to ${future} is in the future: recovery can only replay what has been archived\n`],
    ['--to older than the retention window', ['--env', 'production', '--to', tooOld],
      `restore-plan: --to ${tooOld} is older than the retention window of production (data.postgres.retentionPolicy ${pg.retentionPolicy}): base backups and WAL older than 30 days are not kept\n`],
    ['an unknown option', ['--env', 'production', '--to', recent, '--force'], `restore-plan: unknown option --force\n${USAGE}\n`],
    ['an option given twice', ['--env', 'production', '--to', recent, '--to', at(-2 * HOUR)], `restore-plan: --to is given more than once: give it once\n${USAGE}\n`],
    ['an extra argument', ['--env', 'production', '--to', recent, 'now'], `restore-plan: unexpected argument now\n${USAGE}\n`],
    ['an --out that cannot be written', ['--env', 'production', '--to', recent, '--out', 'package.json/plan.yaml'],
      'restore-plan: --out package.json/plan.yaml cannot be written (EEXIST: file already exists): give --out a writable place\n'],
    ['a --source that is not a server name', ['--env', 'production', '--to', recent, '--source', 'Not_A_Name'],
      'restore-plan: --source "Not_A_Name" is not a server name: the name of the cluster whose archive to read (lowercase letters, digits and \'-\')\n'],
    ['a --source that is the name the recovery would take', ['--env', 'production', '--to', recent, '--source', recoveryName(recent), '--out', 'elsewhere/same.yaml'],
      `restore-plan: --to ${recent} names the recovery cluster ${recoveryName(recent)}, the name of the archive it reads (--source): `
      + 'a recovery needs a new name and archive path; pick a --to in another minute\n'],
    ['--out inside dist/', ['--env', 'production', '--to', recent, '--out', 'dist/production/plan.yaml'],
      'restore-plan: --out dist/production/plan.yaml is inside dist/, which only npm run synth writes\n'],
    ['a plan file that already exists', ['--env', 'production', '--to', recent],
      `restore-plan: ${existing} already exists: review or remove it, or give --out\n`],
  ];

  const results = new Map<string, Result>();
  let before: Map<string, string>;
  let after: Map<string, string>;

  beforeAll(async () => {
    mkdirSync(join(work, 'restore'), { recursive: true });
    writeFileSync(join(work, existing), '# a plan someone is reviewing\n');
    before = outputs();
    const queue = [...cases];
    for (let c = queue.shift(); c; c = queue.shift()) results.set(c[0], await restorePlanHere(...c[1]));
    // And as a user runs it: the command line hands over the arguments, the message and the exit status.
    results.set(`${cases[0][0]}, by npm run`, restorePlan(...cases[0][1]));
    after = outputs();
  }, 120_000);

  test('--help and -h say what it does and take, exit 0 and write nothing', async () => {
    for (const r of [restorePlan('--help'), await restorePlanHere('-h')]) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.startsWith(`${USAGE}\n\nPlans a point-in-time recovery`)).toBe(true);
      for (const option of ['--env <name>', '--to <time>', '--source <server>', '--out <file>']) expect(r.stdout).toContain(option);
    }
  }, 60_000);

  test('the retention window of production is the one the messages assume', () => {
    expect(pg.retentionPolicy).toBe('30d');
  });

  test('no case wrote or changed a file', () => {
    expect(after).toEqual(before);
    expect(readdirSync(join(work, 'restore')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test.each([...cases, [`${cases[0][0]}, by npm run`, cases[0][1], cases[0][2]] as const])('%s', (what, _args, message) => {
    const r = results.get(what);
    expect(r?.stderr).toBe(message);
    expect(r?.stdout).toBe('');
    expect(r?.status).toBe(1);
  });
});
