/**
 * The API server's audit policy (charts/logging/audit-policy.ts): each environment's committed
 * cluster/<env>/audit-policy.yaml is what `npm run synth` writes from its model and lies outside
 * what Argo CD syncs; it is a valid audit.k8s.io/v1 Policy by a strict schema written from the
 * upstream types and validation; and its rules, evaluated the way kube-apiserver evaluates them
 * (first match wins), give each kind of request the level it must have, so a reordering that
 * would log a Secret's body, or lose an exec, fails here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import {
  auditPolicy, auditPolicyFile, auditPolicyPath, CLUSTER_DIR, environmentAuditPolicy, WRITE_VERBS, type AuditLevel, type AuditPolicy,
} from '../charts/logging/audit-policy';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { ARGOCD_DIR, DIST_DIR } from '../environments/model/delivery';
import { buildModel } from '../environments/model/model';
import { synthesizeAll } from '../pipeline/pipeline';
import { auditLevel, decidingRule, ruleMatches, type AuditRequest, type ResourceRequest } from './support/audit-policy-evaluator';

const root = process.cwd();
const models = resolveEnvironments(environments, root).map(buildModel);

// ---- the schema ---------------------------------------------------------------------------------
// From kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go (commit
// 0a40c4e8a5678c0e8f4d01291875b754b0fc76fa: Policy, PolicyRule, GroupResources; every field, no
// other) and staging/src/k8s.io/apiserver/pkg/apis/audit/validation/validation.go (commit
// 15816b382ef2b81bd376fc2492062a8216e0a490: the level is required and one of four; stages are the
// four known; a non-resource URL is `*` or begins with `/` and has `*` only last; a rule gives
// resources or namespaces, or non-resource URLs, not both; a group is a DNS subdomain; resourceNames
// need resources).

const strings = { type: 'array', items: { type: 'string' } };
const stages = { type: 'array', items: { enum: ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] } };
const nonEmpty = (field: string) => ({ required: [field], properties: { [field]: { type: 'array', minItems: 1 } } });

const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'rules'],
  properties: {
    apiVersion: { const: 'audit.k8s.io/v1' },
    kind: { const: 'Policy' },
    metadata: { type: 'object' },
    omitStages: stages,
    omitManagedFields: { type: 'boolean' },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['level'],
        properties: {
          level: { enum: ['None', 'Metadata', 'Request', 'RequestResponse'] },
          users: strings,
          userGroups: strings,
          verbs: strings,
          resources: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: {
                // NameIsDNSSubdomain: at most 253 characters of lower-case RFC 1123 labels.
                group: { type: 'string', maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
                resources: strings,
                resourceNames: strings,
              },
              if: nonEmpty('resourceNames'),
              then: nonEmpty('resources'),
            },
          },
          namespaces: strings,
          nonResourceURLs: { type: 'array', items: { type: 'string', pattern: '^(\\*|/[^*]*\\*?)$' } },
          omitStages: stages,
          omitManagedFields: { type: 'boolean' },
        },
        if: nonEmpty('nonResourceURLs'),
        then: { not: { anyOf: [nonEmpty('resources'), nonEmpty('namespaces')] } },
      },
    },
  },
};

const validate = new Ajv({ allErrors: true, strict: true }).compile(POLICY_SCHEMA);
const problems = (policy: unknown) => (validate(policy) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

describe('the files', () => {
  test.each(models.map((m) => [m.env.name, m] as const))('%s: committed, what npm run synth writes, parsed back to the policy of its namespace', async (name, model) => {
    const { documents } = await synthesizeAll(environments, root);
    const path = auditPolicyPath(name);
    expect(documents.get(path)).toBe(auditPolicyFile(model));
    expect(readFileSync(join(root, path), 'utf8')).toBe(documents.get(path));
    const policy = parse(documents.get(path)!) as AuditPolicy;
    expect(policy).toEqual(environmentAuditPolicy(model));
    expect(policy.rules.find((r) => r.level === 'Request')?.namespaces).toEqual([model.env.app.namespace]);
  });

  test('outside every folder Argo CD syncs: it is read by the API server, not applied as an object', () => {
    // The Applications sync dist/<env> (the application) and argocd/<env> (the root): a Policy there
    // would be applied, and refused (no such kind in the cluster).
    for (const m of models) {
      const path = auditPolicyPath(m.env.name);
      expect(path.startsWith(`${CLUSTER_DIR}/`)).toBe(true);
      for (const synced of [DIST_DIR, ARGOCD_DIR, m.delivery.distPath, m.delivery.argocdPath]) expect(path.startsWith(`${synced}/`)).toBe(false);
    }
  });

  test('yamllint (go-yaml\'s concerns, the repository\'s configuration) passes on every file', () => {
    const r = spawnSync('yamllint', ['-s', '-f', 'parsable', '-c', join(root, '.yamllint.yaml'), ...models.map((m) => auditPolicyPath(m.env.name))], { cwd: root, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('schema (upstream types and validation)', () => {
  test.each(models.map((m) => [m.env.name, m] as const))('%s: the policy is valid', (_, model) => {
    expect(problems(environmentAuditPolicy(model))).toEqual([]);
  });

  const good = auditPolicy({ appNamespaces: ['app'] });
  const withRule = (rule: object) => ({ ...good, rules: [rule, ...good.rules] });
  test.each([
    ['an unknown field of the policy', { ...good, omitStage: ['RequestReceived'] }],
    ['an unknown field of a rule (namespace for namespaces)', withRule({ level: 'None', namespace: ['app'] })],
    ['an unknown field of a group', withRule({ level: 'None', resources: [{ group: '', resource: ['pods'] }] })],
    ['a rule without a level', withRule({ verbs: ['get'] })],
    ['an unknown level', withRule({ level: 'Full' })],
    ['an unknown stage', { ...good, omitStages: ['RequestDone'] }],
    ['a URL with a star inside', withRule({ level: 'None', nonResourceURLs: ['/healthz*/x'] })],
    ['a URL without its slash', withRule({ level: 'None', nonResourceURLs: ['healthz'] })],
    ['a rule for both resources and URLs', withRule({ level: 'None', resources: [{ group: '' }], nonResourceURLs: ['/healthz'] })],
    ['a rule for both namespaces and URLs', withRule({ level: 'None', namespaces: ['app'], nonResourceURLs: ['/healthz'] })],
    ['a group with a version', withRule({ level: 'None', resources: [{ group: 'rbac.authorization.k8s.io/v1' }] })],
    ['resourceNames without resources', withRule({ level: 'None', resources: [{ group: '', resourceNames: ['x'] }] })],
    ['another apiVersion', { ...good, apiVersion: 'audit.k8s.io/v1beta1' }],
  ])('refuses %s', (_, policy) => {
    expect(problems(policy)).not.toEqual([]);
  });
});

