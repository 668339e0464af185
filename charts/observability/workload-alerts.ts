/**
 * Alerts on the application's workloads, read off what Kubernetes says of them: kube-state-metrics
 * (pods, Deployments, StatefulSets, HorizontalPodAutoscalers, Jobs) and the kubelet (cAdvisor's
 * container CPU, the volume stats of the claims). Each alert is scoped to the application's
 * namespace and names the workload it is about in `service`: the Deployment, StatefulSet,
 * PostgreSQL cluster or CronJob that owns the pod, never the exporter the series came from
 * (every kube-state-metrics series carries the target label `service="kube-state-metrics"`, every
 * kubelet series the kubelet's Service, and Alertmanager groups and inhibits on `service`).
 *
 * What users notice is paged by the SLO alerts (slo-rules.ts); these are the causes, as tickets,
 * apart from a volume about to fill, which is an outage within hours whatever the traffic.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import type { DataEndpoints } from '../../environments/model/names';
import { AlertRules, type Alert } from './alert-rules';

/** Label matchers as PromQL writes them inside `{…}`, without the empty ones. */
function matchers(...terms: readonly string[]): string {
  return terms.filter((t) => t !== '').join(',');
}

/**
 * Every pod of `selector` (label matchers of `kube_pod_owner`, e.g. `namespace="…"`; empty for all
 * namespaces) once, with the workload that owns it as `service`: a ReplicaSet's Deployment (its
 * name without the pod-template hash), a Job's CronJob (its name without the scheduled time the
 * CronJob controller appends, `<cronjob>-<minutes since 1970>`), any other owner by its name (a
 * StatefulSet, CloudNativePG's Cluster for its instance pods), and a pod without owner by its own
 * name. `label_replace` overwrites the `service` target label only when its regex matches, so
 * every regex here matches any non-empty name. `topk` keeps one owner per pod: a pod with two
 * owner references would otherwise break every `group_left` join on it.
 */
export function podWorkload(selector: string, options: { readonly withoutJobPods?: boolean } = {}): string {
  const owner = (kind: string) => `kube_pod_owner{${matchers(selector, kind)}}`;
  const branches = [
    `label_replace(${owner('owner_kind="ReplicaSet"')}, "service", "$1", "owner_name", "(.+?)(-[^-]+)?")`,
    ...(options.withoutJobPods ? [] : [`label_replace(${owner('owner_kind="Job"')}, "service", "$1", "owner_name", "(.+?)(-[0-9]+)?")`]),
    `label_replace(${owner('owner_kind!~"ReplicaSet|Job|"')}, "service", "$1", "owner_name", "(.+)")`,
    `label_replace(${owner('owner_kind=""')}, "service", "$1", "pod", "(.+)")`,
  ];
  return `topk by (namespace, pod) (1, max by (namespace, pod, service) (\n  ${branches.join('\n  or ')}\n))`;
}

/** `expr` (series with `namespace` and `pod`) with the `service` of the pod's workload. */
function withWorkload(expr: string, workloads: string): string {
  return `(\n${expr}\n)\n* on (namespace, pod) group_left (service)\n${workloads}`;
}

/** Claims of one component, watched together: the component is the alerts' `service`. */
export interface WatchedVolumes {
  /** The component the claims belong to (the PostgreSQL cluster, the Redis StatefulSet, the uploads claim). */
  readonly service: string;
  /** RE2 regex of the claims' names (anchored by Prometheus). */
  readonly claims: string;
  /** What stops when they are full, for the description. */
  readonly whenFull: string;
}

/**
 * The claims the data tier creates, by the names their controllers give them:
 * - CloudNativePG: `<cluster>-<serial>` for PGDATA and `<cluster>-<serial>-wal` for the WAL
 *   (cloudnative-pg v1.30.0 pkg/reconciler/persistentvolumeclaim/calculator.go, GetName;
 *   pkg/specs/pods.go, GetInstanceName);
 * - the Redis StatefulSet: `<claim template>-<statefulset>-<ordinal>`, its template `data`
 *   (charts/data/redis-sentinel.ts; test/workload-alerts.test.ts holds the two together);
 * - the uploads claim, by its name.
 * Backup scratch volumes are left out: they live only as long as one run, and a run that fills
 * one fails, which JobFailed reports.
 */
