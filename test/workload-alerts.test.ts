/**
 * The workload alerts (charts/observability/workload-alerts.ts) as synthesized, run by promtool on
 * series shaped as kube-state-metrics and the kubelet expose them through kube-prometheus-stack
 * (test/support/exporter-series.ts: target labels included, so `service="kube-state-metrics"` is
 * on every input): each alert fires with the workload that owns the pod as `service`, the
 * expected labels and annotations, and stays silent where it must. The volume alerts watch every
 * claim the data tier's controllers create, by the names they give them.
 */
import { BACKUP_ALERTS } from '../charts/observability/backup-alerts';
import { GATEWAY_ALERTS } from '../charts/observability/gateway-alerts';
import { GENERAL_ALERTS } from '../charts/observability/general-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { WORKLOAD_ALERTS } from '../charts/observability/workload-alerts';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes } from '../environments/model/gateway';
import { dataEndpoints } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { checkRules, testRules, untestedAlerts, type RuleTest } from './support/alert-rules';
import { kubelet, ksm, podOwner, repeated } from './support/exporter-series';

const envs = resolveEnvironments(environments, process.cwd());
const production = envs.find((e) => e.name === 'production') as Environment;
const objectsOf = (env: Environment) => synthObjects(env).map((o) => o.object);
const ruleOf = (objects: readonly K8sObject[], name: string) => objects.find((o) => o.kind === 'PrometheusRule' && o.metadata.name === name);

/** Every alerting rule of a PrometheusRule. */
const alertsOf = (rule: K8sObject) => (rule.spec.groups as K8sObject[]).flatMap((g) => (g.rules as K8sObject[]).filter((r) => r.alert));

/** A Prometheus regex as Prometheus applies it: anchored at both ends. */
const anchored = (re: string) => new RegExp(`^(?:${re})$`);

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const objects = objectsOf(env);
  const rule = ruleOf(objects, WORKLOAD_ALERTS) as K8sObject;

  test('promtool check rules accepts the workload alerts', () => {
    const check = checkRules(rule);
    expect(check.output).toMatch(/SUCCESS/);
    expect(check.status).toBe(0);
  });

  test('every alert names its namespace and service, or takes both from its expression', () => {
    for (const a of alertsOf(rule)) {
      const labelled = a.labels?.namespace === env.app.namespace && typeof a.labels?.service === 'string';
      // Without static labels the expression must put `service` on each series (label_replace or
      // a group_left join) and keep the object's namespace.
      expect([a.alert, labelled || (/"service"|group_left \(service\)/.test(a.expr) && a.expr.includes(`namespace="${env.app.namespace}"`))]).toEqual([a.alert, true]);
    }
  });

  test('every critical alert of the workload, backup, gateway and general alerts waits at most 3 minutes', () => {
    // Scrape 30 s + evaluation 30 s + `for` + Alertmanager's group_wait 30 s stays under 5 minutes.
    const critical = [WORKLOAD_ALERTS, BACKUP_ALERTS, GATEWAY_ALERTS, GENERAL_ALERTS].map((n) => ruleOf(objects, n))
      .flatMap((r) => (r ? alertsOf(r) : [])).filter((a) => a.labels?.severity === 'critical');
    expect(critical.length).toBeGreaterThan(0);
    for (const a of critical) expect([a.alert, durationSeconds(a.for ?? '0s') <= 180]).toEqual([a.alert, true]);
  });

  test('the volume alerts watch every claim of the data tier, each under its component, and no other', () => {
    const volumeAlerts = alertsOf(rule).filter((a) => a.alert === 'VolumeFillingUp');
    const watched = volumeAlerts.map((a) => ({ service: a.labels.service as string, re: anchored(/persistentvolumeclaim=~"([^"]+)"/.exec(a.expr)?.[1] ?? '^$') }));
    // The claims as their controllers name them: the uploads claim itself, the Redis StatefulSet's
    // `<template>-<statefulset>-<ordinal>`, CloudNativePG's `<cluster>-<serial>` and `-wal`.
    const claims: Array<[claim: string, owner: string]> = [
      ...objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o): [string, string] => [o.metadata.name, o.metadata.name]),
      ...objects.filter((o) => o.kind === 'StatefulSet').flatMap((s) => (s.spec.volumeClaimTemplates as K8sObject[]).flatMap((t) =>
        Array.from({ length: s.spec.replicas }, (_, i): [string, string] => [`${t.metadata.name}-${s.metadata.name}-${i}`, s.metadata.name]))),
      ...objects.filter((o) => o.kind === 'Cluster').flatMap((c) => Array.from({ length: c.spec.instances }, (_, i) => [
        [`${c.metadata.name}-${i + 1}`, c.metadata.name] as [string, string],
        ...(c.spec.walStorage ? [[`${c.metadata.name}-${i + 1}-wal`, c.metadata.name] as [string, string]] : []),
      ]).flat()),
    ];
    expect(claims.length).toBeGreaterThan(0);
    for (const [claim, owner] of claims) {
      expect([claim, watched.filter((w) => w.re.test(claim)).map((w) => w.service)]).toEqual([claim, [owner]]);
    }
    // Nothing else: a backup run's scratch claim, another instance's serial in a longer name.
    const data = dataEndpoints(env);
    const strangers = [`${data.backups?.database?.job ?? 'backup'}-29384756-k7xwz-scratch`, `${data.postgres?.cluster}-pooler-1`, 'data-other-redis-0'];
    for (const s of strangers) expect([s, watched.filter((w) => w.re.test(s)).map((w) => w.service)]).toEqual([s, []]);
    expect(alertsOf(rule).filter((a) => a.alert === 'VolumeAlmostFull').map((a) => a.labels.service).sort()).toEqual(watched.map((w) => w.service).sort());
  });
});

