/**
 * The staging load test Argo CD runs after every sync: a PostSync hook Job, in the wave after the
 * smoke test (charts/common/sync-waves.ts, LOAD_TEST_WAVE), that runs k6 (charts/app/scripts/load-test.js)
 * against the public hosts at the configured arrival rate, with thresholds derived from the SLO. A
 * missed threshold fails k6 (exit 99), so the hook, so the sync: the release is not promoted. Its
 * pods reach the Gateway over HTTPS and name resolution only (the model's flows).
 */
import { Construct } from 'constructs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { AppIdentity } from '../../environments/model/identity';
import { parseDuration } from '../../environments/quantity';
import type { Environment } from '../../environments/schema';
import { batchPodBasics, IGNORE_DISRUPTION } from '../common/batch-pod';
import { K6_IMAGE, K6_IMAGE_UID } from '../common/images';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { readScript } from '../common/shipped-files';
import { LOAD_TEST_WAVE } from '../common/sync-waves';
import { TERMINATION_MESSAGE } from '../common/termination-message';
import { POST_SYNC_HOOK, SCRIPTS_FOLDER } from './smoke-test-job';

export const LOAD_TEST_SCRIPT = 'load-test.js';
/** The generated settings beside the script in the ConfigMap. */
export const LOAD_TEST_CONFIG_FILE = 'config.json';
export const LOAD_TEST_MOUNT_PATH = '/opt/load-test';
export const LOAD_TEST_CONTAINER = 'load-test';

/**
 * k6's own allowances, on top of the configured duration: requests still running when it ends get
 * gracefulStop to finish, and none may take longer than the request timeout.
 */
export const LOAD_TEST_K6 = { gracefulStopSeconds: 30, requestTimeoutSeconds: 20 } as const;
/** Pulling the image, starting the pod, k6's start and its end-of-test summary. */
const STARTUP_SECONDS = 90;

export type Slo = Environment['slo'];

/** A k6 threshold of the long form: abortOnFail stops the run as soon as the SLO is clearly missed. */
export interface Threshold { readonly threshold: string; readonly abortOnFail?: boolean; readonly delayAbortEval?: string }

/** 0.1 + 0.2 = 0.30000000000000004: a threshold is written as a person would (the SLO has few digits). */
const tidy = (n: number) => Number(n.toPrecision(10));

/**
 * The thresholds of a run that meets the SLO, in k6's syntax: the share of failed requests (5xx and
 * no answer, as the availability SLO counts them; the script's response callback) below the error
 * budget, and the SLO's latency percentile below its threshold. 0.999 / 0.99 / 0.5 s →
 * `rate<0.001`, `p(99)<500`.
 * The error rate aborts the run once a minute has shown it: a broken release need not be loaded
 * for the whole duration, and the first seconds' handful of requests would judge too early. The
 * latency is judged over the whole run only: a percentile of the first seconds is cold caches.
 */
export function loadTestThresholds(slo: Slo): Record<string, Threshold[]> {
  return {
    http_req_failed: [{ threshold: `rate<${tidy(1 - slo.availability)}`, abortOnFail: true, delayAbortEval: '1m' }],
    http_req_duration: [{ threshold: `p(${tidy(slo.latency * 100)})<${tidy(slo.latencyThresholdSeconds * 1000)}` }],
  };
}

export interface LoadTestHost {
  readonly hostname: string;
  /** The paths asked on it. */
  readonly paths: readonly string[];
}

/** What the script reads (its header says the format). */
export interface LoadTestSettings {
  readonly targets: readonly string[];
  readonly requestsPerSecond: number;
  readonly virtualUsers: number;
  readonly duration: string;
  readonly gracefulStop: string;
  readonly requestTimeout: string;
  readonly thresholds: Record<string, Threshold[]>;
}

export function loadTestSettings(hosts: readonly LoadTestHost[], load: LoadTestLoad, slo: Slo): LoadTestSettings {
  const targets = hosts.flatMap((h) => h.paths.map((p) => `https://${h.hostname}${p}`));
  if (targets.length === 0) throw new Error('a load test of no target loads nothing, and would always pass');
  return {
    targets,
    requestsPerSecond: load.requestsPerSecond,
    virtualUsers: load.virtualUsers,
    duration: `${parseDuration(load.duration)}s`,
    gracefulStop: `${LOAD_TEST_K6.gracefulStopSeconds}s`,
    requestTimeout: `${LOAD_TEST_K6.requestTimeoutSeconds}s`,
    thresholds: loadTestThresholds(slo),
  };
}

