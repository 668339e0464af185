/**
 * Policy rules: the real output of every environment passes each rule, and each rule has failing
 * fixtures that make exactly that rule fire, with the exact object and message. A fixture is the
 * real output of one environment with one surgical change, or a few objects added to it.
 */
import { synthObjects } from '../charts/synth';
import {
  RULES, checkPolicy, parseImage, podTemplate, selectorMatches,
  type K8sObject, type PolicyContext, type Violation,
} from '../charts/common/policy';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';

type EnvName = 'staging' | 'production';

const real = Object.fromEntries(resolveEnvironments(environments, process.cwd()).map((env) => [env.name, {
  objects: synthObjects(env).map((o) => o.object),
  // As charts/synth.ts builds it.
  ctx: { production: env.production, appImageRepositories: new Set(Object.values(env.services).map((s) => s.image.repository)) } as PolicyContext,
}])) as Record<EnvName, { objects: K8sObject[]; ctx: PolicyContext }>;

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** The real objects of an environment, deep-copied, with lookups that fail loudly. */
function output(env: EnvName) {
  const objects = structuredClone(real[env].objects);
  const find = (kind: string, name: string): K8sObject => {
    const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!found) throw new Error(`fixture: ${env} has no ${kind} ${name}`);
    return found;
  };
  const ns = find('Deployment', 'api').metadata.namespace as string;
  const container = (deployment: string): K8sObject => find('Deployment', deployment).spec.template.spec.containers[0];
  const podSpec = (deployment: string): K8sObject => find('Deployment', deployment).spec.template.spec;
  const remove = (kind: string, name: string) => objects.splice(objects.indexOf(find(kind, name)), 1);
  /** A new object of the app, with the recommended labels. */
  const add = (o: K8sObject) => {
    o.metadata = { ...o.metadata, labels: { ...find('Deployment', 'api').metadata.labels, ...o.metadata?.labels } };
    objects.push(o);
    return o;
  };
  /** A second container like the main one of `deployment`, for init containers and sidecars. */
  const extraContainer = (deployment: string, name: string): K8sObject => {
    const c = structuredClone(container(deployment));
    for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe', 'lifecycle', 'ports']) delete c[k];
    return { ...c, name };
  };
  /** A CronJob running the pod template of the api Deployment (its labels, so its policies apply). */
  const cronJob = (): K8sObject => add({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'report', namespace: ns },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: structuredClone(find('Deployment', 'api').spec.template) } } },
  });
  return { objects, find, ns, container, podSpec, remove, add, extraContainer, cronJob };
}

type Output = ReturnType<typeof output>;

interface Fixture {
  readonly rule: string;
  readonly name: string;
  readonly env: EnvName;
  /** Mutates the environment's real output. */
  readonly change: (o: Output) => void;
  /** Every violation the whole policy reports for the changed output. */
  readonly expected: (o: Output) => Omit<Violation, 'rule'>[];
}