/** `5m` → 300. */
function durationSeconds(d: string): number {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  return [...d.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, u]) => sum + Number(n) * units[u], 0);
}

// Production's names, from its model: what its pods are called is up to the controllers.
const NS = production.app.namespace;
const data = dataEndpoints(production);
const services = [...new Set(hostRoutes(production).flatMap((h) => h.rules.map((r) => r.service)))].sort();
const [API, WEB] = [services.includes('api') ? 'api' : services[0], services.includes('web') ? 'web' : services[1]];
const REDIS = data.redis?.name as string;
const DB = data.postgres?.cluster as string;
const DUMP_JOB = data.backups?.database?.job as string;
const RUNBOOKS = repositoryFilesUrl(production.delivery.repoURL, production.delivery.targetRevision);
const rule = ruleOf(objectsOf(production), WORKLOAD_ALERTS) as K8sObject;

/** Pods of production's workloads, with the owner reference each controller sets. */
const POD = {
  api: { pod: `${API}-7d9f8c6b5-x2x4z`, container: API, owner: { kind: 'ReplicaSet', name: `${API}-7d9f8c6b5` }, service: API },
  web: { pod: `${WEB}-5b6c7d8f9-qw7rt`, container: WEB, owner: { kind: 'ReplicaSet', name: `${WEB}-5b6c7d8f9` }, service: WEB },
  redis: { pod: `${REDIS}-0`, container: 'redis', owner: { kind: 'StatefulSet', name: REDIS }, service: REDIS },
  db: { pod: `${DB}-1`, container: 'postgres', owner: { kind: 'Cluster', name: DB }, service: DB },
  // A CronJob's Job is `<cronjob>-<scheduled minute since 1970>`.
  dump: { pod: `${DUMP_JOB}-29384756-k7xwz`, container: 'store', owner: { kind: 'Job', name: `${DUMP_JOB}-29384756` }, service: DUMP_JOB },
  // `kubectl run`: no owner at all.
  bare: { pod: 'debug-shell', container: 'shell', owner: undefined, service: 'debug-shell' },
} as const;
type PodName = keyof typeof POD;

