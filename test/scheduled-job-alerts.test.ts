/**
 * The scheduled jobs' staleness alert (charts/observability/scheduled-job-alerts.ts): every
 * scheduled job's CronJob has its ScheduledJobStale conditions at the threshold its synthesized
 * schedule, time zone and deadlines give; promtool shows production's purge silent just before that
 * threshold and firing after it (from its last success, or from its creation when it never
 * succeeded), and firing when the CronJob is gone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { SCHEDULED_JOB_ALERTS, SCHEDULED_JOB_STALE } from '../charts/observability/scheduled-job-alerts';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { humanizeDuration, ksm, repeated } from './support/exporter-series';
import { boxDesignerWithRenderer } from './support/fixtures';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
const ruleOf = (objects: readonly K8sObject[]) => objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === SCHEDULED_JOB_ALERTS);
const scheduled = (objects: readonly K8sObject[]) => objects.filter((o) => o.kind === 'CronJob' && o.metadata.labels['app.kubernetes.io/component'] === 'scheduled-job');

/**
 * What each scheduled job's schedule allows, stated here rather than computed, so a wrong formula
 * in the code cannot pass with a copy of itself: the longest gap between two runs in the job's time
 * zone, and how late a run may start plus how long it may take.
 */
const ALLOWANCE: Record<string, { gap: number; run: number }> = {
  // 04:30 in New York: a day, and a day and an hour across the autumn change of the clocks; 10 + 30 minutes.
  'purge-documents': { gap: 25 * 3600, run: 600 + 1800 },
  // Every 30 minutes, UTC: no clocks to change; the defaults, 10 minutes and an hour.
  'expire-renders': { gap: 1800, run: 600 + 3600 },
};
function allowance(cronJob: K8sObject) {
  const known = ALLOWANCE[cronJob.metadata.name];
  if (!known) throw new Error(`no stated allowance for ${cronJob.metadata.name}`);
  return { ...known, threshold: known.gap + known.run };
}

const shapes: Array<[string, Environment]> = [
  ...envs.map((e): [string, Environment] => [e.name, e]),
  ['a UTC job in the box designer', boxDesignerWithRenderer({
    jobs: {
      'expire-renders': {
        description: 'deletes renders nobody downloaded within a week', imageOf: 'renderer', command: ['python', '-m', 'boxes.expire'],
        schedule: '*/30 * * * *', resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } }, uses: ['uploads'],
      },
    },
  })],
];

describe.each(shapes)('%s', (_name, env) => {
  const objects = objectsOf(env);
  const rule = ruleOf(objects);
  const cronJobs = scheduled(objects);

  test('each scheduled job has its two conditions, at its own threshold, and nothing else is watched', () => {
    expect(cronJobs.length).toBeGreaterThan(0);
    const rules = (rule?.spec.groups ?? []).flatMap((g: K8sObject) => g.rules as K8sObject[]);
    const watched = (r: K8sObject) => /cronjob="([^"]+)"/.exec(r.expr)?.[1];
    for (const c of cronJobs) {
      const own = rules.filter((r: K8sObject) => watched(r) === c.metadata.name);
      const age = own.find((r: K8sObject) => r.expr.includes('kube_cronjob_status_last_successful_time'));
      expect([c.metadata.name, Number(/\) > (\d+)$/.exec(age?.expr ?? '')?.[1])]).toEqual([c.metadata.name, allowance(c).threshold]);
      expect(own.filter((r: K8sObject) => r.expr.startsWith('absent('))).toHaveLength(1);
      expect(own.every((r: K8sObject) => r.alert === SCHEDULED_JOB_STALE && r.labels.service === c.metadata.name)).toBe(true);
    }
    expect([...new Set(rules.map(watched))].sort()).toEqual(cronJobs.map((c) => c.metadata.name).sort());
    const check = checkRules(rule as K8sObject);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
  });
});

test('without scheduled jobs there is no rule', () => {
  expect(ruleOf(objectsOf(boxDesignerWithRenderer()))).toBeUndefined();
});

const NS = production.app.namespace;
const RUNBOOK = runbookUrl(repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision), SCHEDULED_JOB_STALE);
const objects = objectsOf(production);
const rule = ruleOf(objects) as K8sObject;
const [purge] = scheduled(objects);
const description = production.jobs[purge.metadata.name].description;

test('production purges on this schedule, in the university\'s time zone', () => {
  // The schedule and deadlines ALLOWANCE above states the alert's figures for.
  expect([purge.metadata.name, purge.spec.schedule, purge.spec.timeZone, purge.spec.startingDeadlineSeconds, purge.spec.jobTemplate.spec.activeDeadlineSeconds])
    .toEqual(['purge-documents', '30 4 * * *', 'America/New_York', 600, 1800]);
});

