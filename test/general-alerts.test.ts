/**
 * TargetDown and the Watchdog (charts/observability/general-alerts.ts) as synthesized, run by
 * promtool. TargetDown names the workload that owns a down target's pod as `service` (as the
 * workload alerts do, so a critical alert of that component inhibits it), or, for a target with no
 * known pod, the last part of its job; it gives every alert a namespace. The Watchdog fires from
 * the first evaluation on, with the labels Alertmanager routes it by.
 */
import { GENERAL_ALERTS, WATCHDOG } from '../charts/observability/general-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { dataEndpoints } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { KSM_TARGET, podOwner, repeated, series } from './support/exporter-series';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const ruleOf = (env: Environment) => synthObjects(env).map((o) => o.object).find((o) => o.kind === 'PrometheusRule' && o.metadata.name === GENERAL_ALERTS);

test.each(envs.map((e) => [e.name, e] as const))('%s: promtool check rules accepts the general alerts', (_name, env) => {
  const check = checkRules(ruleOf(env) as K8sObject);
  expect(check.output).toMatch(/SUCCESS/);
  expect(check.status).toBe(0);
});

const NS = production.app.namespace;
const MONITORING = production.monitoringNamespace;
const RUNBOOKS = repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision);
const rule = ruleOf(production) as K8sObject;
const data = dataEndpoints(production);

/** Scrape targets as the Prometheus Operator labels them, each with the pod's owner when the target is a pod. */
const TARGETS = {
  // ServiceMonitor `api`: job is the Service's name.
  api: {
    labels: { job: 'api', namespace: NS, service: 'api', pod: 'api-7d9f8c6b5-x2x4z', container: 'api', endpoint: 'http', instance: '10.42.1.5:8080' },
    owner: { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' }, service: 'api',
  },
  // PodMonitor of the PostgreSQL cluster: job `<namespace>/<podmonitor>`.
  db: {
    labels: { job: `${NS}/${data.postgres?.cluster}`, namespace: NS, pod: `${data.postgres?.cluster}-1`, container: 'postgres', endpoint: 'metrics', instance: '10.42.2.7:9187' },
    owner: { kind: 'Cluster', name: data.postgres?.cluster as string }, service: data.postgres?.cluster as string,
  },
  // The Redis exporter behind the headless Service: the StatefulSet, not the Service, is the component.
  redis: {
    labels: { job: data.redis?.headlessService as string, namespace: NS, service: data.redis?.headlessService as string, pod: `${data.redis?.name}-1`,
      container: 'exporter', endpoint: 'metrics', instance: '10.42.2.9:9121' },
    owner: { kind: 'StatefulSet', name: data.redis?.name as string }, service: data.redis?.name as string,
  },
  // No pod: the kubelets behind kube-system's kubelet Service.
  kubelet: {
    labels: { job: 'kubelet', namespace: 'kube-system', service: 'kube-prometheus-stack-kubelet', endpoint: 'https-metrics', instance: '10.0.1.21:10250', metrics_path: '/metrics' },
    owner: undefined, service: 'kubelet',
  },
  // A static target with no namespace at all.
  probe: { labels: { job: `probe/${NS}/uptime`, instance: 'https://portal.example' }, owner: undefined, service: 'uptime' },
  // kube-state-metrics itself down: no owner series for its pod any more, its job says what it is.
  ksm: { labels: { ...KSM_TARGET }, owner: undefined, service: 'kube-state-metrics' },
} as const;
type Target = keyof typeof TARGETS;

const up = (t: Target, values: string) => {
  const labels: Record<string, string> = TARGETS[t].labels;
  const owner = TARGETS[t].owner;
  return [
    { series: series('up', labels), values },
    ...(owner ? [{ series: podOwner(labels.namespace, labels.pod, owner), values: repeated(1, 21) }] : []),
  ];
};

const down = (t: Target) => {
  const { job, instance } = TARGETS[t].labels;
  const labels: Record<string, string> = TARGETS[t].labels;
  const namespace = labels.namespace ?? MONITORING;
  return {
    exp_labels: { severity: 'warning', job, instance, namespace, service: TARGETS[t].service, ...(labels.pod ? { pod: labels.pod } : {}) },
    exp_annotations: {
      summary: `${TARGETS[t].service}: Prometheus cannot scrape ${instance}`,
      description: `Prometheus has not been able to scrape target ${instance} of job ${job} (namespace ${namespace}) for 10 minutes: `
        + 'alerts on its metrics cannot fire meanwhile.',
      runbook_url: runbookUrl(RUNBOOKS, 'TargetDown'),
    },
  };
};

const targets = Object.keys(TARGETS) as Target[];
const TARGET_DOWN: RuleTest[] = [
  {
    name: 'every kind of target down from the start',
    interval: '1m',
    input_series: targets.flatMap((t) => up(t, repeated(0, 21))),
    alert_rule_test: [
      { eval_time: '9m', alertname: 'TargetDown', exp_alerts: [] },
      { eval_time: '11m', alertname: 'TargetDown', exp_alerts: targets.map(down) },
    ],
  },
  {
    name: 'targets that answer, and one down for 5 minutes',
    interval: '1m',
    input_series: [...up('api', `${repeated(0, 5)} ${repeated(1, 16)}`), ...up('db', repeated(1, 21)), ...up('kubelet', repeated(1, 21))],
    alert_rule_test: [{ eval_time: '12m', alertname: 'TargetDown', exp_alerts: [] }],
  },
];

const watchdog = {
  exp_labels: { severity: 'info', namespace: MONITORING, service: 'prometheus' },
  exp_annotations: {
    summary: 'The alerting pipeline works: this alert always fires',
    description: 'This alert fires always, so that the dead man\'s switch receives it every few minutes. When it stops arriving there, '
      + 'Prometheus does not evaluate rules, or Alertmanager does not send, or the path between them is broken.',
    runbook_url: runbookUrl(RUNBOOKS, WATCHDOG),
  },
};
const WATCHDOG_TESTS: RuleTest[] = [{
  name: 'the Watchdog, with no input at all',
  interval: '1m',
  input_series: [],
  alert_rule_test: [
    { eval_time: '0m', alertname: WATCHDOG, exp_alerts: [watchdog] },
    { eval_time: '2h', alertname: WATCHDOG, exp_alerts: [watchdog] },
  ],
}];

describe('production, by promtool', () => {
  test('TargetDown fires for a target down 10 minutes, under its workload or its job, and stays silent where it must', () => {
    const r = testRules([rule], TARGET_DOWN);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('the Watchdog fires from the first evaluation on, whatever there is to scrape', () => {
    const r = testRules([rule], WATCHDOG_TESTS);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent, apart from the Watchdog, which is never silent', () => {
    // Its silence is what the dead man's switch reports: a test where it stays silent would be a
    // test of a broken Watchdog.
    expect(untestedAlerts([rule], [...TARGET_DOWN, ...WATCHDOG_TESTS])).toEqual({ neverFires: [], neverSilent: [WATCHDOG] });
  });
});