const owner = (p: PodName) => ({ series: podOwner(NS, POD[p].pod, POD[p].owner), values: repeated(1, 61) });
const onPod = (p: PodName, extra: Record<string, string> = {}) => ({ namespace: NS, pod: POD[p].pod, uid: `uid-${POD[p].pod}`, ...extra });
const onContainer = (p: PodName) => onPod(p, { container: POD[p].container });

/** The annotations the rules give, with production's runbook address. */
function annotations(alert: string, summary: string, description: string) {
  return { summary, description, runbook_url: runbookUrl(RUNBOOKS, alert) };
}

const crashLoop = (p: PodName, restarts: number) => ({
  exp_labels: { severity: 'warning', namespace: NS, pod: POD[p].pod, container: POD[p].container, service: POD[p].service },
  exp_annotations: annotations('PodCrashLooping', `${POD[p].service}: container ${POD[p].container} of pod ${POD[p].pod} is crash-looping`,
    `Container ${POD[p].container} of pod ${POD[p].pod} (${POD[p].service}, namespace ${NS}) has been in CrashLoopBackOff for 10 minutes `
    + `and has restarted ${restarts} times: it exits soon after every start.`),
});

const looping: PodName[] = ['api', 'redis', 'db', 'dump', 'bare'];
const CRASH_LOOPING: RuleTest[] = [
  {
    // Every kind of owner: the alert names the Deployment, the StatefulSet, the PostgreSQL
    // cluster, the CronJob, or the pod itself. The waiting reason shows only between restarts.
    name: 'crash-looping pods of every kind of owner',
    interval: '1m',
    input_series: looping.flatMap((p) => [
      owner(p),
      { series: ksm('kube_pod_container_status_restarts_total', onContainer(p)), values: '0+1x30' },
      { series: ksm('kube_pod_container_status_waiting_reason', { ...onContainer(p), reason: 'CrashLoopBackOff' }), values: repeated(1, 31, true) },
    ]),
    alert_rule_test: [
      { eval_time: '9m', alertname: 'PodCrashLooping', exp_alerts: [] },
      { eval_time: '12m', alertname: 'PodCrashLooping', exp_alerts: looping.map((p) => crashLoop(p, 12)) },
    ],
  },
  {
    // CloudNativePG's instance pods copy the operator's manager in an init container first.
    name: 'a crash-looping init container',
    interval: '1m',
    input_series: [
      owner('db'),
      { series: ksm('kube_pod_init_container_status_restarts_total', { ...onPod('db'), container: 'bootstrap-controller' }), values: '0+1x30' },
      { series: ksm('kube_pod_init_container_status_waiting_reason', { ...onPod('db'), container: 'bootstrap-controller', reason: 'CrashLoopBackOff' }),
        values: repeated(1, 31, true) },
    ],
    alert_rule_test: [{
      eval_time: '12m',
      alertname: 'PodCrashLooping',
      exp_alerts: [{ ...crashLoop('db', 12), exp_labels: { ...crashLoop('db', 12).exp_labels, container: 'bootstrap-controller' },
        exp_annotations: { ...crashLoop('db', 12).exp_annotations,
          summary: `${DB}: container bootstrap-controller of pod ${POD.db.pod} is crash-looping`,
          description: `Container bootstrap-controller of pod ${POD.db.pod} (${DB}, namespace ${NS}) has been in CrashLoopBackOff for 10 minutes `
            + 'and has restarted 12 times: it exits soon after every start.' } }],
    }],
  },
  {
    name: 'one restart during a rollout is no loop',
    interval: '1m',
    input_series: [
      owner('web'),
      { series: ksm('kube_pod_container_status_restarts_total', onContainer('web')), values: `0 ${repeated(1, 30)}` },
      { series: ksm('kube_pod_container_status_waiting_reason', { ...onContainer('web'), reason: 'CrashLoopBackOff' }), values: '1 1' },
    ],
    alert_rule_test: [{ eval_time: '12m', alertname: 'PodCrashLooping', exp_alerts: [] }],
  },
];