export function watchedVolumes(data: DataEndpoints): WatchedVolumes[] {
  return [
    ...(data.postgres ? [{
      service: data.postgres.cluster, claims: `${data.postgres.cluster}-[0-9]+(-wal)?`,
      whenFull: 'PostgreSQL stops: a full data volume fails every write, a full WAL volume shuts the instance down',
    }] : []),
    ...(data.redis ? [{
      service: data.redis.name, claims: `${REDIS_CLAIM_TEMPLATE}-${data.redis.name}-[0-9]+`,
      whenFull: 'Redis can no longer persist, and then refuses writes (sessions, caches)',
    }] : []),
    ...(data.uploads ? [{ service: data.uploads.claim, claims: data.uploads.claim, whenFull: 'uploads fail' }] : []),
  ];
}

/** The claim template of the Redis StatefulSet (charts/data/redis-sentinel.ts). */
export const REDIS_CLAIM_TEMPLATE = 'data';

export interface WorkloadAlertsProps {
  /** The application in its environment: its namespace is what the alerts watch. */
  readonly identity: AppIdentity;
  /** The claims to watch (watchedVolumes). */
  readonly volumes: readonly WatchedVolumes[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule's name. */
export const WORKLOAD_ALERTS = 'workload-alerts';

export class WorkloadAlerts extends Construct {
  constructor(scope: Construct, id: string, props: WorkloadAlertsProps) {
    super(scope, id);
    const { identity } = props;
    const ns = `namespace="${identity.namespace}"`;
    const workloads = podWorkload(ns);
    // Batch pods may sit in Pending (init containers) and run at their CPU limit: their Jobs have deadlines.
    const longRunning = podWorkload(ns, { withoutJobPods: true });

    const pods: Alert[] = [
      {
        // A container that exits again after every restart: the kubelet waits longer each time
        // (up to 5 minutes), so the pod serves nothing while its Deployment or StatefulSet counts
        // it. CrashLoopBackOff shows only while the container waits: seen in each 5-minute window
        // for 10 minutes is a loop, not one restart during a rollout.
        // Init containers too (CloudNativePG's instance pods start with one).
        alert: 'PodCrashLooping',
        expr: withWorkload(
          ['kube_pod_container', 'kube_pod_init_container'].map((family) =>
            `max by (namespace, pod, container) (${family}_status_restarts_total{${ns}})\nand on (namespace, pod, container)\n`
            + `max by (namespace, pod, container) (max_over_time(${family}_status_waiting_reason{${ns},reason="CrashLoopBackOff"}[5m]))`).join('\nor\n'),
          workloads,
        ),
        for: '10m',
        severity: 'warning',
        summary: '{{ $labels.service }}: container {{ $labels.container }} of pod {{ $labels.pod }} is crash-looping',
        description: 'Container {{ $labels.container }} of pod {{ $labels.pod }} ({{ $labels.service }}, namespace {{ $labels.namespace }}) '
          + 'has been in CrashLoopBackOff for 10 minutes and has restarted {{ $value }} times: it exits soon after every start.',
      },
      {
        // A pod that never becomes ready takes no traffic (Services and the gateway skip it) and
        // holds a replica the autoscaler and the PodDisruptionBudget count: Pending (no node has
        // room, a volume cannot attach), or running with a failing readiness probe. 15 minutes
        // leave room for an image pull and a JVM's start. Not a Job's pods: a backup's pod is
        // Pending for as long as its init container dumps the database, and a Job that cannot
        // run fails at its deadline (JobFailed).
        alert: 'PodNotReady',
        expr: withWorkload(
          `max by (namespace, pod, phase) (kube_pod_status_phase{${ns},phase=~"Pending|Running|Unknown"} == 1)\nunless on (namespace, pod)\n`
          + `max by (namespace, pod) (kube_pod_status_ready{${ns},condition="true"} == 1)`,
          longRunning,
        ),
        for: '15m',
        severity: 'warning',
        summary: '{{ $labels.service }}: pod {{ $labels.pod }} has not been ready for 15 minutes',
        description: 'Pod {{ $labels.pod }} ({{ $labels.service }}, namespace {{ $labels.namespace }}) is {{ $labels.phase }} and has not been '
          + 'ready for 15 minutes: it takes no traffic.',
      },
      {
        // The kernel killed a container for going over its memory limit: it restarts with its
        // work lost (requests in flight, a cache), and it will again under the same load. Any
        // such restart is worth a ticket: the limit is a setting (`services.<name>.resources`).
        alert: 'ContainerOomKilled',
        expr: withWorkload(
          `max by (namespace, pod, container) (increase(kube_pod_container_status_restarts_total{${ns}}[15m])) > 0\nand on (namespace, pod, container)\n`
          + `max by (namespace, pod, container) (kube_pod_container_status_last_terminated_reason{${ns},reason="OOMKilled"})`,
          workloads,
        ),
        severity: 'warning',
        summary: '{{ $labels.service }}: container {{ $labels.container }} of pod {{ $labels.pod }} was killed for running out of memory',
        description: 'Container {{ $labels.container }} of pod {{ $labels.pod }} ({{ $labels.service }}, namespace {{ $labels.namespace }}) '
          + 'went over its memory limit, was killed (OOMKilled) and restarted; about {{ printf "%.0f" $value }} restart(s) in the last 15 minutes.',
      },
      {
        // A container held back by its CPU limit in a quarter of its scheduling periods for 15
        // minutes is short of CPU most of the time: answers slow down (a JVM's garbage collector
        // is throttled first) well before the CPU use shown anywhere reaches the limit. Batch
        // pods (backups, migrations) may run at their limit: their deadlines say when too slow.
        alert: 'CpuThrottlingHigh',
        expr: withWorkload(
          `sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{${ns},container!=""}[5m]))\n/\n`
          + `sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{${ns},container!=""}[5m]))\n> 0.25`,
          longRunning,
        ),
        for: '15m',
        severity: 'warning',
        summary: '{{ $labels.service }}: container {{ $labels.container }} of pod {{ $labels.pod }} is throttled by its CPU limit',
        description: 'Container {{ $labels.container }} of pod {{ $labels.pod }} ({{ $labels.service }}, namespace {{ $labels.namespace }}) '
          + 'was held back by its CPU limit in {{ $value | humanizePercentage }} of its scheduling periods over 5 minutes, for 15 minutes.',
      },
    ];

    const rollouts: Alert[] = [
      {
        // A release that stopped half way: replicas still run the previous version and no
        // replica was updated for 15 minutes (new pods crash, are never ready, cannot be
        // scheduled). Users get both versions, and the next release queues behind this one. A
        // StatefulSet counts as rolling out while its current and update revisions differ.
        alert: 'RolloutStuck',
        expr: `label_replace(\n`
          + `  max by (namespace, deployment) (kube_deployment_spec_replicas{${ns}})\n`
          + `  - max by (namespace, deployment) (kube_deployment_status_replicas_updated{${ns}}) > 0\n`
          + `  and on (namespace, deployment) max by (namespace, deployment) (changes(kube_deployment_status_replicas_updated{${ns}}[15m])) == 0,\n`
          + `  "service", "$1", "deployment", "(.+)")\nor\nlabel_replace(\n`
          + `  max by (namespace, statefulset) (kube_statefulset_replicas{${ns}})\n`
          + `  - max by (namespace, statefulset) (kube_statefulset_status_replicas_updated{${ns}}) > 0\n`
          + `  and on (namespace, statefulset) (max by (namespace, statefulset, revision) (kube_statefulset_status_current_revision{${ns}})\n`
          + `    unless on (namespace, statefulset, revision) max by (namespace, statefulset, revision) (kube_statefulset_status_update_revision{${ns}}))\n`
          + `  and on (namespace, statefulset) max by (namespace, statefulset) (changes(kube_statefulset_status_replicas_updated{${ns}}[15m])) == 0,\n`
          + `  "service", "$1", "statefulset", "(.+)")`,
        for: '5m',
        severity: 'warning',
        summary: '{{ $labels.service }}: the rollout is stuck',
        description: '{{ $labels.service }} (namespace {{ $labels.namespace }}) has {{ $value }} replica(s) still on the previous version, '
          + 'and no replica was updated in the last 20 minutes.',
      },
      {
        // At its maximum the autoscaler can absorb no more load: 30 minutes there is sustained
        // demand, not a burst, and the next rise in traffic becomes latency and errors. (An
        // autoscaler whose minimum is its maximum is always there, and is left out.)
        alert: 'HpaMaxedOut',
        expr: `label_replace(\n`
          + `  max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${ns}})\n`
          + `  >= on (namespace, horizontalpodautoscaler) max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${ns}})\n`
          + `  and on (namespace, horizontalpodautoscaler) (max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${ns}})\n`
          + `    > on (namespace, horizontalpodautoscaler) max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas{${ns}})),\n`
          + `  "service", "$1", "horizontalpodautoscaler", "(.+)")`,
        for: '30m',
        severity: 'warning',
        summary: '{{ $labels.service }} has run at its maximum number of replicas for 30 minutes',
        description: 'The HorizontalPodAutoscaler {{ $labels.horizontalpodautoscaler }} (namespace {{ $labels.namespace }}) has kept '
          + '{{ $labels.service }} at its maximum of {{ $value }} replicas for 30 minutes: it cannot scale out any further.',
      },
    ];

    const jobOwner = `kube_job_owner{${ns},owner_kind="CronJob"}`;
    const jobs: Alert[] = [{
      // A Job that gave up (retries spent, deadline passed, an exit code no retry fixes): a
      // backup not taken, a migration not applied, a smoke test failed. A failed run of a
      // CronJob stays for days (failedJobsHistoryLimit, TTL); once a later run of the same
      // CronJob has succeeded it is history, and the alert ends. `service` is the Job's owner
      // (its CronJob; the PostgreSQL cluster for CloudNativePG's own Jobs), or the Job itself.
      alert: 'JobFailed',
      expr: `(\n`
        + `  max by (namespace, job_name) (kube_job_failed{${ns},condition="true"}) == 1\n`
        + `  unless on (namespace, job_name) (\n`
        + `    max by (namespace, job_name) (kube_job_status_start_time{${ns}})\n`
        + `    * on (namespace, job_name) group_left (cronjob) max by (namespace, job_name, cronjob) (label_replace(${jobOwner}, "cronjob", "$1", "owner_name", "(.+)"))\n`
        + `    < on (namespace, cronjob) group_left max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${ns}})\n`
        + `  )\n)\n* on (namespace, job_name) group_left (service)\n`
        + `topk by (namespace, job_name) (1, max by (namespace, job_name, service) (\n`
        + `  label_replace(kube_job_owner{${ns},owner_kind!=""}, "service", "$1", "owner_name", "(.+)")\n`
        + `  or label_replace(kube_job_owner{${ns},owner_kind=""}, "service", "$1", "job_name", "(.+)")\n))`,
      severity: 'warning',
      summary: '{{ $labels.service }}: Job {{ $labels.job_name }} failed',
      description: 'Job {{ $labels.job_name }} of {{ $labels.service }} (namespace {{ $labels.namespace }}) failed, '
        + 'and no later run of it has succeeded.',
    }];

    const volumes: Alert[] = props.volumes.flatMap((v) => {
      const claims = `${ns},persistentvolumeclaim=~"${v.claims}"`;
      const share = `(\n  min by (namespace, persistentvolumeclaim) (kubelet_volume_stats_available_bytes{${claims}})\n`
        + `  / max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{${claims}})\n)`;
      // Every kubelet that mounts a claim reports it (the uploads claim is ReadWriteMany): the
      // fullest view of each, once.
      const trend = (window: string, horizon: string) =>
        `min by (namespace, persistentvolumeclaim) (predict_linear(kubelet_volume_stats_available_bytes{${claims}}[${window}], ${horizon}))`;
      const labels = { namespace: identity.namespace, service: v.service };
      return [
        {
          // Days ahead: time to grow the claim (`data.<component>.storage.size`, on a storage
          // class that allows expansion) in working hours. The last 6 hours' trend, on a volume
          // with less than a fifth left, so that a daily cycle does not cry wolf.
          alert: 'VolumeFillingUp',
          expr: `${share} < 0.2\nand on (namespace, persistentvolumeclaim)\n${trend('6h', '4 * 86400')} < 0`,
          for: '1h',
          severity: 'warning',
          labels,
          summary: `${v.service}: volume {{ $labels.persistentvolumeclaim }} fills up within 4 days`,
          description: `Volume {{ $labels.persistentvolumeclaim }} of ${v.service} (namespace {{ $labels.namespace }}) has `
            + `{{ $value | humanizePercentage }} of its space left and, at the rate of the last 6 hours, is full within 4 days; then ${v.whenFull}.`,
        },
        {
          // Hours away from an outage: less than 5 % left, or full within 6 hours at the last
          // hour's rate (WAL that stopped archiving fills its volume that fast).
          alert: 'VolumeAlmostFull',
          expr: `${share} < 0.05\nor\n${share} < 0.2\nand on (namespace, persistentvolumeclaim)\n${trend('1h', '6 * 3600')} < 0`,
          for: '2m',
          severity: 'critical',
          labels,
          summary: `${v.service}: volume {{ $labels.persistentvolumeclaim }} is almost full`,
          description: `Volume {{ $labels.persistentvolumeclaim }} of ${v.service} (namespace {{ $labels.namespace }}) has only `
            + `{{ $value | humanizePercentage }} of its space left, or fills within 6 hours at the last hour's rate; when it is full ${v.whenFull}.`,
        },
      ];
    });

    new AlertRules(this, 'rules', {
      identity,
      name: WORKLOAD_ALERTS,
      labelName: 'workloads',
      runbookBase: props.runbookBase,
      groups: [
        { name: 'workloads.pods', alerts: pods },
        { name: 'workloads.rollouts', alerts: rollouts },
        { name: 'workloads.jobs', alerts: jobs },
        ...(volumes.length > 0 ? [{ name: 'workloads.volumes', alerts: volumes }] : []),
      ],
    });
  }
}