const FIXTURES: Fixture[] = [
  // pod-security-restricted
  {
    rule: 'pod-security-restricted', name: 'privilege escalation allowed', env: 'production',
    change: (o) => { o.container('api').securityContext.allowPrivilegeEscalation = true; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: allowPrivilegeEscalation must be false' }],
  },
  {
    rule: 'pod-security-restricted', name: 'hostPath volume', env: 'production',
    change: (o) => { o.podSpec('web').volumes.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }); },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pod: volume docker is of type hostPath, which restricted does not allow' }],
  },
  {
    rule: 'pod-security-restricted', name: 'nfs volume (not in the restricted list)', env: 'staging',
    change: (o) => { o.podSpec('web').volumes.push({ name: 'shared', nfs: { server: 'nfs.example', path: '/export' } }); },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pod: volume shared is of type nfs, which restricted does not allow' }],
  },
  {
    rule: 'pod-security-restricted', name: 'container seccomp Unconfined', env: 'production',
    change: (o) => { o.container('web').securityContext.seccompProfile = { type: 'Unconfined' }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: seccompProfile Unconfined is not allowed (RuntimeDefault or Localhost)' }],
  },
  {
    rule: 'pod-security-restricted', name: 'pod seccomp Unconfined although containers set RuntimeDefault', env: 'production',
    change: (o) => { o.podSpec('web').securityContext.seccompProfile = { type: 'Unconfined' }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pod: seccompProfile Unconfined is not allowed (RuntimeDefault or Localhost)' }],
  },
  {
    rule: 'pod-security-restricted', name: 'no seccomp profile at either level', env: 'production',
    change: (o) => {
      delete o.podSpec('api').securityContext.seccompProfile;
      delete o.container('api').securityContext.seccompProfile;
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: seccompProfile must be RuntimeDefault or Localhost (on the container or the pod)' }],
  },
  {
    rule: 'pod-security-restricted', name: 'runAsNonRoot at neither level', env: 'production',
    change: (o) => {
      delete o.podSpec('api').securityContext.runAsNonRoot;
      delete o.container('api').securityContext.runAsNonRoot;
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: runAsNonRoot must be true (on the container or the pod)' }],
  },
  {
    rule: 'pod-security-restricted', name: 'container runAsNonRoot false overrides the pod', env: 'production',
    change: (o) => { o.container('api').securityContext.runAsNonRoot = false; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: runAsNonRoot is false' }],
  },
  {
    rule: 'pod-security-restricted', name: 'capability other than NET_BIND_SERVICE', env: 'production',
    change: (o) => { o.container('api').securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_ADMIN']; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: adds capability SYS_ADMIN' }],
  },
  {
    rule: 'pod-security-restricted', name: 'capabilities not dropped', env: 'production',
    change: (o) => { o.container('api').securityContext.capabilities.drop = ['NET_RAW']; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: capabilities must drop ALL' }],
  },
  {
    rule: 'pod-security-restricted', name: 'privileged init container', env: 'production',
    change: (o) => {
      const init = o.extraContainer('api', 'migrate');
      init.securityContext.privileged = true;
      o.podSpec('api').initContainers = [init];
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container migrate: privileged' }],
  },
  {
    rule: 'pod-security-restricted', name: 'CronJob pod running as root', env: 'production',
    change: (o) => { o.cronJob().spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsUser = 0; },
    expected: ({ ns }) => [{ object: `CronJob ${ns}/report`, message: 'container api: runs as UID 0' }],
  },
  {
    rule: 'pod-security-restricted', name: 'host network and host port', env: 'production',
    change: (o) => {
      o.podSpec('web').hostNetwork = true;
      o.container('web').ports[0].hostPort = 3000;
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'pod: hostNetwork is set' },
      { object: `Deployment ${ns}/web`, message: 'container web: hostPort 3000' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'writable root filesystem', env: 'staging',
    change: (o) => { o.container('web').securityContext.readOnlyRootFilesystem = false; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: readOnlyRootFilesystem must be true' }],
  },
  {
    rule: 'pod-security-restricted', name: 'unsafe sysctl and procMount', env: 'production',
    change: (o) => {
      o.podSpec('web').securityContext.sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '65536' }];
      o.container('web').securityContext.procMount = 'Unmasked';
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'pod: sysctl kernel.msgmax is not in the safe set' },
      { object: `Deployment ${ns}/web`, message: 'container web: procMount Unmasked' },
    ],
  },
  // resources
  {
    rule: 'resources', name: 'no memory limit', env: 'production',
    change: (o) => { delete o.container('api').resources.limits.memory; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api has no limits.memory' }],
  },
  {
    rule: 'resources', name: 'init container without a CPU request', env: 'staging',
    change: (o) => {
      const init = o.extraContainer('web', 'wait');
      delete init.resources.requests.cpu;
      o.podSpec('web').initContainers = [init];
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container wait has no requests.cpu' }],
  },
  // probes
  {
    rule: 'probes', name: 'no liveness probe', env: 'production',
    change: (o) => { delete o.container('web').livenessProbe; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web has no livenessProbe' }],
  },
  {
    rule: 'probes', name: 'probe without a handler', env: 'production',
    change: (o) => { o.container('web').readinessProbe = { periodSeconds: 10 }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: readinessProbe has no handler (httpGet, tcpSocket, grpc or exec)' }],
  },
  {
    rule: 'probes', name: 'probe on an undeclared named port', env: 'production',
    change: (o) => { o.container('api').readinessProbe.httpGet.port = 'management'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: readinessProbe uses port management, which the container does not declare' }],
  },
  {
    rule: 'probes', name: 'sidecar (init container with restartPolicy Always) without probes', env: 'production',
    change: (o) => { o.podSpec('api').initContainers = [{ ...o.extraContainer('api', 'proxy'), restartPolicy: 'Always' }]; },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'container proxy has no readinessProbe' },
      { object: `Deployment ${ns}/api`, message: 'container proxy has no livenessProbe' },
    ],
  },
  // image-tags
  {
    rule: 'image-tags', name: 'latest tag', env: 'staging',
    change: (o) => { o.container('web').image = 'registry.university.example/student-portal/web:latest'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web uses the latest tag (registry.university.example/student-portal/web:latest)' }],
  },
  {
    rule: 'image-tags', name: 'latest tag even when pinned by digest (production)', env: 'production',
    change: (o) => { o.container('web').image = `registry.university.example/student-portal/web:latest@${DIGEST}`; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: `container web uses the latest tag (registry.university.example/student-portal/web:latest@${DIGEST})` }],
  },
  {
    rule: 'image-tags', name: 'untagged image behind a registry port', env: 'staging',
    change: (o) => { o.container('api').image = 'registry:5000/student-portal/api'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api image has no tag or digest (registry:5000/student-portal/api)' }],
  },
  {
    rule: 'image-tags', name: 'malformed digest', env: 'staging',
    change: (o) => { o.container('api').image = 'registry.example/api@sha256:abc'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api image has a malformed digest (registry.example/api@sha256:abc)' }],
  },
  {
    rule: 'image-tags', name: 'untagged image in a CronJob init container', env: 'staging',
    change: (o) => {
      o.cronJob().spec.jobTemplate.spec.template.spec.initContainers = [{ ...o.extraContainer('api', 'fetch'), image: 'busybox' }];
    },
    expected: ({ ns }) => [{ object: `CronJob ${ns}/report`, message: 'container fetch image has no tag or digest (busybox)' }],
  },
  // app-images-by-digest
  {
    rule: 'app-images-by-digest', name: 'app image by tag only in production', env: 'production',
    change: (o) => { o.container('web').image = 'registry.university.example/student-portal/web:2.14.0'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web image registry.university.example/student-portal/web:2.14.0 is not pinned by digest' }],
  },
  // pdb-for-multi-replica
  {
    rule: 'pdb-for-multi-replica', name: 'PodDisruptionBudget removed', env: 'production',
    change: (o) => { o.remove('PodDisruptionBudget', 'web'); },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' }],
  },
  {
    rule: 'pdb-for-multi-replica', name: 'PodDisruptionBudget selects other pods', env: 'staging',
    change: (o) => { o.find('PodDisruptionBudget', 'api').spec.selector.matchLabels['app.kubernetes.io/name'] = 'apii'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' }],
  },
  // topology-spread
  {
    rule: 'topology-spread', name: 'no zone spread', env: 'production',
    change: (o) => {
      const spec = o.podSpec('web');
      spec.topologySpreadConstraints = spec.topologySpreadConstraints.filter((t: K8sObject) => t.topologyKey !== 'topology.kubernetes.io/zone');
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pods are not spread over topology.kubernetes.io/zone' }],
  },
  {
    rule: 'topology-spread', name: 'constraints whose selector does not select the pods', env: 'production',
    change: (o) => {
      for (const t of o.podSpec('api').topologySpreadConstraints) t.labelSelector.matchLabels['app.kubernetes.io/name'] = 'web';
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'pods are not spread over kubernetes.io/hostname' },
      { object: `Deployment ${ns}/api`, message: 'pods are not spread over topology.kubernetes.io/zone' },
    ],
  },
  // network-policy-coverage
  {
    rule: 'network-policy-coverage', name: 'default-deny removed', env: 'production',
    change: (o) => { o.remove('NetworkPolicy', 'default-deny'); },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that allows all ingress', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.ingress = [{}]; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny for ingress only', env: 'staging',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.policyTypes = ['Ingress']; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' }],
  },
  {
    rule: 'network-policy-coverage', name: 'pod selected by no policy of its own', env: 'production',
    change: (o) => { o.remove('NetworkPolicy', 'api'); },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' }],
  },
  {
    rule: 'network-policy-coverage', name: 'a podSelector with empty matchLabels selects every pod, naming none', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'web').spec.podSelector = { matchLabels: {} }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' }],
  },
  // service-selects-pods
  {
    rule: 'service-selects-pods', name: 'selector matches no pod template', env: 'production',
    change: (o) => { o.find('Service', 'api').spec.selector['app.kubernetes.io/name'] = 'apii'; },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: 'selects no pod template' }],
  },
  {
    rule: 'service-selects-pods', name: 'no selector', env: 'production',
    change: (o) => { delete o.find('Service', 'web').spec.selector; },
    expected: ({ ns }) => [{ object: `Service ${ns}/web`, message: 'has no selector' }],
  },
  {
    rule: 'service-selects-pods', name: 'target port the container does not declare', env: 'production',
    change: (o) => { o.find('Service', 'api').spec.ports[0].targetPort = 'metrics'; },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: `port http targets metrics, which Deployment ${ns}/api does not declare` }],
  },
  {
    rule: 'service-selects-pods', name: 'selector too broad: one selected template lacks the port', env: 'production',
    change: (o) => {
      const svc = o.find('Service', 'api');
      delete svc.spec.selector['app.kubernetes.io/name'];
      // Every web workload (not the data tier's and backup pods, which would add their own lines).
      svc.spec.selector['app.kubernetes.io/component'] = 'workload';
      svc.spec.ports[0].targetPort = 8080;
    },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: `port http targets 8080, which Deployment ${ns}/web does not declare` }],
  },
  // httproute-backends-exist
  {
    rule: 'httproute-backends-exist', name: 'backend Service missing', env: 'production',
    change: (o) => { o.find('Service', 'api').metadata.name = 'api-v2'; },
    expected: (o) => [{ object: route(o), message: `backend Service ${o.ns}/api does not exist` }],
  },
  {
    rule: 'httproute-backends-exist', name: 'backend port not exposed', env: 'staging',
    change: (o) => { publicRoute(o).spec.rules.find((r: K8sObject) => r.backendRefs?.[0]?.name === 'web').backendRefs[0].port = 3000; },
    expected: (o) => [{ object: route(o), message: 'backend Service web has no port 3000' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'backend that is not a Service', env: 'production',
    change: (o) => { Object.assign(publicRoute(o).spec.rules[0].backendRefs[0], { group: 'apps', kind: 'Deployment' }); },
    expected: (o) => [{ object: route(o), message: 'backend Deployment/api is not a Service' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'request mirror to a missing Service', env: 'production',
    change: (o) => {
      publicRoute(o).spec.rules[0].filters.push({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } });
    },
    expected: (o) => [{ object: route(o), message: `backend Service ${o.ns}/shadow does not exist` }],
  },
  // hpa-target-exists
  {
    rule: 'hpa-target-exists', name: 'target missing', env: 'production',
    change: (o) => { o.find('HorizontalPodAutoscaler', 'api').spec.scaleTargetRef.name = 'api-v2'; },
    expected: ({ ns }) => [{ object: `HorizontalPodAutoscaler ${ns}/api`, message: 'target apps/v1 Deployment api-v2 does not exist' }],
  },
  {
    rule: 'hpa-target-exists', name: 'target of another API group', env: 'staging',
    change: (o) => { o.find('HorizontalPodAutoscaler', 'web').spec.scaleTargetRef.apiVersion = 'argoproj.io/v1alpha1'; },
    expected: ({ ns }) => [{ object: `HorizontalPodAutoscaler ${ns}/web`, message: 'target argoproj.io/v1alpha1 Deployment web does not exist' }],
  },
  {
    rule: 'hpa-target-exists', name: 'target sets replicas', env: 'production',
    change: (o) => { o.find('Deployment', 'web').spec.replicas = 3; },
    expected: ({ ns }) => [{ object: `HorizontalPodAutoscaler ${ns}/web`, message: 'target Deployment web sets replicas, which the HPA owns' }],
  },
  // no-secrets
  {
    rule: 'no-secrets', name: 'a Secret in the output', env: 'production',
    change: (o) => { o.add({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: o.ns }, stringData: { password: 'hunter2' } }); },
    expected: ({ ns }) => [{ object: `Secret ${ns}/db`, message: 'is a Secret; use an ExternalSecret' }],
  },
  // rbac-least-privilege
  {
    rule: 'rbac-least-privilege', name: 'binding to cluster-admin', env: 'production',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ci' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: o.ns }],
      });
    },
    expected: () => [{ object: 'ClusterRoleBinding ci', message: 'binds cluster-admin' }],
  },
  {
    rule: 'rbac-least-privilege', name: 'binding to system:masters', env: 'production',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ops', namespace: o.ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'view-pods' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }],
      });
    },
    expected: ({ ns }) => [{ object: `RoleBinding ${ns}/ops`, message: 'binds the system:masters group' }],
  },
  {
    rule: 'rbac-least-privilege', name: 'wildcard verbs and subresources', env: 'production',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'debug', namespace: o.ns },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods/*'], verbs: ['*'] }],
      });
    },
    expected: ({ ns }) => [
      { object: `Role ${ns}/debug`, message: 'rules[1].resources has the wildcard pods/*' },
      { object: `Role ${ns}/debug`, message: 'rules[1].verbs has the wildcard *' },
    ],
  },
  {
    rule: 'rbac-least-privilege', name: 'ClusterRole on every API group', env: 'staging',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' },
        rules: [{ apiGroups: ['*'], resources: ['configmaps'], verbs: ['get', 'list'] }],
      });
    },
    expected: () => [{ object: 'ClusterRole reader', message: 'rules[0].apiGroups has the wildcard *' }],
  },
  // recommended-labels
  {
    rule: 'recommended-labels', name: 'label missing', env: 'production',
    change: (o) => { delete o.find('Service', 'web').metadata.labels['app.kubernetes.io/part-of']; },
    expected: ({ ns }) => [{ object: `Service ${ns}/web`, message: 'has no app.kubernetes.io/part-of label' }],
  },
  // no-cdk8s-hash-labels
  {
    rule: 'no-cdk8s-hash-labels', name: 'hash label in a selector and template', env: 'production',
    change: (o) => {
      const d = o.find('Deployment', 'web');
      d.spec.selector.matchLabels['cdk8s.io/metadata.addr'] = 'c8deadbeef';
      d.spec.template.metadata.labels['cdk8s.io/metadata.addr'] = 'c8deadbeef';
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'carries the cdk8s.io/metadata.addr label' }],
  },
];

/** The HTTPRoute that serves the app (the one with backends). */
function publicRoute(o: Output): K8sObject {
  const route = o.objects.find((x) => x.kind === 'HTTPRoute' && x.spec?.rules?.some((r: K8sObject) => r.backendRefs?.length));
  if (!route) throw new Error('fixture: no HTTPRoute with backends');
  return route;
}
const route = (o: Output) => `HTTPRoute ${o.ns}/${publicRoute(o).metadata.name}`;

function run(f: Fixture): { actual: Violation[]; expected: Violation[] } {
  const o = output(f.env);
  f.change(o);
  return { actual: checkPolicy(o.objects, real[f.env].ctx), expected: f.expected(o).map((x) => ({ rule: f.rule, ...x })) };
}

describe('the real output', () => {
  const cases = (Object.keys(real) as EnvName[]).flatMap((env) => RULES.map((r) => [env, r.id] as const));
  test.each(cases)('%s passes %s', (env, id) => {
    const rule = RULES.find((r) => r.id === id)!;
    expect(rule.check(real[env].objects, real[env].ctx)).toEqual([]);
  });

  test('has workloads for the rules to judge (a rule over nothing passes trivially)', () => {
    for (const env of Object.keys(real) as EnvName[]) {
      const kinds = new Set(real[env].objects.map((o) => o.kind));
      for (const k of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'HTTPRoute']) expect(kinds).toContain(k);
    }
  });
});