const phases = (p: PodName, current: string) => ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((phase) => ({
  series: ksm('kube_pod_status_phase', onPod(p, { phase })), values: repeated(phase === current ? 1 : 0, 31),
}));
const ready = (p: PodName, values: string) => [
  { series: ksm('kube_pod_status_ready', onPod(p, { condition: 'true' })), values },
  { series: ksm('kube_pod_status_ready', onPod(p, { condition: 'false' })), values: values.split(' ').map((v) => (v === '1' ? '0' : '1')).join(' ') },
];
const notReady = (p: PodName, phase: string) => ({
  exp_labels: { severity: 'warning', namespace: NS, pod: POD[p].pod, phase, service: POD[p].service },
  exp_annotations: annotations('PodNotReady', `${POD[p].service}: pod ${POD[p].pod} has not been ready for 15 minutes`,
    `Pod ${POD[p].pod} (${POD[p].service}, namespace ${NS}) is ${phase} and has not been ready for 15 minutes: it takes no traffic.`),
});
const NOT_READY: RuleTest[] = [
  {
    name: 'running without passing its readiness probe, and pending without a node',
    interval: '1m',
    // A pending pod has no Ready condition yet: kube-state-metrics writes no kube_pod_status_ready.
    input_series: [owner('api'), ...phases('api', 'Running'), ...ready('api', repeated(0, 31)), owner('redis'), ...phases('redis', 'Pending')],
    alert_rule_test: [
      { eval_time: '14m', alertname: 'PodNotReady', exp_alerts: [] },
      { eval_time: '16m', alertname: 'PodNotReady', exp_alerts: [notReady('api', 'Running'), notReady('redis', 'Pending')] },
    ],
  },
  {
    // The backup's pod is Pending while its init container dumps the database.
    name: 'ready, ready after 10 minutes, completed, and a backup still dumping',
    interval: '1m',
    input_series: [
      owner('web'), ...phases('web', 'Running'), ...ready('web', repeated(1, 31)),
      owner('api'), ...phases('api', 'Running'), ...ready('api', `${repeated(0, 10)} ${repeated(1, 21)}`),
      owner('redis'), ...phases('redis', 'Succeeded'), ...ready('redis', repeated(0, 31)),
      owner('dump'), ...phases('dump', 'Pending'), ...ready('dump', repeated(0, 31)),
    ],
    alert_rule_test: [{ eval_time: '20m', alertname: 'PodNotReady', exp_alerts: [] }],
  },
];

const OOM_KILLED: RuleTest[] = [{
  name: 'killed for its memory limit: fires at the restart, over 15 minutes later; a crash for another reason never',
  interval: '1m',
  input_series: [
    owner('api'),
    { series: ksm('kube_pod_container_status_restarts_total', onContainer('api')), values: `${repeated(0, 5)} ${repeated(1, 26)}` },
    { series: ksm('kube_pod_container_status_last_terminated_reason', { ...onContainer('api'), reason: 'OOMKilled' }), values: `${repeated(0, 5).replaceAll('0', '_')} ${repeated(1, 26)}` },
    owner('web'),
    { series: ksm('kube_pod_container_status_restarts_total', onContainer('web')), values: `${repeated(0, 5)} ${repeated(1, 26)}` },
    { series: ksm('kube_pod_container_status_last_terminated_reason', { ...onContainer('web'), reason: 'Error' }), values: `${repeated(0, 5).replaceAll('0', '_')} ${repeated(1, 26)}` },
  ],
  alert_rule_test: [
    { eval_time: '4m', alertname: 'ContainerOomKilled', exp_alerts: [] },
    {
      eval_time: '8m',
      alertname: 'ContainerOomKilled',
      exp_alerts: [{
        exp_labels: { severity: 'warning', namespace: NS, pod: POD.api.pod, container: API, service: API },
        exp_annotations: annotations('ContainerOomKilled', `${API}: container ${API} of pod ${POD.api.pod} was killed for running out of memory`,
          `Container ${API} of pod ${POD.api.pod} (${API}, namespace ${NS}) went over its memory limit, was killed (OOMKilled) and restarted; `
          + 'about 1 restart(s) in the last 15 minutes.'),
      }],
    },
    { eval_time: '25m', alertname: 'ContainerOomKilled', exp_alerts: [] },
  ],
}];