/** The alert of the purge when its last success (or creation) is `age` seconds ago. */
function stale(age: number) {
  const name = purge.metadata.name;
  return {
    exp_labels: { severity: 'warning', namespace: NS, cronjob: name, service: name },
    exp_annotations: {
      summary: `${name} has not succeeded for ${humanizeDuration(age)}`,
      description: `The scheduled job ${name} (namespace ${NS}) has not completed a run successfully for ${humanizeDuration(age)} `
        + '(since its last success, or since it was created if it never succeeded); its schedule `30 4 * * *` (America/New_York) leaves up to '
        + `1d 1h between runs, and a run may start late and take up to 40m. Its work is not being done (${description}).`,
      runbook_url: RUNBOOK,
    },
  };
}

/**
 * The last success (or the creation) 5 minutes short of the threshold before the test's start: at
 * 4 minutes the age is under it; from 5 m 30 s over, and with `for: 3m` firing at 8 m 30 s.
 */
function staleTest(metric: 'kube_cronjob_status_last_successful_time' | 'kube_cronjob_created'): RuleTest {
  const labels = { namespace: NS, cronjob: purge.metadata.name };
  const { threshold } = allowance(purge);
  const at = -(threshold - 300);
  return {
    name: `${metric === 'kube_cronjob_created' ? 'never succeeded since its creation' : 'last success'} ${threshold - 300} s before`,
    interval: '1m',
    input_series: [
      { series: ksm('kube_cronjob_created', labels), values: repeated(metric === 'kube_cronjob_created' ? at : at - 86400, 15) },
      ...(metric === 'kube_cronjob_created' ? [] : [{ series: ksm(metric, labels), values: repeated(at, 15) }]),
      { series: ksm('kube_namespace_created', { namespace: NS }), values: repeated(0, 15) },
    ],
    alert_rule_test: [
      { eval_time: '4m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [] },
      { eval_time: '8m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [] },
      { eval_time: '9m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [stale(threshold + 240)] },
    ],
  };
}

/** A purge that keeps succeeding, its next run 20 minutes late: a whole gap (with the clocks' hour) old at the start. */
const healthy: RuleTest = {
  name: 'succeeding on schedule',
  interval: '1m',
  input_series: [
    { series: ksm('kube_cronjob_created', { namespace: NS, cronjob: purge.metadata.name }), values: repeated(-allowance(purge).gap - 86400, 21) },
    { series: ksm('kube_cronjob_status_last_successful_time', { namespace: NS, cronjob: purge.metadata.name }), values: repeated(-allowance(purge).gap, 21) },
    { series: ksm('kube_namespace_created', { namespace: NS }), values: repeated(0, 21) },
  ],
  alert_rule_test: [{ eval_time: '20m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [] }],
};

const missing: RuleTest[] = [
  {
    name: 'the CronJob is not there',
    interval: '1m',
    input_series: [{ series: ksm('kube_namespace_created', { namespace: NS }), values: '0x10' }],
    alert_rule_test: [
      { eval_time: '2m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [] },
      {
        eval_time: '4m',
        alertname: SCHEDULED_JOB_STALE,
        exp_alerts: [{
          exp_labels: { severity: 'warning', namespace: NS, cronjob: purge.metadata.name, service: purge.metadata.name, reason: 'CronJobMissing' },
          exp_annotations: {
            summary: `${purge.metadata.name}: the scheduled job does not exist`,
            description: `kube-state-metrics reports namespace ${NS} but no CronJob ${purge.metadata.name} in it: nothing runs it (${description}).`,
            runbook_url: RUNBOOK,
          },
        }],
      },
    ],
  },
  // kube-state-metrics down: nothing of the namespace, and TargetDown's to say so.
  { name: 'nothing from kube-state-metrics', interval: '1m', input_series: [], alert_rule_test: [{ eval_time: '10m', alertname: SCHEDULED_JOB_STALE, exp_alerts: [] }] },
];

describe('production, by promtool', () => {
  test('silent until its last success is older than its gap, the clocks\' hour and its run time, then firing', () => {
    const r = testRules([rule], [staleTest('kube_cronjob_status_last_successful_time'), healthy]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('a CronJob that never succeeded is stale once it has existed that long; one that is gone fires', () => {
    const r = testRules([rule], [staleTest('kube_cronjob_created'), ...missing]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], [staleTest('kube_cronjob_status_last_successful_time'), staleTest('kube_cronjob_created'), healthy, ...missing]))
      .toEqual({ neverFires: [], neverSilent: [] });
  });
});

test('the runbook\'s table states production\'s scheduled jobs as they are', () => {
  const runbook = readFileSync(join(process.cwd(), 'runbooks', `${SCHEDULED_JOB_STALE}.md`), 'utf8');
  const jobs = scheduled(objects);
  expect(jobs.length).toBeGreaterThan(0);
  for (const c of jobs) {
    const minutes = allowance(c).threshold / 60;
    const spelled = `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
    const row = runbook.split('\n').find((l) => l.startsWith(`| \`${c.metadata.name}\` |`));
    expect(row?.split('|').map((cell) => cell.trim()).slice(1, 5)).toEqual([`\`${c.metadata.name}\``, `\`${c.spec.schedule}\``, `\`${c.spec.timeZone}\``, expect.stringMatching(new RegExp(`= ${spelled}$`))]);
  }
});
