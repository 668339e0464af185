/**
 * The backup staleness alerts (charts/observability/backup-alerts.ts): every CronJob the output has,
 * in every environment and in the second application's shapes, has its BackupStale condition, at
 * the threshold its synthesized schedule and deadlines give (longest gap between two scheduled
 * runs, plus how late a run may start and how long it may take); and promtool shows, for each
 * backup job of production, the alert silent just before that threshold and firing after it,
 * from the last success or, for a CronJob that never succeeded, from its creation, and for a
 * CronJob that is not there at all.
 */
import { BACKUP_ALERTS, BACKUP_STALE, spelledDuration } from '../charts/observability/backup-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { longestGapMinutes } from '../environments/cron';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { humanizeDuration, ksm, repeated } from './support/exporter-series';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, variant } from './support/fixtures';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
const backupRule = (objects: readonly K8sObject[]) => objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === BACKUP_ALERTS);
const staleRules = (rule: K8sObject | undefined) => ((rule?.spec.groups ?? []) as K8sObject[])
  .flatMap((g) => (g.rules as K8sObject[]).filter((r) => r.alert === BACKUP_STALE));

/** What a CronJob of the output allows, read off the synthesized object. */
function allowance(cronJob: K8sObject) {
  const gap = longestGapMinutes(cronJob.spec.schedule) as number;
  const run = cronJob.spec.startingDeadlineSeconds + cronJob.spec.jobTemplate.spec.activeDeadlineSeconds;
  return { gap: gap * 60, run, threshold: gap * 60 + run };
}

const shapes: Array<[string, Environment]> = [
  ...envs.map((e): [string, Environment] => [e.name, e]),
  ['the box designer with PostgreSQL and uploaded files', variant(boxDesigner)],
  ['the box designer with PostgreSQL only', boxDesignerPostgresOnly()],
  ['the box designer without data', boxDesignerWithoutData()],
];

describe.each(shapes)('%s', (_name, env) => {
  const objects = objectsOf(env);
  const cronJobs = objects.filter((o) => o.kind === 'CronJob' && o.metadata.labels['app.kubernetes.io/component'] === 'backup');
  const rule = backupRule(objects);

  test('every backup CronJob has its BackupStale conditions at its own threshold; no condition watches a CronJob that is not there', () => {
    // The scheduled jobs' CronJobs have their own alert (test/scheduled-job-alerts.test.ts).
    for (const c of objects.filter((o) => o.kind === 'CronJob' && !cronJobs.includes(o))) expect(c.metadata.labels['app.kubernetes.io/component']).toBe('scheduled-job');
    const stale = staleRules(rule);
    const watched = (r: K8sObject) => /cronjob="([^"]+)"/.exec(r.expr)?.[1];
    for (const c of cronJobs) {
      const name = c.metadata.name;
      const own = stale.filter((r) => watched(r) === name);
      // The age of the last success (or of the CronJob while none), over the threshold; and the
      // CronJob's absence.
      const age = own.find((r) => r.expr.includes('kube_cronjob_status_last_successful_time'));
      expect([name, age?.expr.includes(`kube_cronjob_created{namespace="${env.app.namespace}",cronjob="${name}"}`), Number(/\) > (\d+)$/.exec(age?.expr ?? '')?.[1])])
        .toEqual([name, true, allowance(c).threshold]);
      expect([name, own.some((r) => r.expr.startsWith(`absent(kube_cronjob_created{namespace="${env.app.namespace}",cronjob="${name}"})`))]).toEqual([name, true]);
      for (const r of own) expect([name, r.labels.namespace, r.labels.service]).toEqual([name, env.app.namespace, name]);
    }
    expect([...new Set(stale.map(watched))].sort()).toEqual(cronJobs.map((c) => c.metadata.name).sort());
    if (cronJobs.length === 0) expect(rule).toBeUndefined();
  });

  if (rule) {
    test('promtool check rules accepts the backup alerts; critical ones wait at most 3 minutes', () => {
      const check = checkRules(rule);
      expect(check.output).toMatch(/SUCCESS/);
      expect(check.status).toBe(0);
      for (const r of staleRules(rule)) if (r.labels.severity === 'critical') expect(['1m', '2m', '3m', '30s']).toContain(r.for);
    });
  }
});

