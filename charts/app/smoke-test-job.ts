/**
 * The smoke test Argo CD runs after every sync: a PostSync hook Job that asks each public host what a
 * visitor gets (charts/app/scripts/smoke-test.sh): every routed path over HTTPS with a certificate
 * curl trusts, a status below 500 and the security headers the HTTPRoutes set, and plain HTTP
 * redirected to HTTPS. A failed check fails the hook, and so the sync. Its pods reach the
 * Gateway and name resolution only (their NetworkPolicy comes from the model's flows, with every
 * other: charts/security/network-policies.ts).
 */
import type { IHTTPRouteFilter } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRouteFilter';
import { Construct } from 'constructs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { AppIdentity } from '../../environments/model/identity';
import { batchPodBasics, IGNORE_DISRUPTION } from '../common/batch-pod';
import { CURL_IMAGE, CURL_IMAGE_UID } from '../common/images';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { readScript } from '../common/shipped-files';
import { TERMINATION_MESSAGE } from '../common/termination-message';

/** The script's folder, relative to the repository root. */
export const SCRIPTS_FOLDER = 'charts/app/scripts';
export const SMOKE_TEST_SCRIPT = 'smoke-test.sh';
/** The generated check list beside the script in the ConfigMap. */
export const CHECKS_FILE = 'checks';
/** Where the pod mounts the ConfigMap. */
export const SMOKE_TEST_MOUNT_PATH = '/opt/smoke-test';
/** The container's name, for `kubectl logs job/smoke-test -c smoke-test`. */
export const SMOKE_TEST_CONTAINER = 'smoke-test';

/**
 * How long the script keeps trying: the Gateway may take a few seconds to program what the sync just
 * applied, so the whole list is tried up to 12 times, 10 s apart (some two minutes when requests fail
 * fast: refused, 5xx, a bad certificate); one request may take 10 s, a slow first page included.
 */
export const SMOKE_TEST_RETRIES = { attempts: 12, pauseSeconds: 10, requestTimeoutSeconds: 10 } as const;

/** Pulling the image and starting the pod, on top of the script's own worst case. */
const STARTUP_SECONDS = 60;

/**
 * Annotations of a PostSync hook that Argo CD deletes only when it creates the next one: the last
 * run's Job and its pod (with the report in its log) stay until the next sync. With a Job name (not
 * generateName), Argo CD needs BeforeHookCreation to run it again at all.
 */
export const POST_SYNC_HOOK: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/hook': 'PostSync',
  'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
};

export interface ExpectedHeader { readonly name: string; readonly value: string }

/** The response headers the smoke test requires of every HTTPS answer. */
export interface ExpectedHeaders {
  /** Headers the route sets: exactly one of each, with exactly this value. */
  readonly equals: readonly ExpectedHeader[];
  /** Headers the route adds beside the application's own: one of its values is this one. */
  readonly includes: readonly ExpectedHeader[];
}

/**
 * What a route's ResponseHeaderModifier makes every response carry, as the smoke test checks it: the
 * routes' own filter (charts/app/public-routes.ts, securityHeaders) is the one statement of both.
 */
export function expectedHeaders(filter: IHTTPRouteFilter): ExpectedHeaders {
  const modifier = filter.responseHeaderModifier;
  if (filter.type !== 'ResponseHeaderModifier' || !modifier) throw new Error(`a ${filter.type} filter sets no response header`);
  const headers = (list: readonly ExpectedHeader[] = []) => list.map(({ name, value }) => ({ name, value }));
  return { equals: headers(modifier.set), includes: headers(modifier.add) };
}

export interface SmokeTestHost {
  readonly hostname: string;
  /** The path prefixes the host routes, each checked as itself. */
  readonly paths: readonly string[];
}