// ---- the rules, evaluated ----------------------------------------------------------------------

const human = { user: 'jane@example.org', groups: ['system:authenticated', 'developers'] };
const argocd = { user: 'system:serviceaccount:argocd:argocd-application-controller', groups: ['system:authenticated', 'system:serviceaccounts'] };
const kubelet = { user: 'system:node:worker-1', groups: ['system:authenticated', 'system:nodes'] };
const kubeProxy = { user: 'system:kube-proxy', groups: ['system:authenticated'] };
const sliceController = { user: 'system:serviceaccount:kube-system:endpointslice-controller', groups: ['system:authenticated', 'system:serviceaccounts'] };
const anonymous = { user: 'system:anonymous', groups: ['system:unauthenticated'] };

type Case = [string, AuditRequest, AuditLevel];

/** What must be recorded how, for an application namespace `ns` (a request's namespace and the level the policy must give it). */
function table(ns: string): Case[] {
  const inApp = (r: Omit<ResourceRequest, 'namespace'>): ResourceRequest => ({ ...r, namespace: ns });
  return [
    // A person in a container: with request and response, before the rule for changes in the namespace.
    ['kubectl exec into an api pod (POST)', inApp({ ...human, verb: 'create', group: '', resource: 'pods', subresource: 'exec', name: 'api-7d9f-abcde' }), 'RequestResponse'],
    ['kubectl exec into an api pod (websocket GET)', inApp({ ...human, verb: 'get', group: '', resource: 'pods', subresource: 'exec', name: 'api-7d9f-abcde' }), 'RequestResponse'],
    ['kubectl attach', inApp({ ...human, verb: 'create', group: '', resource: 'pods', subresource: 'attach', name: 'web-1' }), 'RequestResponse'],
    ['kubectl port-forward to PostgreSQL', inApp({ ...human, verb: 'create', group: '', resource: 'pods', subresource: 'portforward', name: 'db-1' }), 'RequestResponse'],
    ['kubectl debug (an ephemeral container)', inApp({ ...human, verb: 'patch', group: '', resource: 'pods', subresource: 'ephemeralcontainers', name: 'web-1' }), 'RequestResponse'],
    ['kubectl exec in another namespace', { ...human, verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'kube-system', name: 'coredns-1' }, 'RequestResponse'],
    // Credentials: never a body, read or written, here or elsewhere.
    ['get a Secret of the application', inApp({ ...human, verb: 'get', group: '', resource: 'secrets', name: 'student-portal-db-app' }), 'Metadata'],
    ['list the Secrets of the application', inApp({ ...human, verb: 'list', group: '', resource: 'secrets' }), 'Metadata'],
    ['External Secrets writes a Secret of the application', inApp({ ...argocd, user: 'system:serviceaccount:external-secrets:external-secrets', verb: 'update', group: '', resource: 'secrets', name: 'student-portal-redis-auth' }), 'Metadata'],
    ['a person creates a Secret in the application\'s namespace', inApp({ ...human, verb: 'create', group: '', resource: 'secrets' }), 'Metadata'],
    ['Argo CD patches a ConfigMap of the application', inApp({ ...argocd, verb: 'patch', group: '', resource: 'configmaps', name: 'backup-scripts' }), 'Metadata'],
    ['a kubelet reads a Secret for a pod', inApp({ ...kubelet, verb: 'get', group: '', resource: 'secrets', name: 'student-portal-restic' }), 'Metadata'],
    ['a service account token is issued', inApp({ ...kubelet, verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', name: 'api' }), 'Metadata'],
    ['a token is reviewed', { ...argocd, verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }, 'Metadata'],
    ['a Secret in another namespace is written', { ...human, verb: 'update', group: '', resource: 'secrets', namespace: 'argocd', name: 'repo-creds' }, 'Metadata'],
    // Permissions: with the response, wherever they are granted.
    ['create a RoleBinding in the application\'s namespace', inApp({ ...human, verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings' }), 'RequestResponse'],
    ['patch a ClusterRole', { ...argocd, verb: 'patch', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'view' }, 'RequestResponse'],
    ['delete a ClusterRoleBinding', { ...human, verb: 'delete', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', name: 'admins' }, 'RequestResponse'],
    ['read a Role', inApp({ ...human, verb: 'get', group: 'rbac.authorization.k8s.io', resource: 'roles', name: 'api' }), 'Metadata'],
    // Changes in the application's namespace: with the request.
    ['Argo CD patches a Deployment of the application', inApp({ ...argocd, verb: 'patch', group: 'apps', resource: 'deployments', name: 'api' }), 'Request'],
    ['a person scales a Deployment', inApp({ ...human, verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale', name: 'web' }), 'Request'],
    ['a person deletes a pod', inApp({ ...human, verb: 'delete', group: '', resource: 'pods', name: 'api-7d9f-abcde' }), 'Request'],
    ['Argo CD creates an ExternalSecret (references, no values)', inApp({ ...argocd, verb: 'create', group: 'external-secrets.io', resource: 'externalsecrets' }), 'Request'],
    ['a person edits the CloudNativePG Cluster', inApp({ ...human, verb: 'patch', group: 'postgresql.cnpg.io', resource: 'clusters', name: 'student-portal-db' }), 'Request'],
    ['all pods deleted at once', inApp({ ...human, verb: 'deletecollection', group: '', resource: 'pods' }), 'Request'],
    // Reads, and changes elsewhere: metadata.
    ['read a Deployment of the application', inApp({ ...human, verb: 'get', group: 'apps', resource: 'deployments', name: 'api' }), 'Metadata'],
    ['read a pod\'s log', inApp({ ...human, verb: 'get', group: '', resource: 'pods', subresource: 'log', name: 'api-7d9f-abcde' }), 'Metadata'],
    ['a Deployment changes in another namespace', { ...argocd, verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'cert-manager', name: 'cert-manager' }, 'Metadata'],
    ['a Namespace is created', { ...argocd, verb: 'create', group: '', resource: 'namespaces', namespace: '' }, 'Metadata'],
    ['a person reads a Node', { ...human, verb: 'get', group: '', resource: 'nodes', name: 'worker-1' }, 'Metadata'],
    ['someone unauthenticated asks for the API\'s discovery', { ...anonymous, verb: 'get', path: '/apis' }, 'Metadata'],
    ['kube-proxy reads a Secret (not what it does)', inApp({ ...kubeProxy, verb: 'watch', group: '', resource: 'secrets' }), 'Metadata'],
    // Noise: dropped, even in the application's namespace.
    ['kube-proxy watches endpoints', inApp({ ...kubeProxy, verb: 'watch', group: '', resource: 'endpoints' }), 'None'],
    ['kube-proxy watches EndpointSlices', { ...kubeProxy, verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' }, 'None'],
    ['a kubelet reads its Node', { ...kubelet, verb: 'get', group: '', resource: 'nodes', name: 'worker-1' }, 'None'],
    ['the EndpointSlice controller updates a slice of the application', inApp({ ...sliceController, verb: 'update', group: 'discovery.k8s.io', resource: 'endpointslices', name: 'api-x7k2p' }), 'None'],
    ['a kubelet renews its Lease', { ...kubelet, verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'worker-1' }, 'None'],
    ['an operator renews its leader Lease in the application\'s namespace', inApp({ ...argocd, verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: 'leader' }), 'None'],
    ['a kubelet writes an Event in the application\'s namespace', inApp({ ...kubelet, verb: 'create', group: '', resource: 'events' }), 'None'],
    ['a controller writes an events.k8s.io Event', inApp({ ...argocd, verb: 'create', group: 'events.k8s.io', resource: 'events' }), 'None'],
    ['the API server reads a Namespace', { user: 'system:apiserver', groups: ['system:authenticated', 'system:masters'], verb: 'get', group: '', resource: 'namespaces', namespace: ns, name: ns }, 'None'],
    ['a load balancer probes /readyz', { ...anonymous, verb: 'get', path: '/readyz' }, 'None'],
    ['a probe of one health check', { ...anonymous, verb: 'get', path: '/livez/etcd' }, 'None'],
    ['Prometheus scrapes /metrics', { ...argocd, user: 'system:serviceaccount:monitoring:prometheus', verb: 'get', path: '/metrics' }, 'None'],
    ['kubectl asks /version', { ...human, verb: 'get', path: '/version' }, 'None'],
    ['kubectl discovers the API groups', { ...human, verb: 'get', path: '/apis/apps/v1' }, 'None'],
    ['kubectl reads the OpenAPI', { ...human, verb: 'get', path: '/openapi/v3' }, 'None'],
    // A resource under a discovery path is a resource request: not the discovery rule's.
    ['a person lists pods (under /api, but a resource)', inApp({ ...human, verb: 'list', group: '', resource: 'pods' }), 'Metadata'],
  ];
}

describe.each(models.map((m) => [m.env.name, m] as const))('%s: the level of each request', (_, model) => {
  const policy = environmentAuditPolicy(model);
  const ns = model.env.app.namespace;

  test.each(table(ns))('%s', (_, request, level) => {
    expect(auditLevel(policy, request)).toBe(level);
  });

  test('one event per request, when it is answered: RequestReceived omitted for every rule (a rule can only omit more)', () => {
    expect(policy.omitStages).toEqual(['RequestReceived']);
  });

  test('every rule decides at least one request of the table: none is shadowed by those before it', () => {
    const deciding = new Set(table(ns).map(([, r]) => decidingRule(policy, r)));
    expect(policy.rules.map((_, i) => i).filter((i) => !deciding.has(i))).toEqual([]);
    // The catch-all comes last: no request goes unrecorded for want of a rule.
    expect(policy.rules.at(-1)).toEqual({ level: 'Metadata' });
  });

  test('no request for a Secret, ConfigMap, token or token review is ever recorded with a body, whoever makes it, in any namespace', () => {
    const sensitive = [['', 'secrets', undefined], ['', 'configmaps', undefined], ['', 'serviceaccounts', 'token'], ['authentication.k8s.io', 'tokenreviews', undefined]] as const;
    const verbs = ['get', 'list', 'watch', ...WRITE_VERBS];
    for (const [group, resource, subresource] of sensitive) {
      for (const verb of verbs) {
        for (const who of [human, argocd, kubelet, kubeProxy, sliceController]) {
          for (const namespace of [ns, '', 'kube-system', 'argocd']) {
            const level = auditLevel(policy, { ...who, verb, group, resource, subresource, namespace });
            expect([`${resource} ${verb} ${who.user} ${namespace}`, level]).toEqual([`${resource} ${verb} ${who.user} ${namespace}`, expect.stringMatching(/^(None|Metadata)$/)]);
          }
        }
      }
    }
  });

  test('every change in the application\'s namespace is recorded with at least its request, but for the listed noise and credentials', () => {
    const resources = [['apps', 'deployments'], ['', 'pods'], ['', 'services'], ['networking.k8s.io', 'networkpolicies'], ['batch', 'jobs'], ['policy', 'poddisruptionbudgets']] as const;
    for (const [group, resource] of resources) {
      for (const verb of WRITE_VERBS) {
        for (const who of [human, argocd]) expect([resource, verb, auditLevel(policy, { ...who, verb, group, resource, namespace: ns })]).toEqual([resource, verb, 'Request']);
      }
    }
  });

  test('the order matters: the same rules with the namespace\'s changes first would record exec at Request and Secrets\' bodies', () => {
    const writes = policy.rules.findIndex((r) => r.level === 'Request');
    const reordered = { rules: [policy.rules[writes], ...policy.rules.filter((_, i) => i !== writes)] };
    const [exec] = table(ns);
    expect(auditLevel(reordered, exec[1])).toBe('Request');
    expect(auditLevel(reordered, { ...human, verb: 'create', group: '', resource: 'secrets', namespace: ns })).toBe('Request');
  });
});

describe('the evaluator follows checker.go', () => {
  const r = (over: Partial<ResourceRequest>): ResourceRequest => ({ ...human, verb: 'get', group: '', resource: 'pods', namespace: 'app', ...over });
  test('no rule matching means None; an empty rule matches everything', () => {
    expect(auditLevel({ rules: [] }, r({}))).toBe('None');
    expect(auditLevel({ rules: [{ level: 'Metadata' }] }, { ...human, verb: 'get', path: '/x' })).toBe('Metadata');
  });
  test('users, groups and verbs are an intersection; a group matches when any of the user\'s does', () => {
    const rule = { level: 'None' as const, users: ['jane@example.org'], userGroups: ['developers'], verbs: ['get'] };
    expect(ruleMatches(rule, r({}))).toBe(true);
    expect(ruleMatches(rule, r({ verb: 'list' }))).toBe(false);
    expect(ruleMatches(rule, r({ groups: ['system:authenticated'] }))).toBe(false);
    expect(ruleMatches(rule, r({ user: 'joe' }))).toBe(false);
  });
  test('resources: a subresource only as resource/sub, `*`, `*/sub` or `resource/*`; names; the group exactly; "" for cluster-scoped', () => {
    const only = (resources: string[], resourceNames?: string[]) => ({ level: 'None' as const, resources: [{ group: '', resources, resourceNames }] });
    expect(ruleMatches(only(['pods']), r({ subresource: 'exec' }))).toBe(false);
    expect(ruleMatches(only(['pods/exec']), r({ subresource: 'exec' }))).toBe(true);
    expect(ruleMatches(only(['*']), r({ subresource: 'exec' }))).toBe(true);
    expect(ruleMatches(only(['*/exec']), r({ subresource: 'exec' }))).toBe(true);
    expect(ruleMatches(only(['pods/*']), r({ subresource: 'log' }))).toBe(true);
    expect(ruleMatches(only(['pods'], ['a']), r({ name: 'b' }))).toBe(false);
    expect(ruleMatches(only(['pods'], ['a']), r({ name: 'a' }))).toBe(true);
    expect(ruleMatches(only(['deployments']), r({ group: 'apps', resource: 'deployments' }))).toBe(false);
    expect(ruleMatches({ level: 'None', resources: [{ group: 'apps' }] }, r({ group: 'apps', resource: 'deployments' }))).toBe(true);
    expect(ruleMatches({ level: 'None', namespaces: [''] }, r({ resource: 'nodes', namespace: undefined }))).toBe(true);
    expect(ruleMatches({ level: 'None', namespaces: ['app'] }, { ...human, verb: 'get', path: '/api' })).toBe(false);
  });
  test('URLs: exact, or a prefix before a final `*`; never a resource request', () => {
    const urls = (nonResourceURLs: string[]) => ({ level: 'None' as const, nonResourceURLs });
    expect(ruleMatches(urls(['/healthz']), { ...human, verb: 'get', path: '/healthz/etcd' })).toBe(false);
    expect(ruleMatches(urls(['/healthz*']), { ...human, verb: 'get', path: '/healthz/etcd' })).toBe(true);
    expect(ruleMatches(urls(['*']), { ...human, verb: 'get', path: '/anything' })).toBe(true);
    expect(ruleMatches(urls(['*']), r({}))).toBe(false);
  });
});