const NS = production.app.namespace;
const RUNBOOK = runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), BACKUP_STALE);
const objects = objectsOf(production);
const rule = backupRule(objects) as K8sObject;
const cronJobs = objects.filter((o) => o.kind === 'CronJob' && o.metadata.labels['app.kubernetes.io/component'] === 'backup');

/** What each backup stands for while stale, and how urgent (charts/observability/backup-alerts.ts, against docs/disaster-recovery.md). */
const AT_RISK: Record<string, { severity: string; atRisk: string }> = {
  'backup-database': { severity: 'warning', atRisk: 'the logical dumps, the second line behind WAL archiving and base backups, are missing what changed since' },
  'backup-files': { severity: 'critical', atRisk: 'uploaded files written since are in no backup, and lost with the volume' },
  'backup-verify': { severity: 'warning', atRisk: 'nothing has proved since that the backups restore' },
};

test('production backs up with these three CronJobs, on these schedules', () => {
  // The figures the alerts below are held to; a change of schedule or deadline shows here first.
  expect(cronJobs.map((c) => [c.metadata.name, c.spec.schedule, allowance(c)]).sort()).toEqual([
    ['backup-database', '15 2 * * *', { gap: 86400, run: 3600 + 6 * 3600, threshold: 86400 + 7 * 3600 }],
    ['backup-files', '40 * * * *', { gap: 3600, run: 600 + 3 * 3600, threshold: 3600 + 600 + 3 * 3600 }],
    ['backup-verify', '30 4 * * 0', { gap: 7 * 86400, run: 6 * 3600 + 6 * 3600, threshold: 7 * 86400 + 12 * 3600 }],
  ]);
});

/** The alert of a CronJob whose last success (or creation) is `age` seconds ago. */
function stale(cronJob: K8sObject, age: number) {
  const name = cronJob.metadata.name;
  const { gap, run } = allowance(cronJob);
  return {
    exp_labels: { severity: AT_RISK[name].severity, namespace: NS, cronjob: name, service: name },
    exp_annotations: {
      summary: `${name} has not succeeded for ${humanizeDuration(age)}`,
      description: `The backup CronJob ${name} (namespace ${NS}) has not completed a run successfully for ${humanizeDuration(age)} `
        + `(since its last success, or since it was created if it never succeeded); its schedule \`${cronJob.spec.schedule}\` (UTC) leaves up to `
        + `${spelledDuration(gap)} between runs, and a run may start late and take up to ${spelledDuration(run)}. Until it succeeds, ${AT_RISK[name].atRisk}.`,
      runbook_url: RUNBOOK,
    },
  };
}

/** The other backup CronJobs, there and fresh (succeeded at 0): only `cronJob`'s condition can fire. */
const othersFresh = (cronJob: K8sObject, samples: number) => cronJobs.filter((c) => c !== cronJob).flatMap((c) => [
  { series: ksm('kube_cronjob_created', { namespace: NS, cronjob: c.metadata.name }), values: repeated(0, samples) },
  { series: ksm('kube_cronjob_status_last_successful_time', { namespace: NS, cronjob: c.metadata.name }), values: repeated(0, samples) },
]);

/**
 * The last success (or, for one that never succeeded, the creation) 5 minutes short of the
 * threshold before the test's start: a timestamp before 0, so that promtool need not evaluate a
 * week of samples to get there. At 4 minutes the age is under the threshold; from 5 m 30 s it is
 * over, and with `for: 3m` the alert fires at 8 m 30 s: silent at 8 m, firing at 9 m.
 */