/** cAdvisor's CFS counters of a container: `periods` a minute, `share` of them throttled. */
const cfs = (p: PodName, periods: number, share: number) => {
  const labels = { namespace: NS, pod: POD[p].pod, container: POD[p].container, id: `/kubepods/burstable/pod-${POD[p].pod}/c0ffee`, image: 'registry.example/x:1', name: 'c0ffee' };
  return [
    { series: kubelet('container_cpu_cfs_periods_total', labels), values: `0+${periods}x30` },
    { series: kubelet('container_cpu_cfs_throttled_periods_total', labels), values: `0+${periods * share}x30` },
  ];
};
const CPU_THROTTLING: RuleTest[] = [
  {
    name: '40 % of the periods throttled for 20 minutes',
    interval: '1m',
    input_series: [owner('api'), ...cfs('api', 600, 0.4)],
    alert_rule_test: [
      { eval_time: '15m', alertname: 'CpuThrottlingHigh', exp_alerts: [] },
      {
        eval_time: '20m',
        alertname: 'CpuThrottlingHigh',
        exp_alerts: [{
          exp_labels: { severity: 'warning', namespace: NS, pod: POD.api.pod, container: API, service: API },
          exp_annotations: annotations('CpuThrottlingHigh', `${API}: container ${API} of pod ${POD.api.pod} is throttled by its CPU limit`,
            `Container ${API} of pod ${POD.api.pod} (${API}, namespace ${NS}) was held back by its CPU limit in 40% of its scheduling periods `
            + 'over 5 minutes, for 15 minutes.'),
        }],
      },
    ],
  },
  {
    name: '10 % throttled, and a backup pod at its limit',
    interval: '1m',
    input_series: [owner('web'), ...cfs('web', 600, 0.1), owner('dump'), ...cfs('dump', 600, 0.9)],
    alert_rule_test: [{ eval_time: '20m', alertname: 'CpuThrottlingHigh', exp_alerts: [] }],
  },
];

const deployment = (name: string, spec: string, updated: string) => [
  { series: ksm('kube_deployment_spec_replicas', { namespace: NS, deployment: name }), values: spec },
  { series: ksm('kube_deployment_status_replicas_updated', { namespace: NS, deployment: name }), values: updated },
];
const statefulSet = (name: string, updated: string, current: string, update: string) => [
  { series: ksm('kube_statefulset_replicas', { namespace: NS, statefulset: name }), values: repeated(3, 41) },
  { series: ksm('kube_statefulset_status_replicas_updated', { namespace: NS, statefulset: name }), values: updated },
  { series: ksm('kube_statefulset_status_current_revision', { namespace: NS, statefulset: name, revision: current }), values: repeated(1, 41) },
  { series: ksm('kube_statefulset_status_update_revision', { namespace: NS, statefulset: name, revision: update }), values: repeated(1, 41) },
];
const stuck = (service: string, kind: 'deployment' | 'statefulset') => ({
  exp_labels: { severity: 'warning', namespace: NS, [kind]: service, service },
  exp_annotations: annotations('RolloutStuck', `${service}: the rollout is stuck`,
    `${service} (namespace ${NS}) has 2 replica(s) still on the previous version, and no replica was updated in the last 20 minutes.`),
});
const ROLLOUT_STUCK: RuleTest[] = [
  {
    // The new pods never come up: one updated replica of three, from the first minute on.
    name: 'a Deployment and a StatefulSet stopped half way',
    interval: '1m',
    input_series: [
      ...deployment(API, repeated(3, 41), `3 ${repeated(1, 40)}`),
      ...statefulSet(REDIS, `3 ${repeated(1, 40)}`, `${REDIS}-7f9c6d5b8`, `${REDIS}-5d4c3b2a1`),
    ],
    alert_rule_test: [
      { eval_time: '20m', alertname: 'RolloutStuck', exp_alerts: [] },
      { eval_time: '25m', alertname: 'RolloutStuck', exp_alerts: [stuck(API, 'deployment'), stuck(REDIS, 'statefulset')] },
    ],
  },
  {
    name: 'rollouts that finish, and a StatefulSet between rollouts',
    interval: '1m',
    input_series: [
      ...deployment(WEB, repeated(3, 41), `3 1 2 ${repeated(3, 38)}`),
      ...statefulSet(REDIS, repeated(1, 41), `${REDIS}-7f9c6d5b8`, `${REDIS}-7f9c6d5b8`),
    ],
    alert_rule_test: [{ eval_time: '25m', alertname: 'RolloutStuck', exp_alerts: [] }],
  },
];