/** The check list the script reads (its format: the script's header). */
export function checkList(hosts: readonly SmokeTestHost[], headers: ExpectedHeaders): string {
  if (hosts.length === 0) throw new Error('a smoke test of no host checks nothing, and would always pass');
  const words = /^\S+$/;
  const lines = [
    '# What the smoke test checks, generated from the configuration (charts/app/smoke-test-job.ts).',
    ...hosts.flatMap((h) => [...h.paths.map((path) => `https ${h.hostname} ${path}`), `http ${h.hostname}`]),
    ...headers.equals.map((h) => `header-equals ${h.name} ${h.value}`),
    ...headers.includes.map((h) => {
      // The script splits a header's values at commas (a proxy may join repeated headers).
      if (h.value.includes(',')) throw new Error(`an added header's value cannot hold a comma: ${h.name}: ${h.value}`);
      return `header-includes ${h.name} ${h.value}`;
    }),
  ];
  for (const w of [...hosts.flatMap((h) => [h.hostname, ...h.paths]), ...[...headers.equals, ...headers.includes].map((h) => h.name)]) {
    if (!words.test(w)) throw new Error(`"${w}" cannot be a word of the smoke test's check list`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The Job's deadline: the script's own worst case (every request of every attempt running into its
 * timeout, and every pause) and the pod's start, so the deadline never cuts the report short.
 */
export function smokeTestDeadlineSeconds(hosts: readonly SmokeTestHost[]): number {
  const requests = hosts.reduce((n, h) => n + h.paths.length + 1, 0);
  const { attempts, pauseSeconds, requestTimeoutSeconds } = SMOKE_TEST_RETRIES;
  return attempts * requests * requestTimeoutSeconds + (attempts - 1) * pauseSeconds + STARTUP_SECONDS;
}

export interface SmokeTestJobProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /**
   * Name of the Job, its ServiceAccount and ConfigMap, and its pods' `app.kubernetes.io/name`
   * (environments/model/names.ts, FIXED_NAMES.smokeTest), by which its NetworkPolicy selects them.
   */
  readonly name: string;
  /** The public hosts and the paths each routes. */
  readonly hosts: readonly SmokeTestHost[];
  /** The headers every HTTPS answer must carry (expectedHeaders of the routes' filter). */
  readonly headers: ExpectedHeaders;
  /**
   * Whether the hosts' certificates are verified: only where their issuer is publicly trusted
   * (environments/model/tls.ts). A Let's Encrypt staging certificate would fail every check, and
   * so every sync, although the release is fine.
   */
  readonly verifyCertificates: boolean;
  /** PriorityClass of the pod. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

export class SmokeTestJob extends Construct {
  constructor(scope: Construct, id: string, props: SmokeTestJobProps) {
    super(scope, id);
    const { identity, name } = props;
    const metadata = appMetadata(identity, { name, component: 'smoke-test' });

    // Plain objects, not hooks: a PostSync hook runs after the sync applied them, and the check
    // list shows in Argo CD's diff like any other change.
    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata,
      data: { [SMOKE_TEST_SCRIPT]: readScript(SCRIPTS_FOLDER, SMOKE_TEST_SCRIPT), [CHECKS_FILE]: checkList(props.hosts, props.headers) },
    }));
    // It talks to the public hosts only; a mounted token would only be something to steal.
    new ModelObject(this, 'ServiceAccount', new ServiceAccount({ metadata, automountServiceAccountToken: false }));

    const { attempts, pauseSeconds, requestTimeoutSeconds } = SMOKE_TEST_RETRIES;
    new ModelObject(this, 'Job', new Job({
      metadata: { ...metadata, annotations: { ...POST_SYNC_HOOK } },
      spec: {
        // The script retries itself; a second pod would only repeat its report.
        backoffLimit: 0,
        activeDeadlineSeconds: smokeTestDeadlineSeconds(props.hosts),
        // No ttlSecondsAfterFinished: BeforeHookCreation removes the Job at the next sync, and a
        // Job deleted behind Argo CD's back while it waits on the hook leaves the sync stuck
        // (argoproj/argo-cd#21055); the failed run's pod holds the report.
        podFailurePolicy: { rules: [IGNORE_DISRUPTION] },
        template: {
          metadata: { labels: recommendedLabels(identity, name, 'smoke-test') },
          spec: {
            ...batchPodBasics(name, props.priorityClassName),
            securityContext: restrictedPodSecurityContext(CURL_IMAGE_UID),
            terminationGracePeriodSeconds: 10,
            containers: [{
              name: SMOKE_TEST_CONTAINER,
              image: CURL_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              // The image's sh (BusyBox), whatever the mounted file's mode; the script writes no file,
              // so the read-only root filesystem needs no scratch volume.
              command: ['sh', `${SMOKE_TEST_MOUNT_PATH}/${SMOKE_TEST_SCRIPT}`],
              env: [
                { name: 'SMOKE_TEST_CHECKS', value: `${SMOKE_TEST_MOUNT_PATH}/${CHECKS_FILE}` },
                { name: 'SMOKE_TEST_ATTEMPTS', value: String(attempts) },
                { name: 'SMOKE_TEST_PAUSE_SECONDS', value: String(pauseSeconds) },
                { name: 'SMOKE_TEST_TIMEOUT_SECONDS', value: String(requestTimeoutSeconds) },
                { name: 'SMOKE_TEST_VERIFY_CERTIFICATES', value: String(props.verifyCertificates) },
              ],
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [{ name: 'smoke-test', mountPath: SMOKE_TEST_MOUNT_PATH, readOnly: true }],
              // The report's last lines in the pod's status, where `kubectl describe` shows them.
              ...TERMINATION_MESSAGE,
            }],
            volumes: [{ name: 'smoke-test', configMap: { name, defaultMode: 0o444 } }],
          },
        },
      },
    }));
  }
}
