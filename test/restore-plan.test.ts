/**
 * `npm run restore-plan`, the real command in a copy of the repository: on good input it writes one
 * reviewed-for-apply file holding a recovery Cluster made by the same construct as the live one,
 * bootstrapped from the object store to the given time and archiving to a new server name, plus
 * what it needs to run and be backed up, all valid by the same gate as synthesis; on bad input it
 * says exactly what is wrong, exits 1 and writes nothing. dist/ is never touched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dataEndpoints } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { validateObject } from '../pipeline/schema-validation';
import { synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { commandEnv, runCommand, type CommandResult } from './support/command';
import { copyRepository, readTree, REPO } from './support/repository-copy';

const USAGE = 'usage: npm run restore-plan -- --env <environment> --to <RFC 3339 time> [--source <server name>] [--out <file>]';
const production = resolveEnvironments(environments, REPO).find((e) => e.name === 'production');
if (!production) throw new Error('no production environment');
const data = dataEndpoints(production);

let work: string;

type Result = CommandResult;

/** npm's own warnings about the machine's configuration are not the command's output. */
const withoutNpmWarnings = (text: string) => text.replace(/^npm warn .*\n/gm, '');

function restorePlan(...args: string[]): Result {
  const r = spawnSync('npm', ['run', '--silent', 'restore-plan', '--', ...args], { cwd: work, env: commandEnv(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: withoutNpmWarnings(r.stderr) };
}

/** The same, without waiting: the bad-input cases run side by side (each is a second of start-up). */
async function restorePlanAsync(...args: string[]): Promise<Result> {
  const r = await runCommand('npm', ['run', '--silent', 'restore-plan', '--', ...args], { cwd: work });
  return { ...r, stderr: withoutNpmWarnings(r.stderr) };
}

/** An RFC 3339 time `ms` milliseconds from now, to the second. */
const at = (ms: number) => `${new Date(Date.now() + ms).toISOString().slice(0, 19)}Z`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** `202611220315` of an RFC 3339 UTC time. */
const stampOf = (time: string) => new Date(time).toISOString().replace(/[-:T]/g, '').slice(0, 12);

function outputs(): Map<string, Buffer> {
  const all = new Map<string, Buffer>();
  for (const dir of ['dist', 'restore', 'elsewhere']) for (const [k, v] of readTree(join(work, dir))) all.set(`${dir}/${k}`, v);
  return all;
}

function documents(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as K8sObject);
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
  const name = `${data.postgres.cluster}-restore-${stampOf(to)}`;
  const file = `restore/production-${stampOf(to)}.yaml`;
  let result: ReturnType<typeof restorePlan>;
  let distBefore: Map<string, Buffer>;
  let objects: K8sObject[];

  beforeAll(() => {
    distBefore = readTree(join(work, 'dist'));
    result = restorePlan('--env', 'production', '--to', to);
    objects = existsSync(join(work, file)) ? documents(join(work, file)) : [];
  }, 60_000);

  test('writes the plan and says what to review and run next', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const ns = production.app.namespace;
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 13)).toEqual([
      `restore-plan: wrote ${file} (5 objects, checked like npm run synth's):`,
      `  Cluster ${ns}/${name}`,
      `  PodMonitor ${ns}/${name}`,
      `  NetworkPolicy ${ns}/${name}`,
      `  NetworkPolicy ${ns}/${name}-pooler`,
      `  ScheduledBackup ${ns}/${name}`,
      '',
      'Review before applying:',
      `  - spec.bootstrap.recovery.recoveryTarget.targetTime is ${to}: just before the damage, not after it`,
      `  - externalClusters[0] reads server name ${data.postgres.cluster}; the new cluster archives to ${name} (spec.plugins[0].parameters.serverName)`,
      `  - a base backup of ${data.postgres.cluster} older than the target exists: kubectl -n ${ns} get backups.postgresql.cnpg.io`,
      '',
      'Next (runbooks/restore-database-point-in-time.md):',
    ]);
    expect(result.stdout).toContain(`kubectl apply -f ${file} -l 'app.kubernetes.io/component!=backup'`);
    expect(result.stdout).toContain(`kubectl apply -f ${file} -l 'app.kubernetes.io/component=backup'`);
    expect(result.stdout).toContain(`kubectl -n ${ns} get cluster ${name} -w`);
    expect(result.stdout).toContain("Then, with Argo CD's automated sync off for production (runbook step 5), switch the application:");
    expect(result.stdout).toContain(`kubectl -n ${ns} patch pooler ${data.postgres.pooler} --type merge -p '{"spec":{"cluster":{"name":"${name}"}}}'`);
    expect(result.stdout).toMatch(/\nRunbook: runbooks\/restore-database-point-in-time\.md\n$/);
  });

  test('the recovery Cluster reads the live archive up to the target and archives to a new path', () => {
    const cluster = objects.find((o) => o.kind === 'Cluster');
    expect(cluster?.metadata).toMatchObject({ name, namespace: production.app.namespace });
    const { bootstrap, externalClusters, plugins } = cluster?.spec ?? {};
    expect(bootstrap).toEqual({
      recovery: {
        source: externalClusters[0].name,
        database: production.data.postgres.database,
        owner: production.data.postgres.owner,
        recoveryTarget: { targetTime: to },
        // The application's credentials keep working once the pooler points here.
        secret: { name: data.postgres.appSecret },
      },
    });
    expect(externalClusters).toEqual([{
      name: externalClusters[0].name,
      plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: data.backups.objectStore, serverName: data.postgres.cluster } },
    }]);
    expect(plugins).toEqual([{
      name: 'barman-cloud.cloudnative-pg.io',
      isWALArchiver: true,
      parameters: { barmanObjectName: data.backups.objectStore, serverName: name },
    }]);
  });

  test('the recovery Cluster is configured like the live one, apart from what makes it a recovery', () => {
    const live = synthObjects(production).map((o) => o.object).find((o) => o.kind === 'Cluster' && o.metadata.name === data.postgres.cluster);
    const restored = objects.find((o) => o.kind === 'Cluster');
    const comparable = (o: K8sObject | undefined) => {
      const { bootstrap: _b, externalClusters: _e, plugins: _p, ...spec } = structuredClone(o?.spec ?? {});
      return JSON.parse(JSON.stringify(spec).replaceAll(`"${o?.metadata.name}"`, '"<name>"'));
    };
    expect(live).toBeDefined();
    expect(comparable(restored)).toEqual(comparable(live));
    expect(restored?.metadata.labels).toEqual(live?.metadata.labels);
  });

  test('its pods get the flows of the live instances, the pooler may reach them, and base backups follow', () => {
    const live = synthObjects(production).map((o) => o.object);
    const livePolicy = live.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === data.postgres.cluster);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
    expect(JSON.parse(JSON.stringify(policy?.spec).replaceAll(`"${name}"`, `"${data.postgres.cluster}"`))).toEqual(livePolicy?.spec);
    expect(policy?.spec.podSelector.matchLabels).toEqual({ 'cnpg.io/cluster': name });

    const pooler = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === `${name}-pooler`);
    expect(pooler?.spec).toEqual({
      podSelector: { matchLabels: data.postgres.poolerPodLabels },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { 'cnpg.io/cluster': name } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    });

    const schedule = objects.find((o) => o.kind === 'ScheduledBackup');
    const liveSchedule = live.find((o) => o.kind === 'ScheduledBackup' && o.spec.cluster.name === data.postgres.cluster);
    expect(schedule?.spec).toEqual({ ...liveSchedule?.spec, cluster: { name } });
    // Applied in two steps by label: everything but the schedule first, the schedule once healthy.
    expect(objects.filter((o) => o.metadata.labels['app.kubernetes.io/component'] === 'backup')).toEqual([schedule]);
  });

  test('every object passes the strict schema, carries no Argo CD sync wave and lives in the namespace', async () => {
    expect(objects).toHaveLength(5);
    for (const o of objects) {
      expect(await validateObject(o)).toEqual([]);
      expect(o.metadata.namespace).toBe(production.app.namespace);
      expect(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBeUndefined();
    }
  });

  test('dist/ is untouched', () => {
    expect(readTree(join(work, 'dist'))).toEqual(distBefore);
  });

  test('--source reads another archive path and --out writes elsewhere, relative to where npm runs', () => {
    const other = at(-3 * HOUR);
    const r = restorePlan('--env', 'production', '--to', other, '--source', 'student-portal-db-restore-202601010000', '--out', 'elsewhere/plan.yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^restore-plan: wrote elsewhere\/plan\.yaml \(5 objects/);
    const cluster = documents(join(work, 'elsewhere/plan.yaml')).find((o) => o.kind === 'Cluster');
    expect(cluster?.spec.externalClusters[0].plugin.parameters.serverName).toBe('student-portal-db-restore-202601010000');
    expect(existsSync(join(work, `restore/production-${stampOf(other)}.yaml`))).toBe(false);
  }, 60_000);
});