describe('failing fixtures', () => {
  test.each(FIXTURES.map((f) => [f.rule, f.name, f] as const))('%s: %s', (_rule, _name, f) => {
    const { actual, expected } = run(f);
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  test('every rule has at least one failing fixture', () => {
    const covered = new Set(FIXTURES.map((f) => f.rule));
    expect(RULES.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  test('every fixture names a rule that exists', () => {
    const ids = new Set(RULES.map((r) => r.id));
    expect(FIXTURES.map((f) => f.rule).filter((id) => !ids.has(id))).toEqual([]);
  });

  test('rule ids are unique', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('app-images-by-digest', () => {
  const tagOnly = (env: EnvName) => {
    const o = output(env);
    o.container('web').image = 'registry.university.example/student-portal/web:2.14.0';
    return o.objects;
  };

  test('is silent outside production', () => {
    expect(checkPolicy(tagOnly('production'), { ...real.production.ctx, production: false })).toEqual([]);
    expect(checkPolicy(tagOnly('staging'), real.staging.ctx)).toEqual([]);
  });

  test('fires in production for staging\'s objects too: it follows ctx.production, not the namespace', () => {
    expect(checkPolicy(tagOnly('staging'), { ...real.staging.ctx, production: true }).map((x) => x.rule)).toEqual(['app-images-by-digest']);
  });

  test('judges only the application\'s own repositories, registry port included', () => {
    const o = output('production');
    o.container('web').image = 'registry:5000/team/web:1.2';
    o.container('api').image = 'docker.io/library/redis:7.4';
    const ctx = { production: true, appImageRepositories: new Set(['registry:5000/team/web']) };
    expect(checkPolicy(o.objects, ctx)).toEqual([{
      rule: 'app-images-by-digest', object: `Deployment ${o.ns}/web`, message: 'container web image registry:5000/team/web:1.2 is not pinned by digest',
    }]);
    o.container('web').image = `registry:5000/team/web@${DIGEST}`;
    expect(checkPolicy(o.objects, ctx)).toEqual([]);
  });
});

describe('accepted variants (no false positives)', () => {
  const clean = (env: EnvName, change: (o: Output) => void) => {
    const o = output(env);
    change(o);
    return checkPolicy(o.objects, real[env].ctx);
  };

  test('runAsNonRoot and seccomp set on the pod only', () => {
    expect(clean('production', (o) => {
      delete o.container('api').securityContext.runAsNonRoot;
      delete o.container('api').securityContext.seccompProfile;
    })).toEqual([]);
  });

  test('runAsNonRoot and seccomp set on every container only', () => {
    expect(clean('production', (o) => {
      delete o.podSpec('api').securityContext.runAsNonRoot;
      delete o.podSpec('api').securityContext.seccompProfile;
    })).toEqual([]);
  });

  test('NET_BIND_SERVICE, Localhost seccomp and every restricted volume type', () => {
    expect(clean('production', (o) => {
      o.container('web').securityContext.capabilities.add = ['NET_BIND_SERVICE'];
      o.container('web').securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'profiles/web.json' };
      o.podSpec('web').volumes.push(
        { name: 'cm', configMap: { name: 'web' } },
        { name: 'sec', secret: { secretName: 'web' } },
        { name: 'proj', projected: { sources: [] } },
        { name: 'down', downwardAPI: { items: [] } },
        { name: 'pvc', persistentVolumeClaim: { claimName: 'uploads' } },
        { name: 'eph', ephemeral: { volumeClaimTemplate: { spec: {} } } },
        { name: 'csi', csi: { driver: 'secrets-store.csi.k8s.io' } },
      );
    })).toEqual([]);
  });

  test('digest-only images and tags behind a registry port', () => {
    expect(clean('staging', (o) => {
      o.container('web').image = `registry:5000/student-portal/web@${DIGEST}`;
      o.container('api').image = 'registry:5000/student-portal/api:3.8.0';
    })).toEqual([]);
  });

  test('spreading by pod anti-affinity instead of topology constraints', () => {
    expect(clean('production', (o) => {
      const spec = o.podSpec('web');
      const labelSelector = { matchLabels: { ...spec.topologySpreadConstraints[0].labelSelector.matchLabels } };
      delete spec.topologySpreadConstraints;
      spec.affinity = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector, topologyKey: 'kubernetes.io/hostname' }],
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector, topologyKey: 'topology.kubernetes.io/zone' } }],
        },
      };
    })).toEqual([]);
  });

  test('a single-replica workload without HPA needs no PDB or spread', () => {
    expect(clean('production', (o) => {
      o.remove('HorizontalPodAutoscaler', 'web');
      o.remove('PodDisruptionBudget', 'web');
      o.find('Deployment', 'web').spec.replicas = 1;
      delete o.podSpec('web').topologySpreadConstraints;
    })).toEqual([]);
  });

  test('a Deployment with replicas 3 and no HPA does need a PDB', () => {
    expect(clean('production', (o) => {
      o.remove('HorizontalPodAutoscaler', 'web');
      o.remove('PodDisruptionBudget', 'web');
      o.find('Deployment', 'web').spec.replicas = 3;
    }).map((x) => `${x.rule}: ${x.object}`)).toEqual([`pdb-for-multi-replica: Deployment ${real.production.objects.find((x) => x.kind === 'Deployment')!.metadata.namespace}/web`]);
  });
});