const hpa = (name: string, current: number, min: number, max: number) => ['status_current_replicas', 'spec_min_replicas', 'spec_max_replicas'].map((m, i) => ({
  series: ksm(`kube_horizontalpodautoscaler_${m}`, { namespace: NS, horizontalpodautoscaler: name }), values: repeated([current, min, max][i], 41),
}));
const HPA_MAXED_OUT: RuleTest[] = [
  {
    name: 'at its maximum for 35 minutes',
    interval: '1m',
    input_series: hpa(API, 12, 3, 12),
    alert_rule_test: [
      { eval_time: '25m', alertname: 'HpaMaxedOut', exp_alerts: [] },
      {
        eval_time: '35m',
        alertname: 'HpaMaxedOut',
        exp_alerts: [{
          exp_labels: { severity: 'warning', namespace: NS, horizontalpodautoscaler: API, service: API },
          exp_annotations: annotations('HpaMaxedOut', `${API} has run at its maximum number of replicas for 30 minutes`,
            `The HorizontalPodAutoscaler ${API} (namespace ${NS}) has kept ${API} at its maximum of 12 replicas for 30 minutes: it cannot scale out any further.`),
        }],
      },
    ],
  },
  { name: 'a fixed size is always at its maximum', interval: '1m', input_series: hpa(WEB, 2, 2, 2), alert_rule_test: [{ eval_time: '35m', alertname: 'HpaMaxedOut', exp_alerts: [] }] },
];