/** The Job's deadline: the run, k6's grace for the last requests, the pod's start and the summary. */
export function loadTestDeadlineSeconds(duration: string): number {
  return parseDuration(duration) + LOAD_TEST_K6.gracefulStopSeconds + STARTUP_SECONDS;
}

/**
 * The pod's resources from the VUs it keeps: k6's documentation puts a simple HTTP script's VU at
 * 1–5 MB, so 64 Mi for k6 itself and 4 Mi a VU (requested and the limit: no overcommit that the
 * OOM killer settles mid-run), and 100m of CPU plus 10m a VU, up to twice that in bursts (TLS
 * handshakes of new connections).
 */
export function loadTestResources(virtualUsers: number) {
  const memory = `${64 + 4 * virtualUsers}Mi`;
  const cpu = 100 + 10 * virtualUsers;
  return { requests: { cpu: `${cpu}m`, memory }, limits: { cpu: `${2 * cpu}m`, memory } };
}

export interface LoadTestLoad {
  readonly requestsPerSecond: number;
  readonly virtualUsers: number;
  /** Go-style duration (`5m`). */
  readonly duration: string;
}

export interface LoadTestJobProps {
  readonly identity: AppIdentity;
  /** Name of the Job, its ServiceAccount and ConfigMap and its pods' `app.kubernetes.io/name` (FIXED_NAMES.loadTest). */
  readonly name: string;
  readonly hosts: readonly LoadTestHost[];
  readonly load: LoadTestLoad;
  readonly slo: Slo;
  /** PriorityClass of the pod. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class LoadTestJob extends Construct {
  constructor(scope: Construct, id: string, props: LoadTestJobProps) {
    super(scope, id);
    const { identity, name } = props;
    const metadata = appMetadata(identity, { name, component: 'load-test' });
    const settings = loadTestSettings(props.hosts, props.load, props.slo);

    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata,
      data: { [LOAD_TEST_SCRIPT]: readScript(SCRIPTS_FOLDER, LOAD_TEST_SCRIPT), [LOAD_TEST_CONFIG_FILE]: `${JSON.stringify(settings, null, 2)}\n` },
    }));
    // It talks to the public hosts only.
    new ModelObject(this, 'ServiceAccount', new ServiceAccount({ metadata, automountServiceAccountToken: false }));

    new ModelObject(this, 'Job', new Job({
      // Its own wave, after the smoke test's: PostSync hooks run wave by wave.
      metadata: { ...metadata, annotations: { ...POST_SYNC_HOOK, 'argocd.argoproj.io/sync-wave': String(LOAD_TEST_WAVE) } },
      spec: {
        // A second run would load the hosts again for a result already known.
        backoffLimit: 0,
        activeDeadlineSeconds: loadTestDeadlineSeconds(props.load.duration),
        // As the smoke test's: BeforeHookCreation removes it, not a TTL (argoproj/argo-cd#21055).
        podFailurePolicy: { rules: [IGNORE_DISRUPTION] },
        template: {
          metadata: { labels: recommendedLabels(identity, name, 'load-test') },
          spec: {
            ...batchPodBasics(name, props.priorityClassName),
            securityContext: restrictedPodSecurityContext(K6_IMAGE_UID),
            terminationGracePeriodSeconds: 10,
            containers: [{
              name: LOAD_TEST_CONTAINER,
              image: K6_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              // No usage report to Grafana: its flow is not allowed, and a test run is nobody's statistic.
              command: ['k6', 'run', '--no-usage-report', `${LOAD_TEST_MOUNT_PATH}/${LOAD_TEST_SCRIPT}`],
              env: [{ name: 'LOAD_TEST_CONFIG', value: `${LOAD_TEST_MOUNT_PATH}/${LOAD_TEST_CONFIG_FILE}` }],
              resources: loadTestResources(props.load.virtualUsers),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [
                { name: 'load-test', mountPath: LOAD_TEST_MOUNT_PATH, readOnly: true },
                // k6 keeps nothing on disk in this run, but Go's temporary files go to /tmp: a small
                // scratch volume rather than a run that fails on a read-only root filesystem.
                { name: 'tmp', mountPath: '/tmp' },
              ],
              ...TERMINATION_MESSAGE,
            }],
            volumes: [
              { name: 'load-test', configMap: { name, defaultMode: 0o444 } },
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    }));
  }
}