describe('parseImage', () => {
  test.each([
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.27', { repository: 'nginx', tag: '1.27' }],
    ['registry:5000/app', { repository: 'registry:5000/app' }],
    ['registry:5000/app:1.2', { repository: 'registry:5000/app', tag: '1.2' }],
    [`registry:5000/team/app@${DIGEST}`, { repository: 'registry:5000/team/app', digest: DIGEST }],
    [`ghcr.io/org/app:1.0@${DIGEST}`, { repository: 'ghcr.io/org/app', tag: '1.0', digest: DIGEST }],
    ['app:', { repository: 'app' }],
  ])('%s', (image, expected) => {
    expect(parseImage(image)).toEqual({ tag: undefined, digest: undefined, ...expected });
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: 'front' };
  test.each([
    ['no selector selects nothing', undefined, false],
    ['null selector selects nothing', null, false],
    ['empty selector selects everything', {}, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, true],
    ['matchLabels differ', { matchLabels: { app: 'api' } }, false],
    ['matchLabels on a missing key', { matchLabels: { zone: 'a' } }, false],
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] }, true],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn excludes', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    ['NotIn on a missing key matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists on a prototype name is not a label', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['unknown operator selects nothing', { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }, false],
    ['all requirements must hold', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector as K8sObject | undefined, labels)).toBe(expected);
  });
});

describe('podTemplate', () => {
  test('finds the template of a CronJob, a Job and a bare Pod', () => {
    const spec = { containers: [{ name: 'c' }] };
    expect(podTemplate({ kind: 'CronJob', spec: { jobTemplate: { spec: { template: { metadata: { labels: { a: 'b' } }, spec } } } } }))
      .toEqual({ metadata: { labels: { a: 'b' } }, spec });
    expect(podTemplate({ kind: 'Job', spec: { template: { spec } } })).toEqual({ metadata: undefined, spec });
    expect(podTemplate({ kind: 'Pod', metadata: { name: 'p' }, spec })).toEqual({ metadata: { name: 'p' }, spec });
    expect(podTemplate({ kind: 'Service', spec: {} })).toBeUndefined();
  });
});