const job = (name: string, failed: boolean, start: number, owner?: { readonly kind: string; readonly name: string }) => [
  ...['true', 'false', 'unknown'].map((condition) => ({
    series: ksm('kube_job_failed', { namespace: NS, job_name: name, condition }), values: repeated(condition === String(failed) ? 1 : 0, 31),
  })),
  { series: ksm('kube_job_status_start_time', { namespace: NS, job_name: name }), values: repeated(start, 31) },
  // A Job without owner (an Argo CD hook) has empty owner labels, which Prometheus drops.
  { series: ksm('kube_job_owner', { namespace: NS, job_name: name, ...(owner ? { owner_kind: owner.kind, owner_name: owner.name, owner_is_controller: 'true' } : {}) }),
    values: repeated(1, 31) },
];
const failed = (jobName: string, service: string) => ({
  exp_labels: { severity: 'warning', namespace: NS, job_name: jobName, service },
  exp_annotations: annotations('JobFailed', `${service}: Job ${jobName} failed`, `Job ${jobName} of ${service} (namespace ${NS}) failed, and no later run of it has succeeded.`),
});
const migration = objectsOf(production).find((o) => o.kind === 'Job' && o.metadata.name.endsWith('-migrate'))?.metadata.name as string;
const JOB_FAILED: RuleTest[] = [
  {
    // The dump that started at 60 s failed; its CronJob's last success is older until, at minute
    // 10, a later run succeeds (at 1200 s). CloudNativePG's Job that joins a new replica is the
    // cluster's.
    name: 'a failed migration, a failed join of a replica, and a failed backup until a later run succeeds',
    interval: '1m',
    input_series: [
      ...job(migration, true, 30),
      ...job(`${DB}-4-join`, true, 30, { kind: 'Cluster', name: DB }),
      ...job(`${DUMP_JOB}-29384756`, true, 60, { kind: 'CronJob', name: DUMP_JOB }),
      { series: ksm('kube_cronjob_status_last_successful_time', { namespace: NS, cronjob: DUMP_JOB }), values: `${repeated(0, 10)} ${repeated(1200, 21)}` },
    ],
    alert_rule_test: [
      { eval_time: '5m', alertname: 'JobFailed', exp_alerts: [failed(migration, migration), failed(`${DB}-4-join`, DB), failed(`${DUMP_JOB}-29384756`, DUMP_JOB)] },
      { eval_time: '15m', alertname: 'JobFailed', exp_alerts: [failed(migration, migration), failed(`${DB}-4-join`, DB)] },
    ],
  },
  { name: 'a Job that succeeded', interval: '1m', input_series: job(migration, false, 30), alert_rule_test: [{ eval_time: '5m', alertname: 'JobFailed', exp_alerts: [] }] },
];