function staleTest(cronJob: K8sObject, metric: 'kube_cronjob_status_last_successful_time' | 'kube_cronjob_created'): RuleTest {
  const name = cronJob.metadata.name;
  const { threshold } = allowance(cronJob);
  const labels = { namespace: NS, cronjob: name };
  const at = -(threshold - 300);
  return {
    name: `${name}: ${metric === 'kube_cronjob_created' ? 'never succeeded since its creation' : 'last success'} ${threshold - 300} s before`,
    interval: '1m',
    input_series: [
      // Created long before (or at the time, when it never succeeded).
      { series: ksm('kube_cronjob_created', labels), values: repeated(metric === 'kube_cronjob_created' ? at : at - 86400, 15) },
      ...(metric === 'kube_cronjob_created' ? [] : [{ series: ksm(metric, labels), values: repeated(at, 15) }]),
      ...othersFresh(cronJob, 15),
      { series: ksm('kube_namespace_created', { namespace: NS }), values: repeated(0, 15) },
    ],
    alert_rule_test: [
      { eval_time: '4m', alertname: BACKUP_STALE, exp_alerts: [] },
      { eval_time: '8m', alertname: BACKUP_STALE, exp_alerts: [] },
      { eval_time: '9m', alertname: BACKUP_STALE, exp_alerts: [stale(cronJob, threshold + 240)] },
    ],
  };
}

const absentTests = (cronJob: K8sObject): RuleTest[] => {
  const name = cronJob.metadata.name;
  // Every other CronJob there and fresh: only this one's absence can fire.
  const present = othersFresh(cronJob, 11);
  return [
    {
      name: `${name} is not there`,
      interval: '1m',
      input_series: [...present, { series: ksm('kube_namespace_created', { namespace: NS }), values: '0x10' }],
      alert_rule_test: [
        { eval_time: '2m', alertname: BACKUP_STALE, exp_alerts: [] },
        {
          eval_time: '4m',
          alertname: BACKUP_STALE,
          exp_alerts: [{
            exp_labels: { severity: AT_RISK[name].severity, namespace: NS, cronjob: name, service: name, reason: 'CronJobMissing' },
            exp_annotations: {
              summary: `${name}: the backup CronJob does not exist`,
              description: `kube-state-metrics reports namespace ${NS} but no CronJob ${name} in it: nothing runs this backup; ${AT_RISK[name].atRisk}.`,
              runbook_url: RUNBOOK,
            },
          }],
        },
      ],
    },
    // kube-state-metrics down or not scraped: nothing of the namespace, and TargetDown's to say so.
    { name: `${name}: nothing from kube-state-metrics`, interval: '1m', input_series: [], alert_rule_test: [{ eval_time: '10m', alertname: BACKUP_STALE, exp_alerts: [] }] },
  ];
};

/**
 * A backup that keeps succeeding: the oldest its last success gets is one gap plus the last
 * run's time; here a whole gap old at the start, and the next run 20 minutes late.
 */
const healthy = (cronJob: K8sObject): RuleTest => {
  const labels = { namespace: NS, cronjob: cronJob.metadata.name };
  const { gap } = allowance(cronJob);
  return {
    name: `${cronJob.metadata.name} succeeding on schedule`,
    interval: '1m',
    input_series: [
      { series: ksm('kube_cronjob_created', labels), values: repeated(-gap - 86400, 21) },
      { series: ksm('kube_cronjob_status_last_successful_time', labels), values: repeated(-gap, 21) },
      ...othersFresh(cronJob, 21),
      { series: ksm('kube_namespace_created', { namespace: NS }), values: repeated(0, 21) },
    ],
    alert_rule_test: [{ eval_time: '20m', alertname: BACKUP_STALE, exp_alerts: [] }],
  };
};

describe('production, by promtool', () => {
  test.each(cronJobs.map((c) => [c.metadata.name, c] as const))('%s: silent until its last success is older than its gap plus its run time, then firing', (_name, cronJob) => {
    const r = testRules([rule], [staleTest(cronJob, 'kube_cronjob_status_last_successful_time'), healthy(cronJob)]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test.each(cronJobs.map((c) => [c.metadata.name, c] as const))('%s: a CronJob that never succeeded is stale once it has existed that long', (_name, cronJob) => {
    const r = testRules([rule], [staleTest(cronJob, 'kube_cronjob_created')]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test.each(cronJobs.map((c) => [c.metadata.name, c] as const))('%s: a CronJob that is not there fires, unless kube-state-metrics reports nothing', (_name, cronJob) => {
    const r = testRules([rule], absentTests(cronJob));
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    const tests = cronJobs.flatMap((c) => [staleTest(c, 'kube_cronjob_status_last_successful_time'), staleTest(c, 'kube_cronjob_created'), healthy(c), ...absentTests(c)]);
    expect(untestedAlerts([rule], tests)).toEqual({ neverFires: [], neverSilent: [] });
  });
});
