/**
 * The Kubernetes API server's audit policy (`audit.k8s.io/v1` Policy) for each environment's
 * cluster, from its model. Not an object in the cluster: kube-apiserver reads it from a file
 * (`--audit-policy-file`), so it is written as a generated file of its own,
 * `cluster/<env>/audit-policy.yaml`, outside dist/ and argocd/ (which Argo CD syncs and would try
 * to apply it from), and `npm run synth -- --check` holds it to what the sources give like every
 * other generated file. docs/logging.md says how to install it.
 *
 * The rules are tried in order and the first that matches decides the level (upstream
 * staging/src/k8s.io/apiserver/pkg/audit/policy/checker.go): noise first, then what must never log
 * a body, then what must log more than metadata, then the catch-all.
 */
import { stringify } from 'yaml';
import type { Model } from '../../environments/model/model';
import { YAML_OPTIONS } from '../../pipeline/synth';

/** Folder (relative to the repository) of the files each environment's control plane reads. */
export const CLUSTER_DIR = 'cluster';

/** Where an environment's policy is written, relative to the repository. */
export function auditPolicyPath(env: string): string {
  return `${CLUSTER_DIR}/${env}/audit-policy.yaml`;
}

// The shape of audit.k8s.io/v1 (staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go).
export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface GroupResources {
  /** API group; '' is the core group. */
  readonly group: string;
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface PolicyRule {
  readonly level: AuditLevel;
  readonly users?: readonly string[];
  readonly userGroups?: readonly string[];
  readonly verbs?: readonly string[];
  readonly resources?: readonly GroupResources[];
  readonly namespaces?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly omitStages?: readonly AuditStage[];
  readonly omitManagedFields?: boolean;
}

export interface AuditPolicy {
  readonly apiVersion: 'audit.k8s.io/v1';
  readonly kind: 'Policy';
  readonly omitStages: readonly AuditStage[];
  readonly omitManagedFields: boolean;
  readonly rules: readonly PolicyRule[];
}

/** The verbs that change something (the API server's names for POST, PUT, PATCH and DELETE). */
export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;

/**
 * Requests too frequent and too routine to keep, each limited to who makes them, so the same
 * request by anyone else is still recorded.
 */
const NOISE: readonly PolicyRule[] = [
  // kube-proxy watches the Services and their endpoints of the whole cluster, and the nodes.
  {
    level: 'None',
    users: ['system:kube-proxy'],
    verbs: ['watch'],
    resources: [
      { group: '', resources: ['endpoints', 'services', 'services/status', 'nodes'] },
      { group: 'discovery.k8s.io', resources: ['endpointslices'] },
    ],
  },
  // Every kubelet reads its Node object every few seconds.
  { level: 'None', userGroups: ['system:nodes'], verbs: ['get'], resources: [{ group: '', resources: ['nodes', 'nodes/status'] }] },
  // The controllers that keep the endpoints of every Service: an update whenever a pod turns ready or goes.
  {
    level: 'None',
    users: [
      'system:kube-controller-manager',
      'system:cloud-controller-manager',
      'system:kube-scheduler',
      'system:serviceaccount:kube-system:endpoint-controller',
      'system:serviceaccount:kube-system:endpointslice-controller',
      'system:serviceaccount:kube-system:endpointslicemirroring-controller',
    ],
    verbs: ['get', 'update', 'patch'],
    resources: [{ group: '', resources: ['endpoints'] }, { group: 'discovery.k8s.io', resources: ['endpointslices'] }],
  },
  { level: 'None', users: ['system:apiserver'], verbs: ['get'], resources: [{ group: '', resources: ['namespaces', 'namespaces/status', 'namespaces/finalize'] }] },
  // Leader election and node heartbeats: every controller and kubelet renews its Lease every few seconds.
  { level: 'None', verbs: ['get', 'list', 'watch', 'update', 'patch'], resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
  // Events are a log already, written by every component.
  { level: 'None', resources: [{ group: '', resources: ['events'] }, { group: 'events.k8s.io', resources: ['events'] }] },
  // Probes and scrapes of the API server itself, by anyone (load balancers probe unauthenticated).
  { level: 'None', verbs: ['get'], nonResourceURLs: ['/healthz*', '/livez*', '/readyz*', '/version*', '/metrics*'] },
  // API discovery by signed-in clients (every kubectl command starts with it); not by strangers.
  { level: 'None', userGroups: ['system:authenticated'], verbs: ['get'], nonResourceURLs: ['/api*', '/openapi*'] },
];

/**
 * Objects whose bodies hold credentials or may: Secrets, ConfigMaps, the service account tokens the
 * API server issues (in the response) and the tokens others ask it to review (in the request).
 * Recorded who, what and when, never the body, in every namespace: before any rule below that
 * records bodies.
 */
const CREDENTIALS: PolicyRule = {
  level: 'Metadata',
  resources: [
    { group: '', resources: ['secrets', 'configmaps', 'serviceaccounts/token'] },
    { group: 'authentication.k8s.io', resources: ['tokenreviews'] },
  ],
};

/**
 * A person inside a container: exec, attach and port-forward (the command and container are in
 * the request's URI), and a debug container added to a running pod (its spec is the request).
 */
const INTERACTIVE: PolicyRule = {
  level: 'RequestResponse',
  resources: [{ group: '', resources: ['pods/exec', 'pods/attach', 'pods/portforward', 'pods/ephemeralcontainers'] }],
};

/**
 * Who was given which permissions: a patch alone does not say what a Role grants afterwards, the
 * response does.
 */
const RBAC_WRITES: PolicyRule = {
  level: 'RequestResponse',
  verbs: [...WRITE_VERBS],
  resources: [{ group: 'rbac.authorization.k8s.io', resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] }],
};

export interface AuditPolicyProps {
  /** The application's namespaces: every change there is recorded with what was sent. */
  readonly appNamespaces: readonly string[];
}

/**
 * The policy: noise dropped, credentials at Metadata, a person in a container and RBAC changes
 * with request and response, every other change in the application's namespaces with its request
 * (what was changed and how; the response, the whole object again, would double what every Argo
 * CD sync writes), everything else at Metadata.
 */
export function auditPolicy({ appNamespaces }: AuditPolicyProps): AuditPolicy {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    // An event when a request arrives and another when it is answered say the same twice.
    omitStages: ['RequestReceived'],
    // managedFields repeat, for every field, who set it: noise in a recorded body.
    omitManagedFields: true,
    rules: [
      ...NOISE,
      CREDENTIALS,
      INTERACTIVE,
      RBAC_WRITES,
      { level: 'Request', verbs: [...WRITE_VERBS], namespaces: [...appNamespaces] },
      { level: 'Metadata' },
    ],
  };
}

/** The policy of one environment's cluster, from its model. */
export function environmentAuditPolicy(model: Model): AuditPolicy {
  return auditPolicy({ appNamespaces: [model.env.app.namespace] });
}

/** The file kube-apiserver reads, with a header saying where it comes from. */
export function auditPolicyFile(model: Model): string {
  return `# Generated by shipshape from environments/${model.env.name}.ts (charts/logging/audit-policy.ts): do not edit, run npm run synth.\n`
    + '# The API server\'s --audit-policy-file, not a cluster object: see docs/logging.md.\n'
    + stringify(environmentAuditPolicy(model), YAML_OPTIONS);
}

/** Every environment's policy file, by path relative to the repository. */
export function auditPolicyFiles(models: readonly Model[]): [string, string][] {
  return models.map((m) => [auditPolicyPath(m.env.name), auditPolicyFile(m)]);
}