/** Volume stats of a claim as a kubelet reports them (`/metrics`): capacity and available bytes. */
const volume = (claim: string, capacity: number, available: string, instance = '10.0.1.21:10250') => [
  { series: kubelet('kubelet_volume_stats_capacity_bytes', { metrics_path: '/metrics', instance, namespace: NS, persistentvolumeclaim: claim }), values: repeated(capacity, 37) },
  { series: kubelet('kubelet_volume_stats_available_bytes', { metrics_path: '/metrics', instance, namespace: NS, persistentvolumeclaim: claim }), values: available },
];
const GB = 1_000_000_000;
const UPLOADS = data.uploads?.claim as string;
const REDIS_CLAIM = `data-${REDIS}-0`;
/** 19.5 % of 1 GB left, 0.1 % less every 5 minutes: full in about 16 hours. */
const filling = `195000000-1000000x36`;
const fillingUp = (claim: string, service: string, whenFull: string) => ({
  exp_labels: { severity: 'warning', namespace: NS, persistentvolumeclaim: claim, service },
  exp_annotations: annotations('VolumeFillingUp', `${service}: volume ${claim} fills up within 4 days`,
    `Volume ${claim} of ${service} (namespace ${NS}) has 18% of its space left and, at the rate of the last 6 hours, is full within 4 days; then ${whenFull}.`),
});
const WHEN_FULL = {
  db: 'PostgreSQL stops: a full data volume fails every write, a full WAL volume shuts the instance down',
  redis: 'Redis can no longer persist, and then refuses writes (sessions, caches)',
  uploads: 'uploads fail',
};
const VOLUME_FILLING_UP: RuleTest[] = [
  {
    // The uploads claim is ReadWriteMany: two kubelets report it, one alert.
    name: 'each component\'s volume filling up, four days ahead',
    interval: '5m',
    input_series: [...volume(`${DB}-1`, GB, filling), ...volume(REDIS_CLAIM, GB, filling), ...volume(UPLOADS, GB, filling), ...volume(UPLOADS, GB, filling, '10.0.1.22:10250')],
    alert_rule_test: [
      { eval_time: '60m', alertname: 'VolumeFillingUp', exp_alerts: [] },
      {
        eval_time: '75m',
        alertname: 'VolumeFillingUp',
        exp_alerts: [fillingUp(`${DB}-1`, DB, WHEN_FULL.db), fillingUp(REDIS_CLAIM, REDIS, WHEN_FULL.redis), fillingUp(UPLOADS, UPLOADS, WHEN_FULL.uploads)],
      },
    ],
  },
  {
    name: 'little left but steady, much left and falling, a filling volume of no watched claim',
    interval: '5m',
    input_series: [...volume(`${DB}-1`, GB, repeated(180000000, 37)), ...volume(REDIS_CLAIM, GB, '600000000-10000000x36'), ...volume('scratch-volume', GB, filling)],
    alert_rule_test: [{ eval_time: '75m', alertname: 'VolumeFillingUp', exp_alerts: [] }],
  },
];
const almostFull = (claim: string, service: string, left: string, whenFull: string) => ({
  exp_labels: { severity: 'critical', namespace: NS, persistentvolumeclaim: claim, service },
  exp_annotations: annotations('VolumeAlmostFull', `${service}: volume ${claim} is almost full`,
    `Volume ${claim} of ${service} (namespace ${NS}) has only ${left} of its space left, or fills within 6 hours at the last hour's rate; when it is full ${whenFull}.`),
});
const VOLUME_ALMOST_FULL: RuleTest[] = [
  {
    // The WAL volume at 4 %; Redis' at 15 % and losing 1 % every 5 minutes (full in 75 minutes).
    name: 'less than 5 % left, and full within hours',
    interval: '5m',
    input_series: [...volume(`${DB}-1-wal`, GB, repeated(40000000, 37)), ...volume(REDIS_CLAIM, GB, '150000000-10000000x14')],
    alert_rule_test: [
      { eval_time: '1m', alertname: 'VolumeAlmostFull', exp_alerts: [] },
      { eval_time: '20m', alertname: 'VolumeAlmostFull', exp_alerts: [almostFull(`${DB}-1-wal`, DB, '4%', WHEN_FULL.db), almostFull(REDIS_CLAIM, REDIS, '11%', WHEN_FULL.redis)] },
    ],
  },
  {
    name: '15 % left and steady; 4 % left on a claim no component owns',
    interval: '5m',
    input_series: [...volume(`${DB}-1`, GB, repeated(150000000, 37)), ...volume('scratch-volume', GB, repeated(40000000, 37))],
    alert_rule_test: [{ eval_time: '20m', alertname: 'VolumeAlmostFull', exp_alerts: [] }],
  },
];

const ALL: Record<string, RuleTest[]> = {
  PodCrashLooping: CRASH_LOOPING, PodNotReady: NOT_READY, ContainerOomKilled: OOM_KILLED, CpuThrottlingHigh: CPU_THROTTLING,
  RolloutStuck: ROLLOUT_STUCK, HpaMaxedOut: HPA_MAXED_OUT, JobFailed: JOB_FAILED, VolumeFillingUp: VOLUME_FILLING_UP, VolumeAlmostFull: VOLUME_ALMOST_FULL,
};

describe('production, by promtool', () => {
  test('production has the workloads these tests name', () => {
    const objects = objectsOf(production);
    const has = (kind: string, name: string) => objects.some((o) => o.kind === kind && o.metadata.name === name);
    expect([has('Deployment', API), has('Deployment', WEB), has('StatefulSet', REDIS), has('Cluster', DB), has('CronJob', DUMP_JOB),
      has('PersistentVolumeClaim', UPLOADS), has('HorizontalPodAutoscaler', API), typeof migration]).toEqual([true, true, true, true, true, true, true, 'string']);
  });

  test.each(Object.entries(ALL))('%s fires as expected and stays silent where it must', (_alert, tests) => {
    const r = testRules([rule], tests);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('every alert has a test where it fires and one where it stays silent', () => {
    expect(untestedAlerts([rule], Object.values(ALL).flat())).toEqual({ neverFires: [], neverSilent: [] });
  });
});