describe('a target less than archive_timeout ago', () => {
  // The WAL holding the target's last commits may still be waiting for archive_timeout to ship it.
  const timeout = production.data.postgres.archiveTimeoutSeconds;
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
    const [r, o] = await Promise.all([
      restorePlanAsync('--env', 'production', '--to', recentTo, '--out', 'elsewhere/recent.yaml'),
      restorePlanAsync('--env', 'production', '--to', olderTo, '--out', 'elsewhere/older.yaml'),
    ]);
    recent = { to: recentTo, started, finished: Date.now(), result: r };
    older = { to: olderTo, result: o };
  }, 120_000);

  test('production archives WAL at least every minute (the timeout the warning is about)', () => {
    expect(timeout).toBe(60);
  });

  /** What the review list says for any target. */
  const alwaysReviewed = (to: string) => [
    `  - spec.bootstrap.recovery.recoveryTarget.targetTime is ${to}: just before the damage, not after it`,
    `  - externalClusters[0] reads server name ${data.postgres.cluster}; the new cluster archives to ${data.postgres.cluster}-restore-${stampOf(to)} (spec.plugins[0].parameters.serverName)`,
    `  - a base backup of ${data.postgres.cluster} older than the target exists: kubectl -n ${production.app.namespace} get backups.postgresql.cnpg.io`,
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
  const script = 'scripts/restore-plan.ts';
  let original: string;
  beforeAll(() => { original = readFileSync(join(work, script), 'utf8'); });
  afterEach(() => writeFileSync(join(work, script), original));

  /** The copy's script with one more line before the plan is returned. */
  function breakPlan(line: string): void {
    const marker = '  return { name, sourceServerName, objects };';
    if (!original.includes(marker)) throw new Error(`${script} no longer contains ${JSON.stringify(marker)}: update this test`);
    writeFileSync(join(work, script), original.replace(marker, `${line}\n${marker}`));
  }

  const to = at(-5 * HOUR);
  const name = `${data.postgres.cluster}-restore-${stampOf(to)}`;
  test.each([
    ['a misspelt field (strict schema)', 'objects[0].spec.bootstrap.recovery.recoveryTargte = objects[0].spec.bootstrap.recovery.recoveryTarget;',
      `production: Cluster student-portal/${name}: schema: /spec/bootstrap/recovery/recoveryTargte is not a field of postgresql.cnpg.io/v1 Cluster (did you mean recoveryTarget?)`],
    ['an object without a recommended label (policy)', "delete objects[3].metadata.labels['app.kubernetes.io/part-of'];",
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
      `restore-plan: --to ${tooOld} is older than the retention window of production (data.postgres.retentionPolicy ${production.data.postgres.retentionPolicy}): base backups and WAL older than 30 days are not kept\n`],
    ['an unknown option', ['--env', 'production', '--to', recent, '--force'], `restore-plan: unknown option --force\n${USAGE}\n`],
    ['a --source that is not a server name', ['--env', 'production', '--to', recent, '--source', 'Not_A_Name'],
      'restore-plan: --source "Not_A_Name" is not a server name: the name of the cluster whose archive to read (lowercase letters, digits and \'-\')\n'],
    ['--out inside dist/', ['--env', 'production', '--to', recent, '--out', 'dist/production/plan.yaml'],
      'restore-plan: --out dist/production/plan.yaml is inside dist/, which only npm run synth writes\n'],
    ['a plan file that already exists', ['--env', 'production', '--to', recent],
      `restore-plan: ${existing} already exists: review or remove it, or give --out\n`],
  ];

  const results = new Map<string, Result>();
  let before: Map<string, Buffer>;
  let after: Map<string, Buffer>;

  beforeAll(async () => {
    mkdirSync(join(work, 'restore'), { recursive: true });
    writeFileSync(join(work, existing), '# a plan someone is reviewing\n');
    before = outputs();
    const queue = [...cases];
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) results.set(c[0], await restorePlanAsync(...c[1]));
    }));
    after = outputs();
  }, 120_000);

  test('the retention window of production is the one the messages assume', () => {
    expect(production.data.postgres.retentionPolicy).toBe('30d');
  });

  test('no case wrote or changed a file', () => {
    expect(after).toEqual(before);
    expect(readdirSync(join(work, 'restore')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test.each(cases)('%s', (what, _args, message) => {
    const r = results.get(what);
    expect(r?.stderr).toBe(message);
    expect(r?.stdout).toBe('');
    expect(r?.status).toBe(1);
  });
});
