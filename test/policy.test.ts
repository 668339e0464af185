/**
 * Policy rules: the real output of every environment passes each rule, and each rule has failing
 * fixtures that make exactly that rule fire, with the exact object and message. A fixture is the
 * real output of one environment with one surgical change, or a few objects added to it.
 *
 * Every check inside a rule has a fixture for each way it can be broken: the field omitted, the
 * wrong value, and the catch-all forms that look harmless (`egress: [{}]`, an empty selector, a
 * wildcard), plus accepted variants beside each, so that inverting, dropping or loosening any
 * condition of pipeline/policy.ts fails a test (mutation testing runs over that file).
 */
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { ref, type K8sObject } from '../pipeline/k8s-object';
import { RULES, checkPolicy, parseImage, podTemplate, selectorMatches, type PolicyContext, type Violation } from '../pipeline/policy';
import { synthObjects } from '../pipeline/synth';

type EnvName = 'staging' | 'production';

const real = Object.fromEntries(resolveEnvironments(environments, process.cwd()).map((env) => [env.name, {
  objects: synthObjects(env).map((o) => o.object),
  // As pipeline/synth.ts builds it.
  ctx: { production: env.production } as PolicyContext,
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
  /**
   * A workload of another kind running the api pod template: the api's Service, PDB and
   * NetworkPolicy select its pods, so only what a fixture changes is wrong with it.
   */
  const workload = (kind: string, name: string, spec: K8sObject = {}): K8sObject => {
    const template = structuredClone(find('Deployment', 'api').spec.template);
    return add(kind === 'Pod'
      ? { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, spec: template.spec }
      : { apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, metadata: { name, namespace: ns }, spec: { ...spec, template } });
  };
  /** The pod spec of any workload. */
  const podOf = (o: K8sObject): K8sObject => {
    const t = podTemplate(o);
    if (!t) throw new Error(`fixture: ${o.kind} has no pod template`);
    return t.spec;
  };
  return { objects, find, ns, container, podSpec, remove, add, extraContainer, cronJob, workload, podOf };
}

type Output = ReturnType<typeof output>;

interface Fixture {
  readonly rule: string;
  readonly name: string;
  readonly env: EnvName;
  /** Mutates the environment's real output. */
  readonly change: (o: Output) => void;
  /** Every violation the whole policy reports for the changed output; `rule` only where another rule fires too. */
  readonly expected: (o: Output) => (Omit<Violation, 'rule'> & { readonly rule?: string })[];
}

/** Pod Security Standards' safe sysctls (restricted inherits baseline's list). */
const SAFE_SYSCTLS = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];

const DENY_MISSING = 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)';

/** Digests `image-tags` must refuse, one per way the pattern could be loosened. */
const BAD_DIGESTS: readonly (readonly [string, string])[] = [
  ['short', `sha256:${'a'.repeat(63)}`],
  ['long', `sha256:${'a'.repeat(65)}`],
  ['upper', `sha256:${'A'.repeat(64)}`],
  ['nonhex', `sha256:${'g'.repeat(64)}`],
  ['sha512', `sha512:${'a'.repeat(128)}`],
  ['prefixed', `xsha256:${'a'.repeat(64)}`],
  ['suffixed', `sha256:${'a'.repeat(64)}-x`],
  ['bare', 'a'.repeat(64)],
];

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
  {
    rule: 'pod-security-restricted', name: 'readOnlyRootFilesystem omitted', env: 'production',
    change: (o) => { delete o.container('api').securityContext.readOnlyRootFilesystem; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: readOnlyRootFilesystem must be true' }],
  },
  {
    rule: 'pod-security-restricted', name: 'allowPrivilegeEscalation omitted (the kernel default allows it)', env: 'production',
    change: (o) => { delete o.container('web').securityContext.allowPrivilegeEscalation; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: allowPrivilegeEscalation must be false' }],
  },
  {
    rule: 'pod-security-restricted', name: 'container securityContext absent: runAsNonRoot and seccomp come from the pod, the rest is missing', env: 'production',
    change: (o) => { delete o.container('api').securityContext; },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'container api: allowPrivilegeEscalation must be false' },
      { object: `Deployment ${ns}/api`, message: 'container api: capabilities must drop ALL' },
      { object: `Deployment ${ns}/api`, message: 'container api: readOnlyRootFilesystem must be true' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'securityContext absent at pod and container level', env: 'staging',
    change: (o) => {
      delete o.podSpec('web').securityContext;
      delete o.container('web').securityContext;
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'container web: allowPrivilegeEscalation must be false' },
      { object: `Deployment ${ns}/web`, message: 'container web: capabilities must drop ALL' },
      { object: `Deployment ${ns}/web`, message: 'container web: runAsNonRoot must be true (on the container or the pod)' },
      { object: `Deployment ${ns}/web`, message: 'container web: seccompProfile must be RuntimeDefault or Localhost (on the container or the pod)' },
      { object: `Deployment ${ns}/web`, message: 'container web: readOnlyRootFilesystem must be true' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'capabilities absent', env: 'production',
    change: (o) => { delete o.container('api').securityContext.capabilities; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: capabilities must drop ALL' }],
  },
  {
    rule: 'pod-security-restricted', name: 'capabilities without a drop list', env: 'production',
    change: (o) => { o.container('api').securityContext.capabilities = { add: ['NET_BIND_SERVICE'] }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: capabilities must drop ALL' }],
  },
  {
    rule: 'pod-security-restricted', name: 'drop list empty', env: 'staging',
    change: (o) => { o.container('web').securityContext.capabilities.drop = []; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: capabilities must drop ALL' }],
  },
  {
    rule: 'pod-security-restricted', name: 'pod runAsNonRoot false, although the containers say true', env: 'production',
    change: (o) => { o.podSpec('api').securityContext.runAsNonRoot = false; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'pod: runAsNonRoot is false' }],
  },
  {
    rule: 'pod-security-restricted', name: 'pod runs as UID 0', env: 'production',
    change: (o) => { o.podSpec('web').securityContext.runAsUser = 0; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pod: runs as UID 0' }],
  },
  {
    rule: 'pod-security-restricted', name: 'AppArmor Unconfined on a container and on a pod', env: 'production',
    change: (o) => {
      o.container('api').securityContext.appArmorProfile = { type: 'Unconfined' };
      o.podSpec('web').securityContext.appArmorProfile = { type: 'Unconfined' };
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'pod: appArmorProfile is Unconfined' },
      { object: `Deployment ${ns}/api`, message: 'container api: appArmorProfile is Unconfined' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'SELinux user alone (pod)', env: 'production',
    change: (o) => { o.podSpec('web').securityContext.seLinuxOptions = { user: 'system_u' }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pod: seLinuxOptions sets a user, a role or a custom type' }],
  },
  {
    rule: 'pod-security-restricted', name: 'SELinux role alone (container)', env: 'production',
    change: (o) => { o.container('api').securityContext.seLinuxOptions = { role: 'system_r' }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api: seLinuxOptions sets a user, a role or a custom type' }],
  },
  {
    rule: 'pod-security-restricted', name: 'SELinux type outside the allowed ones', env: 'staging',
    change: (o) => { o.container('web').securityContext.seLinuxOptions = { type: 'spc_t', level: 's0' }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: seLinuxOptions sets a user, a role or a custom type' }],
  },
  {
    rule: 'pod-security-restricted', name: 'Windows HostProcess on a container and on a pod', env: 'production',
    change: (o) => {
      o.container('web').securityContext.windowsOptions = { hostProcess: true };
      o.podSpec('api').securityContext.windowsOptions = { hostProcess: true };
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'container web: is a Windows HostProcess' },
      { object: `Deployment ${ns}/api`, message: 'pod: is a Windows HostProcess' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'host PID and IPC namespaces', env: 'production',
    change: (o) => {
      o.podSpec('api').hostPID = true;
      o.podSpec('api').hostIPC = true;
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'pod: hostPID is set' },
      { object: `Deployment ${ns}/api`, message: 'pod: hostIPC is set' },
    ],
  },
  {
    rule: 'pod-security-restricted', name: 'a bare Pod on the host network', env: 'production',
    change: (o) => { o.podOf(o.workload('Pod', 'debug')).hostNetwork = true; },
    expected: ({ ns }) => [{ object: `Pod ${ns}/debug`, message: 'pod: hostNetwork is set' }],
  },
  {
    rule: 'pod-security-restricted', name: 'a Job with a privileged container', env: 'staging',
    change: (o) => { o.podOf(o.workload('Job', 'migrate')).containers[0].securityContext.privileged = true; },
    expected: ({ ns }) => [{ object: `Job ${ns}/migrate`, message: 'container api: privileged' }],
  },
  {
    rule: 'pod-security-restricted', name: 'a StatefulSet container with a writable root filesystem', env: 'production',
    change: (o) => { o.podOf(o.find('StatefulSet', 'student-portal-redis')).containers[1].securityContext.readOnlyRootFilesystem = false; },
    expected: ({ ns }) => [{ object: `StatefulSet ${ns}/student-portal-redis`, message: 'container sentinel: readOnlyRootFilesystem must be true' }],
  },
  {
    rule: 'pod-security-restricted', name: 'a DaemonSet and a ReplicaSet that escalate privileges', env: 'production',
    change: (o) => {
      o.podOf(o.workload('DaemonSet', 'node-agent')).containers[0].securityContext.allowPrivilegeEscalation = true;
      o.podOf(o.workload('ReplicaSet', 'api-old', { replicas: 1 })).containers[0].securityContext.allowPrivilegeEscalation = true;
    },
    expected: ({ ns }) => [
      { object: `DaemonSet ${ns}/node-agent`, message: 'container api: allowPrivilegeEscalation must be false' },
      { object: `ReplicaSet ${ns}/api-old`, message: 'container api: allowPrivilegeEscalation must be false' },
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
  {
    rule: 'resources', name: 'no memory request and no CPU limit', env: 'production',
    change: (o) => {
      delete o.container('web').resources.requests.memory;
      delete o.container('web').resources.limits.cpu;
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'container web has no requests.memory' },
      { object: `Deployment ${ns}/web`, message: 'container web has no limits.cpu' },
    ],
  },
  {
    rule: 'resources', name: 'resources: {} (empty)', env: 'production',
    change: (o) => { o.container('api').resources = {}; },
    expected: ({ ns }) => ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']
      .map((r) => ({ object: `Deployment ${ns}/api`, message: `container api has no ${r}` })),
  },
  {
    rule: 'resources', name: 'resources omitted, in a StatefulSet', env: 'staging',
    change: (o) => { delete o.podOf(o.find('StatefulSet', 'student-portal-redis')).containers[0].resources; },
    expected: ({ ns }) => ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']
      .map((r) => ({ object: `StatefulSet ${ns}/student-portal-redis`, message: `container redis has no ${r}` })),
  },
  // probes
  {
    rule: 'probes', name: 'no liveness probe', env: 'production',
    change: (o) => { delete o.container('web').livenessProbe; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web has no livenessProbe (or a reason in the pod template\'s probes.shipshape.dev/no-liveness annotation)' }],
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
      { object: `Deployment ${ns}/api`, message: 'container proxy has no readinessProbe, and a Service sends its pods traffic' },
      { object: `Deployment ${ns}/api`, message: 'container proxy has no livenessProbe (or a reason in the pod template\'s probes.shipshape.dev/no-liveness annotation)' },
    ],
  },
  {
    rule: 'probes', name: 'no readiness probe', env: 'staging',
    change: (o) => { delete o.container('api').readinessProbe; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api has no readinessProbe, and a Service sends its pods traffic' }],
  },
  {
    rule: 'probes', name: 'StatefulSet container without a readiness probe', env: 'production',
    change: (o) => { delete o.podOf(o.find('StatefulSet', 'student-portal-redis')).containers[1].readinessProbe; },
    expected: ({ ns }) => [{ object: `StatefulSet ${ns}/student-portal-redis`, message: 'container sentinel has no readinessProbe, and a Service sends its pods traffic' }],
  },
  {
    rule: 'probes', name: 'DaemonSet and ReplicaSet without probes', env: 'production',
    change: (o) => {
      delete o.podOf(o.workload('DaemonSet', 'node-agent')).containers[0].livenessProbe;
      delete o.podOf(o.workload('ReplicaSet', 'api-old', { replicas: 1 })).containers[0].readinessProbe;
    },
    expected: ({ ns }) => [
      { object: `DaemonSet ${ns}/node-agent`, message: 'container api has no livenessProbe (or a reason in the pod template\'s probes.shipshape.dev/no-liveness annotation)' },
      { object: `ReplicaSet ${ns}/api-old`, message: 'container api has no readinessProbe, and a Service sends its pods traffic' },
    ],
  },
  {
    rule: 'probes', name: 'tcpSocket probe on an undeclared named port', env: 'production',
    change: (o) => { o.container('web').livenessProbe = { tcpSocket: { port: 'admin' }, periodSeconds: 10 }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web: livenessProbe uses port admin, which the container does not declare' }],
  },
  {
    rule: 'probes', name: 'probes on a named port of a sidecar that declares no ports', env: 'production',
    change: (o) => {
      const proxy: K8sObject = { ...o.extraContainer('api', 'proxy'), restartPolicy: 'Always' };
      proxy.readinessProbe = { httpGet: { path: '/ready', port: 'http' } };
      proxy.livenessProbe = { httpGet: { path: '/live', port: 'http' } };
      o.podSpec('api').initContainers = [proxy];
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'container proxy: readinessProbe uses port http, which the container does not declare' },
      { object: `Deployment ${ns}/api`, message: 'container proxy: livenessProbe uses port http, which the container does not declare' },
    ],
  },
  {
    rule: 'probes', name: 'a worker (no Service selects it) without a liveness probe and without a reason', env: 'production',
    change: (o) => { delete o.container('documents').livenessProbe; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/documents`, message: 'container documents has no livenessProbe (or a reason in the pod template\'s probes.shipshape.dev/no-liveness annotation)' }],
  },
  {
    rule: 'probes', name: 'a blank reason is no reason', env: 'production',
    change: (o) => {
      delete o.container('documents').livenessProbe;
      o.find('Deployment', 'documents').spec.template.metadata.annotations = { 'probes.shipshape.dev/no-liveness': '  ' };
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/documents`, message: 'container documents has no livenessProbe (or a reason in the pod template\'s probes.shipshape.dev/no-liveness annotation)' }],
  },
  {
    rule: 'probes', name: 'a Service selecting the worker\'s pods makes readiness required', env: 'staging',
    change: (o) => {
      const selector = o.find('Deployment', 'documents').spec.selector.matchLabels;
      o.add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'documents', namespace: o.ns }, spec: { selector, ports: [{ name: 'management', port: 8081, targetPort: 'management' }] } });
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/documents`, message: 'container documents has no readinessProbe, and a Service sends its pods traffic' }],
  },
  // image-pull-policy
  {
    rule: 'image-pull-policy', name: 'Always, as cdk8s-plus writes it', env: 'production',
    change: (o) => { o.container('web').imagePullPolicy = 'Always'; },
    expected: ({ ns }) => [{
      object: `Deployment ${ns}/web`,
      message: 'container web pulls Always: set imagePullPolicy IfNotPresent (the image is pinned by tag or digest; Always makes every start depend on the registry answering)',
    }],
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
  {
    rule: 'image-tags', name: 'container without an image', env: 'production',
    change: (o) => { delete o.container('api').image; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container api has no image' }],
  },
  {
    rule: 'image-tags', name: 'an @ with no digest after it', env: 'staging',
    change: (o) => { o.container('web').image = 'registry.university.example/student-portal/web:2.15.0@'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web image has a malformed digest (registry.university.example/student-portal/web:2.15.0@)' }],
  },
  {
    rule: 'image-tags', name: 'digests of every wrong shape', env: 'staging',
    change: (o) => {
      o.cronJob().spec.jobTemplate.spec.template.spec.initContainers = BAD_DIGESTS.map(([name, digest]) => ({ ...o.extraContainer('api', name), image: `busybox:1.37@${digest}` }));
    },
    expected: ({ ns }) => BAD_DIGESTS.map(([name, digest]) => ({ object: `CronJob ${ns}/report`, message: `container ${name} image has a malformed digest (busybox:1.37@${digest})` })),
  },
  {
    rule: 'image-tags', name: 'latest behind a registry port, in a StatefulSet', env: 'production',
    change: (o) => { o.podOf(o.find('StatefulSet', 'student-portal-redis')).containers[1].image = 'registry:5000/redis:latest'; },
    expected: ({ ns }) => [
      { object: `StatefulSet ${ns}/student-portal-redis`, message: 'container sentinel uses the latest tag (registry:5000/redis:latest)' },
      { rule: 'images-by-digest', object: `StatefulSet ${ns}/student-portal-redis`, message: 'container sentinel image registry:5000/redis:latest is not pinned by digest' },
    ],
  },
  // images-by-digest
  {
    rule: 'images-by-digest', name: 'app image by tag only in production', env: 'production',
    change: (o) => { o.container('web').image = 'registry.university.example/student-portal/web:2.14.0'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'container web image registry.university.example/student-portal/web:2.14.0 is not pinned by digest' }],
  },
  {
    rule: 'images-by-digest', name: 'app image with an @ and no digest (production)', env: 'production',
    change: (o) => { o.container('api').image = 'registry.university.example/student-portal/api:3.7.2@'; },
    expected: ({ ns }) => [
      { rule: 'image-tags', object: `Deployment ${ns}/api`, message: 'container api image has a malformed digest (registry.university.example/student-portal/api:3.7.2@)' },
      { object: `Deployment ${ns}/api`, message: 'container api image registry.university.example/student-portal/api:3.7.2@ is not pinned by digest' },
    ],
  },
  {
    rule: 'images-by-digest', name: 'app image pinned by a digest one digit short (production)', env: 'production',
    change: (o) => { o.container('web').image = `registry.university.example/student-portal/web@${DIGEST.slice(0, -1)}`; },
    expected: ({ ns }) => [
      { rule: 'image-tags', object: `Deployment ${ns}/web`, message: `container web image has a malformed digest (registry.university.example/student-portal/web@${DIGEST.slice(0, -1)})` },
      { object: `Deployment ${ns}/web`, message: `container web image registry.university.example/student-portal/web@${DIGEST.slice(0, -1)} is not pinned by digest` },
    ],
  },
  {
    rule: 'images-by-digest', name: 'app image in an init container, by tag only', env: 'production',
    change: (o) => { o.podSpec('api').initContainers = [{ ...o.extraContainer('api', 'migrate'), image: 'registry.university.example/student-portal/api:3.7.2' }]; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'container migrate image registry.university.example/student-portal/api:3.7.2 is not pinned by digest' }],
  },
  {
    rule: 'images-by-digest', name: 'a third party\'s image by tag only, in a StatefulSet (production)', env: 'production',
    change: (o) => { o.podOf(o.find('StatefulSet', 'student-portal-redis')).containers[2].image = 'docker.io/oliver006/redis_exporter:v1.91.1'; },
    expected: ({ ns }) => [{ object: `StatefulSet ${ns}/student-portal-redis`, message: 'container exporter image docker.io/oliver006/redis_exporter:v1.91.1 is not pinned by digest' }],
  },
  {
    rule: 'images-by-digest', name: 'the PostgreSQL operand by tag only (production)', env: 'production',
    change: (o) => { o.find('Cluster', 'student-portal-db').spec.imageName = 'ghcr.io/cloudnative-pg/postgresql:17.9'; },
    expected: ({ ns }) => [{ object: `Cluster ${ns}/student-portal-db`, message: 'PostgreSQL image ghcr.io/cloudnative-pg/postgresql:17.9 is not pinned by digest' }],
  },
  {
    rule: 'images-by-digest', name: 'the PostgreSQL operand left to the operator (production)', env: 'production',
    change: (o) => { delete o.find('Cluster', 'student-portal-db').spec.imageName; },
    expected: ({ ns }) => [{ object: `Cluster ${ns}/student-portal-db`, message: 'PostgreSQL has no image: the operator would run its default, by tag' }],
  },
  {
    rule: 'images-by-digest', name: 'PgBouncer left to the operator (production)', env: 'production',
    change: (o) => { delete o.find('Pooler', 'student-portal-db-pooler').spec.template.spec.containers[0].image; },
    expected: ({ ns }) => [{ object: `Pooler ${ns}/student-portal-db-pooler`, message: 'container pgbouncer has no image: the operator would run its default, by tag' }],
  },
  {
    rule: 'images-by-digest', name: 'PgBouncer by tag in spec.pgbouncer.image, none in the template (production)', env: 'production',
    change: (o) => {
      const pooler = o.find('Pooler', 'student-portal-db-pooler');
      delete pooler.spec.template.spec.containers[0].image;
      pooler.spec.pgbouncer.image = 'ghcr.io/cloudnative-pg/pgbouncer:1.25.1';
    },
    expected: ({ ns }) => [{ object: `Pooler ${ns}/student-portal-db-pooler`, message: 'container pgbouncer image ghcr.io/cloudnative-pg/pgbouncer:1.25.1 is not pinned by digest' }],
  },
  // secrets-by-reference
  {
    rule: 'secrets-by-reference', name: 'a password set by value, even as a reference to a secret variable', env: 'staging',
    change: (o) => { o.container('api').env.push({ name: 'SPRING_DATASOURCE_PASSWORD', value: '$(DATABASE_PASSWORD)' }); },
    expected: ({ ns }) => [{
      object: `Deployment ${ns}/api`, message: 'container api sets SPRING_DATASOURCE_PASSWORD by value; read it from a Secret (valueFrom.secretKeyRef)',
    }],
  },
  {
    rule: 'secrets-by-reference', name: 'every pattern of Polaris, in any case, in an init container of a CronJob', env: 'production',
    change: (o) => {
      o.podOf(o.cronJob()).initContainers = [{
        ...o.extraContainer('api', 'init'),
        env: ['aws_secret_access_key', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_STORAGE_KEY', 'OCI_CLI_KEY_CONTENT', 'Api_Token', 'BEARER', 'client_secret']
          .map((name) => ({ name, value: 'x' })),
      }];
    },
    expected: ({ ns }) => ['aws_secret_access_key', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_STORAGE_KEY', 'OCI_CLI_KEY_CONTENT', 'Api_Token', 'BEARER', 'client_secret']
      .map((name) => ({ object: `CronJob ${ns}/report`, message: `container init sets ${name} by value; read it from a Secret (valueFrom.secretKeyRef)` })),
  },
  // priority-classes
  {
    rule: 'priority-classes', name: 'a service, the database and a backup job without a PriorityClass', env: 'production',
    change: (o) => {
      delete o.podSpec('web').priorityClassName;
      delete o.find('Cluster', 'student-portal-db').spec.priorityClassName;
      delete o.podOf(o.find('CronJob', 'backup-files')).priorityClassName;
    },
    expected: ({ ns }) => [
      { object: `CronJob ${ns}/backup-files`, message: 'its pods name no PriorityClass: under node pressure they go with the batch jobs, or before them' },
      { object: `Deployment ${ns}/web`, message: 'its pods name no PriorityClass: under node pressure they go with the batch jobs, or before them' },
      { object: `Cluster ${ns}/student-portal-db`, message: 'its pods name no PriorityClass: under node pressure they go with the batch jobs, or before them' },
    ],
  },
  {
    rule: 'priority-classes', name: 'PgBouncer naming a class the output does not define', env: 'staging',
    change: (o) => { o.find('Pooler', 'student-portal-db-pooler').spec.template.spec.priorityClassName = 'system-cluster-critical-typo'; },
    expected: ({ ns }) => [{ object: `Pooler ${ns}/student-portal-db-pooler`, message: 'its pods name PriorityClass system-cluster-critical-typo, which the output does not define' }],
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
  {
    rule: 'pdb-for-multi-replica', name: 'PodDisruptionBudget in another namespace', env: 'production',
    change: (o) => { o.find('PodDisruptionBudget', 'web').metadata.namespace = 'other'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' }],
  },
  {
    rule: 'pdb-for-multi-replica', name: 'PodDisruptionBudget without spec (no selector selects nothing)', env: 'staging',
    change: (o) => { delete o.find('PodDisruptionBudget', 'api').spec; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' }],
  },
  {
    rule: 'pdb-for-multi-replica', name: 'StatefulSet of 3 without PodDisruptionBudget', env: 'production',
    change: (o) => { o.remove('PodDisruptionBudget', 'student-portal-redis'); },
    expected: ({ ns }) => [{ object: `StatefulSet ${ns}/student-portal-redis`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' }],
  },
  {
    rule: 'pdb-for-multi-replica', name: 'ReplicaSet of 2 without PodDisruptionBudget', env: 'production',
    change: (o) => {
      o.remove('PodDisruptionBudget', 'api');
      o.workload('ReplicaSet', 'api-old', { replicas: 2 });
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/api`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' },
      { object: `ReplicaSet ${ns}/api-old`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' },
    ],
  },
  {
    rule: 'pdb-for-multi-replica', name: 'pod template without labels: nothing selects its pods', env: 'production',
    change: (o) => { delete o.find('Deployment', 'web').spec.template.metadata; },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'runs more than one replica but no PodDisruptionBudget selects its pods' },
      { rule: 'topology-spread', object: `Deployment ${ns}/web`, message: 'pods are not spread over kubernetes.io/hostname' },
      { rule: 'topology-spread', object: `Deployment ${ns}/web`, message: 'pods are not spread over topology.kubernetes.io/zone' },
      { rule: 'network-policy-coverage', object: `Deployment ${ns}/web`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' },
      { rule: 'service-selects-pods', object: `Service ${ns}/web`, message: 'selects no pod template' },
    ],
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
  {
    rule: 'topology-spread', name: 'no hostname spread', env: 'staging',
    change: (o) => {
      const spec = o.podSpec('api');
      spec.topologySpreadConstraints = spec.topologySpreadConstraints.filter((t: K8sObject) => t.topologyKey !== 'kubernetes.io/hostname');
    },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'pods are not spread over kubernetes.io/hostname' }],
  },
  {
    rule: 'topology-spread', name: 'a constraint without labelSelector counts no pods', env: 'production',
    change: (o) => { delete o.podSpec('web').topologySpreadConstraints.find((t: K8sObject) => t.topologyKey === 'topology.kubernetes.io/zone').labelSelector; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'pods are not spread over topology.kubernetes.io/zone' }],
  },
  {
    rule: 'topology-spread', name: 'a preferred anti-affinity term without podAffinityTerm', env: 'production',
    change: (o) => {
      delete o.podSpec('web').topologySpreadConstraints;
      o.podSpec('web').affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100 }] } };
    },
    expected: ({ ns }) => [
      { object: `Deployment ${ns}/web`, message: 'pods are not spread over kubernetes.io/hostname' },
      { object: `Deployment ${ns}/web`, message: 'pods are not spread over topology.kubernetes.io/zone' },
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
  {
    rule: 'network-policy-coverage', name: 'default-deny in another namespace', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').metadata.namespace = 'other'; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that selects some pods only (matchLabels)', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.podSelector = { matchLabels: { 'app.kubernetes.io/name': 'web' } }; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that selects some pods only (matchExpressions)', env: 'staging',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.podSelector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'Exists' }] }; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that allows all egress: egress [{}]', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.egress = [{}]; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that allows all egress: egress [{ to: [] }]', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.egress = [{ to: [] }]; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny that allows all ingress: ingress [{ from: [] }]', env: 'staging',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.ingress = [{ from: [] }]; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny for egress only', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'default-deny').spec.policyTypes = ['Egress']; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'default-deny without policyTypes (Kubernetes then isolates ingress only)', env: 'production',
    change: (o) => { delete o.find('NetworkPolicy', 'default-deny').spec.policyTypes; },
    expected: ({ ns }) => [{ object: `Namespace ${ns}`, message: DENY_MISSING }],
  },
  {
    rule: 'network-policy-coverage', name: 'the workload\'s own policy is in another namespace', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'api').metadata.namespace = 'other'; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' }],
  },
  {
    rule: 'network-policy-coverage', name: 'a service\'s policy with podSelector {} selects every pod, naming none', env: 'staging',
    change: (o) => { o.find('NetworkPolicy', 'web').spec.podSelector = {}; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/web`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' }],
  },
  {
    rule: 'network-policy-coverage', name: 'a service\'s policy with empty matchExpressions selects every pod, naming none', env: 'production',
    change: (o) => { o.find('NetworkPolicy', 'api').spec.podSelector = { matchExpressions: [] }; },
    expected: ({ ns }) => [{ object: `Deployment ${ns}/api`, message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' }],
  },
  {
    rule: 'network-policy-coverage', name: 'a Deployment and its Service without metadata: no namespace, no name, no labels', env: 'production',
    change: (o) => {
      // First in the list, so that every lookup meets them before the real objects.
      o.objects.unshift({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: structuredClone(o.find('Deployment', 'api').spec.template) } });
      o.objects.unshift({ apiVersion: 'v1', kind: 'Service', spec: structuredClone(o.find('Service', 'api').spec) });
      // An HPA of no namespace either, which must not be taken for its HPA.
      o.add({ ...structuredClone(o.find('HorizontalPodAutoscaler', 'web')), metadata: { name: 'orphan' } }).spec.scaleTargetRef.name = 'orphan';
    },
    expected: () => [
      { object: 'Namespace (none)', message: DENY_MISSING },
      { object: 'Deployment undefined', message: 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared' },
      { rule: 'hpa-target-exists', object: 'HorizontalPodAutoscaler orphan', message: 'target apps/v1 Deployment orphan does not exist' },
      ...['Service', 'Deployment'].flatMap((kind) => ['name', 'instance', 'component', 'part-of', 'managed-by']
        .map((l) => ({ rule: 'recommended-labels', object: `${kind} undefined`, message: `has no app.kubernetes.io/${l} label` }))),
    ],
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
      // Every workload of the application, the documents worker included (not the data tier's
      // and backup pods, which would add their own lines).
      svc.spec.selector['app.kubernetes.io/component'] = 'workload';
      svc.spec.ports[0].targetPort = 8080;
    },
    expected: ({ ns }) => [
      // A worker that a Service sends traffic to needs readiness after all.
      { rule: 'probes', object: `Deployment ${ns}/documents`, message: 'container documents has no readinessProbe, and a Service sends its pods traffic' },
      { object: `Service ${ns}/api`, message: `port http targets 8080, which Deployment ${ns}/web does not declare` },
      { object: `Service ${ns}/api`, message: `port http targets 8080, which Deployment ${ns}/documents does not declare` },
    ],
  },
  {
    rule: 'service-selects-pods', name: 'empty selector', env: 'production',
    change: (o) => { o.find('Service', 'api').spec.selector = {}; },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: 'has no selector' }],
  },
  {
    rule: 'service-selects-pods', name: 'Service without spec (no selector, no ports)', env: 'production',
    change: (o) => { delete o.find('Service', 'web').spec; },
    expected: (o) => [
      { object: `Service ${o.ns}/web`, message: 'has no selector' },
      { rule: 'httproute-backends-exist', object: route(o), message: 'backend Service web has no port 80' },
    ],
  },
  {
    rule: 'service-selects-pods', name: 'Service in another namespace than its pods', env: 'production',
    change: (o) => { o.find('Service', 'api').metadata.namespace = 'other'; },
    expected: (o) => [
      { object: 'Service other/api', message: 'selects no pod template' },
      { rule: 'httproute-backends-exist', object: route(o), message: `backend Service ${o.ns}/api does not exist` },
    ],
  },
  {
    rule: 'service-selects-pods', name: 'unnamed port targeting a number the container does not declare', env: 'staging',
    change: (o) => { o.find('Service', 'api').spec.ports = [{ port: 80, targetPort: 9090, protocol: 'TCP' }]; },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: `port 80 targets 9090, which Deployment ${ns}/api does not declare` }],
  },
  {
    rule: 'service-selects-pods', name: 'selected pods whose template lists no containers declare no port', env: 'production',
    change: (o) => { delete o.podOf(o.workload('ReplicaSet', 'hollow', { replicas: 1 })).containers; },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: `port http targets http, which ReplicaSet ${ns}/hollow does not declare` }],
  },
  {
    rule: 'service-selects-pods', name: 'target port declared only by an init container that exits', env: 'production',
    change: (o) => {
      o.podSpec('api').initContainers = [{ ...o.extraContainer('api', 'migrate'), ports: [{ name: 'admin', containerPort: 9000 }] }];
      o.find('Service', 'api').spec.ports[0].targetPort = 'admin';
    },
    expected: ({ ns }) => [{ object: `Service ${ns}/api`, message: `port http targets admin, which Deployment ${ns}/api does not declare` }],
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
    expected: (o) => [{ object: route(o), message: 'backend Deployment.apps/api is not a Service' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'request mirror to a missing Service', env: 'production',
    change: (o) => {
      publicRoute(o).spec.rules[0].filters.push({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } });
    },
    expected: (o) => [{ object: route(o), message: `backend Service ${o.ns}/shadow does not exist` }],
  },
  {
    rule: 'httproute-backends-exist', name: 'backend in another namespace', env: 'production',
    change: (o) => { publicRoute(o).spec.rules[0].backendRefs[0].namespace = 'other'; },
    expected: (o) => [{ object: route(o), message: 'backend Service other/api does not exist' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'backend with kind omitted but another API group', env: 'production',
    change: (o) => {
      const backend = publicRoute(o).spec.rules[0].backendRefs[0];
      delete backend.kind;
      backend.group = 'multicluster.x-k8s.io';
    },
    expected: (o) => [{ object: route(o), message: 'backend Service.multicluster.x-k8s.io/api is not a Service' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'backend of another kind in the core group', env: 'staging',
    change: (o) => { publicRoute(o).spec.rules[1].backendRefs[0].kind = 'Pod'; },
    expected: (o) => [{ object: route(o), message: 'backend Pod/web is not a Service' }],
  },
  {
    rule: 'httproute-backends-exist', name: 'request mirror in a backend\'s filters to a missing Service', env: 'production',
    change: (o) => {
      publicRoute(o).spec.rules[1].backendRefs[0].filters = [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } }];
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
  {
    rule: 'hpa-target-exists', name: 'target of another kind, which does not make the Deployment multi-replica', env: 'staging',
    change: (o) => {
      o.find('HorizontalPodAutoscaler', 'web').spec.scaleTargetRef.kind = 'StatefulSet';
      // Were the HPA taken for the Deployment's, these would be missing.
      o.remove('PodDisruptionBudget', 'web');
      delete o.podSpec('web').topologySpreadConstraints;
    },
    expected: ({ ns }) => [{ object: `HorizontalPodAutoscaler ${ns}/web`, message: 'target apps/v1 StatefulSet web does not exist' }],
  },
  {
    rule: 'hpa-target-exists', name: 'HPA in another namespace, which does not make the Deployment multi-replica', env: 'production',
    change: (o) => {
      o.find('HorizontalPodAutoscaler', 'web').metadata.namespace = 'other';
      o.remove('PodDisruptionBudget', 'web');
      delete o.podSpec('web').topologySpreadConstraints;
    },
    expected: () => [{ object: 'HorizontalPodAutoscaler other/web', message: 'target apps/v1 Deployment web does not exist' }],
  },
  {
    rule: 'hpa-target-exists', name: 'HPAs without scaleTargetRef or without spec', env: 'production',
    change: (o) => {
      delete o.find('HorizontalPodAutoscaler', 'web').spec.scaleTargetRef;
      delete o.find('HorizontalPodAutoscaler', 'api').spec;
      // Neither scales its Deployment any more.
      o.remove('PodDisruptionBudget', 'web');
      o.remove('PodDisruptionBudget', 'api');
    },
    expected: ({ ns }) => [
      { object: `HorizontalPodAutoscaler ${ns}/web`, message: 'has no scaleTargetRef' },
      { object: `HorizontalPodAutoscaler ${ns}/api`, message: 'has no scaleTargetRef' },
    ],
  },
  {
    rule: 'hpa-target-exists', name: 'target sets replicas 0', env: 'staging',
    change: (o) => { o.find('Deployment', 'api').spec.replicas = 0; },
    expected: ({ ns }) => [{ object: `HorizontalPodAutoscaler ${ns}/api`, message: 'target Deployment api sets replicas, which the HPA owns' }],
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
  {
    rule: 'rbac-least-privilege', name: 'a wildcard in every field', env: 'production',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'everything' },
        rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }],
      });
    },
    expected: () => [
      { object: 'ClusterRole everything', message: 'rules[0].apiGroups has the wildcard *' },
      { object: 'ClusterRole everything', message: 'rules[0].resources has the wildcard *' },
      { object: 'ClusterRole everything', message: 'rules[0].verbs has the wildcard *' },
      { object: 'ClusterRole everything', message: 'rules[1].nonResourceURLs has the wildcard /debug/*' },
    ],
  },
  {
    rule: 'rbac-least-privilege', name: 'RoleBinding to the cluster-admin ClusterRole (admin of the namespace)', env: 'staging',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'deployer', namespace: o.ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: o.ns }],
      });
    },
    expected: ({ ns }) => [{ object: `RoleBinding ${ns}/deployer`, message: 'binds cluster-admin' }],
  },
  {
    rule: 'rbac-least-privilege', name: 'system:masters among other subjects of a ClusterRoleBinding', env: 'production',
    change: (o) => {
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ops' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'ops' },
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' },
        ],
      });
    },
    expected: () => [{ object: 'ClusterRoleBinding ops', message: 'binds the system:masters group' }],
  },
  // recommended-labels
  {
    rule: 'recommended-labels', name: 'label missing', env: 'production',
    change: (o) => { delete o.find('Service', 'web').metadata.labels['app.kubernetes.io/part-of']; },
    expected: ({ ns }) => [{ object: `Service ${ns}/web`, message: 'has no app.kubernetes.io/part-of label' }],
  },
  {
    rule: 'recommended-labels', name: 'no labels at all', env: 'production',
    change: (o) => { delete o.find('Service', 'web').metadata.labels; },
    expected: ({ ns }) => ['name', 'instance', 'component', 'part-of', 'managed-by']
      .map((l) => ({ object: `Service ${ns}/web`, message: `has no app.kubernetes.io/${l} label` })),
  },
  {
    rule: 'recommended-labels', name: 'a label with an empty value', env: 'staging',
    change: (o) => { o.find('ConfigMap', 'backup-scripts').metadata.labels['app.kubernetes.io/component'] = ''; },
    expected: ({ ns }) => [{ object: `ConfigMap ${ns}/backup-scripts`, message: 'has no app.kubernetes.io/component label' }],
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
  return { actual: checkPolicy(o.objects, real[f.env].ctx), expected: f.expected(o).map(({ rule, ...x }) => ({ rule: rule ?? f.rule, ...x })) };
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

  test('every rule says what it checks', () => {
    expect(RULES.filter((r) => !/^[A-Z].{20,}[^.]$/.test(r.description)).map((r) => r.id)).toEqual([]);
    expect(new Set(RULES.map((r) => r.description)).size).toBe(RULES.length);
  });

  test('rule ids are unique', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('images-by-digest', () => {
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
    const found = checkPolicy(tagOnly('staging'), { ...real.staging.ctx, production: true });
    expect(found.map((x) => x.message)).toContain('container web image registry.university.example/student-portal/web:2.14.0 is not pinned by digest');
    expect(new Set(found.map((x) => x.rule))).toEqual(new Set(['images-by-digest']));
  });

  test('judges every image, whoever publishes it, registry port included; a digest behind a tag passes', () => {
    const o = output('production');
    o.container('web').image = 'registry:5000/team/web:1.2';
    o.container('api').image = 'docker.io/library/redis:7.4';
    expect(checkPolicy(o.objects, real.production.ctx).map((x) => x.message)).toEqual([
      'container web image registry:5000/team/web:1.2 is not pinned by digest',
      'container api image docker.io/library/redis:7.4 is not pinned by digest',
    ]);
    o.container('web').image = `registry:5000/team/web@${DIGEST}`;
    o.container('api').image = `docker.io/library/redis:7.4@${DIGEST}`;
    expect(checkPolicy(o.objects, real.production.ctx)).toEqual([]);
  });

  test('custom resources of other operators run nothing it judges', () => {
    const o = output('production');
    o.add({ apiVersion: 'example.com/v1', kind: 'Cluster', metadata: { name: 'other', namespace: o.ns }, spec: {} });
    o.add({ apiVersion: 'example.com/v1', kind: 'Pooler', metadata: { name: 'other', namespace: o.ns }, spec: {} });
    expect(checkPolicy(o.objects, real.production.ctx).filter((x) => x.rule === 'images-by-digest')).toEqual([]);
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

  test('pod securityContext absent: every container sets runAsNonRoot and seccomp itself', () => {
    expect(clean('production', (o) => { delete o.podSpec('api').securityContext; })).toEqual([]);
  });

  test('harmless values written out: procMount Default, host namespaces false, AppArmor confined, allowed SELinux types', () => {
    expect(clean('production', (o) => {
      for (const name of ['web', 'api']) {
        Object.assign(o.podSpec(name), { hostNetwork: false, hostPID: false, hostIPC: false });
        Object.assign(o.container(name).securityContext, { procMount: 'Default', windowsOptions: { hostProcess: false } });
      }
      o.podSpec('web').securityContext.appArmorProfile = { type: 'RuntimeDefault' };
      o.container('api').securityContext.appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-api' };
      o.podSpec('web').securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c123,c456' };
      o.container('web').securityContext.seLinuxOptions = { type: 'container_init_t' };
      o.podSpec('api').securityContext.seLinuxOptions = { type: 'container_kvm_t' };
      o.container('api').securityContext.seLinuxOptions = { type: 'container_engine_t', level: 's0' };
      o.container('web').securityContext.privileged = false;
      o.container('web').ports[0].hostPort = 0;
    })).toEqual([]);
  });

  test('every sysctl of the safe set', () => {
    expect(clean('production', (o) => {
      o.podSpec('web').securityContext.sysctls = SAFE_SYSCTLS.map((name) => ({ name, value: '1' }));
    })).toEqual([]);
  });

  test('a pod with no volumes', () => {
    expect(clean('production', (o) => {
      const job = o.podOf(o.workload('Job', 'once'));
      delete job.volumes;
      delete job.containers[0].volumeMounts;
    })).toEqual([]);
  });

  test('Jobs, CronJobs and bare Pods need no probes: they are not long-running', () => {
    expect(clean('production', (o) => {
      const pods = [o.podOf(o.workload('Job', 'once')), o.podOf(o.workload('Pod', 'debug')), o.podOf(o.cronJob())];
      for (const spec of pods) for (const probe of ['readinessProbe', 'livenessProbe']) delete spec.containers[0][probe];
    })).toEqual([]);
  });

  test('tcpSocket, grpc and exec probes, a numeric port, and a named port among several', () => {
    expect(clean('production', (o) => {
      o.container('web').readinessProbe = { tcpSocket: { port: 'http' } };
      o.container('web').livenessProbe = { grpc: { port: 3000 } };
      o.container('api').livenessProbe = { exec: { command: ['true'] } };
      o.container('api').ports.push({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
      o.find('Service', 'api').spec.ports.push({ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' });
    })).toEqual([]);
  });

  test('a sidecar with probes on its own named port, which a Service may target', () => {
    expect(clean('production', (o) => {
      const proxy: K8sObject = { ...o.extraContainer('api', 'proxy'), restartPolicy: 'Always', ports: [{ name: 'tls', containerPort: 8443 }] };
      proxy.readinessProbe = { tcpSocket: { port: 'tls' } };
      proxy.livenessProbe = { tcpSocket: { port: 'tls' } };
      o.podSpec('api').initContainers = [proxy];
      o.find('Service', 'api').spec.ports.push({ name: 'https', port: 443, targetPort: 'tls', protocol: 'TCP' });
    })).toEqual([]);
  });

  test('a PodDisruptionBudget with an empty selector (every pod of the namespace) or one by matchExpressions', () => {
    expect(clean('production', (o) => {
      o.find('PodDisruptionBudget', 'web').spec.selector = {};
      o.find('PodDisruptionBudget', 'api').spec.selector = { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['api'] }] };
    })).toEqual([]);
  });

  test('spreading by a required anti-affinity term on hostname and a constraint on zone', () => {
    expect(clean('production', (o) => {
      const spec = o.podSpec('web');
      const zone = spec.topologySpreadConstraints.find((t: K8sObject) => t.topologyKey === 'topology.kubernetes.io/zone');
      spec.topologySpreadConstraints = [zone];
      spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: zone.labelSelector, topologyKey: 'kubernetes.io/hostname' }] } };
    })).toEqual([]);
  });

  test('spreading by preferred anti-affinity terms only', () => {
    expect(clean('production', (o) => {
      const spec = o.podSpec('web');
      const { labelSelector } = spec.topologySpreadConstraints[0];
      delete spec.topologySpreadConstraints;
      spec.affinity = {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']
            .map((topologyKey) => ({ weight: 100, podAffinityTerm: { labelSelector, topologyKey } })),
        },
      };
    })).toEqual([]);
  });

  test('default-deny written other ways: podSelector omitted or with empty lists, empty rule lists', () => {
    for (const podSelector of [undefined, { matchLabels: {}, matchExpressions: [] }]) {
      expect(clean('production', (o) => {
        const deny = o.find('NetworkPolicy', 'default-deny');
        deny.spec = { ...deny.spec, podSelector, ingress: [], egress: [] };
        if (podSelector === undefined) delete deny.spec.podSelector;
      })).toEqual([]);
    }
  });

  test('a service\'s policy selecting by matchExpressions only', () => {
    expect(clean('production', (o) => {
      o.find('NetworkPolicy', 'api').spec.podSelector = {
        matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['api'] }, { key: 'app.kubernetes.io/instance', operator: 'Exists' }],
      };
    })).toEqual([]);
  });

  test('a NetworkPolicy with no spec (ingress isolation of every pod) is judged, not a crash', () => {
    expect(clean('production', (o) => {
      // First in the list, so that every lookup meets it before the real policies.
      o.objects.unshift({ ...o.find('NetworkPolicy', 'default-deny'), metadata: { ...o.find('NetworkPolicy', 'default-deny').metadata, name: 'isolate' }, spec: undefined });
    })).toEqual([]);
  });

  test('Services that select no pods on purpose: ExternalName, and a headless Service with no ports', () => {
    expect(clean('production', (o) => {
      o.add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'mail', namespace: o.ns }, spec: { type: 'ExternalName', externalName: 'smtp.example' } });
      o.add({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api-pods', namespace: o.ns }, spec: { clusterIP: 'None', selector: { ...o.find('Service', 'api').spec.selector } } });
    })).toEqual([]);
  });

  test('a Service port without targetPort targets the same number', () => {
    expect(clean('production', (o) => {
      o.find('Service', 'api').spec.ports.push({ name: 'direct', port: 8080, protocol: 'TCP' });
    })).toEqual([]);
  });

  test('HTTPRoute backends with kind and group omitted or the namespace named, rules without filters, routes without rules', () => {
    expect(clean('production', (o) => {
      const rules = publicRoute(o).spec.rules;
      delete rules[0].backendRefs[0].kind;
      delete rules[0].backendRefs[0].group;
      rules[1].backendRefs[0].namespace = o.ns;
      delete rules[1].filters;
      o.add({ ...structuredClone(publicRoute(o)), metadata: { name: 'parked', namespace: o.ns }, spec: { parentRefs: publicRoute(o).spec.parentRefs } });
      o.add({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'empty', namespace: o.ns } });
    })).toEqual([]);
  });

  test('an HPA whose target has no spec: nothing there owns replicas', () => {
    expect(clean('production', (o) => {
      o.add({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shell', namespace: o.ns } });
      o.add({ ...structuredClone(o.find('HorizontalPodAutoscaler', 'web')), metadata: { name: 'shell', namespace: o.ns } })
        .spec.scaleTargetRef.name = 'shell';
    })).toEqual([]);
  });

  test('bindings of other roles and subjects, and an aggregated ClusterRole without rules', () => {
    expect(clean('production', (o) => {
      const binding = (kind: string, name: string, roleRef: K8sObject | undefined, subjects: K8sObject[] | undefined) => o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, ...(kind === 'RoleBinding' ? { namespace: o.ns } : {}) }, roleRef, subjects,
      });
      const group = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });
      binding('RoleBinding', 'viewers', { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, [group('viewers')]);
      binding('RoleBinding', 'local-admin', { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cluster-admin' }, [group('ops')]);
      binding('ClusterRoleBinding', 'named-like-masters', { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:masters' }]);
      binding('ClusterRoleBinding', 'unfinished', undefined, undefined);
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'portal-view' },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example/aggregate-to-portal': 'true' } }] },
      });
      o.add({
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-pods', namespace: o.ns },
        rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'], resourceNames: ['api'] }],
      });
    })).toEqual([]);
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
    ['app@', { repository: 'app', digest: '' }],
    [`@${DIGEST}`, { repository: '', digest: DIGEST }],
    ['registry:5000', { repository: 'registry', tag: '5000' }],
    ['', { repository: '' }],
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
    ['unknown operator on a missing key selects nothing', { matchExpressions: [{ key: 'zone', operator: 'Absent' }] }, false],
    ['all requirements must hold', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In with other values', { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, false],
    ['In without values selects nothing', { matchExpressions: [{ key: 'app', operator: 'In' }] }, false],
    ['NotIn with other values', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['api'] }] }, true],
    ['NotIn without values', { matchExpressions: [{ key: 'app', operator: 'NotIn' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist on a missing key', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['several expressions, all holding', { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['several expressions, the last failing', { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['several labels, one differing', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['matchLabels and matchExpressions both holding', { matchLabels: { tier: 'front' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, true],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector as K8sObject | undefined, labels)).toBe(expected);
  });

  test('pods without labels: only an empty selector or absence requirements select them', () => {
    expect(selectorMatches({})).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] })).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'web' } })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] })).toBe(false);
  });
});

describe('ref', () => {
  test('names namespaced objects with their namespace and cluster-scoped ones without', () => {
    expect(ref({ kind: 'Service', metadata: { name: 'api', namespace: 'portal' } })).toBe('Service portal/api');
    expect(ref({ kind: 'ClusterRole', metadata: { name: 'view' } })).toBe('ClusterRole view');
    expect(ref({ kind: 'ConfigMap', metadata: { name: 'x', namespace: '' } })).toBe('ConfigMap x');
  });

  test('an object without metadata still gets a reference', () => {
    expect(ref({ kind: 'Deployment' })).toBe('Deployment undefined');
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

  test.each(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'])('finds the template of a %s', (kind) => {
    const template = { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c' }] } };
    expect(podTemplate({ kind, spec: { template } })).toEqual(template);
  });

  test.each(['Service', 'ConfigMap', 'Pooler', 'Cluster', 'HorizontalPodAutoscaler'])('%s is not a workload, whatever its spec holds', (kind) => {
    expect(podTemplate({ kind, spec: { template: { spec: { containers: [] } } } })).toBeUndefined();
  });

  test('a workload with no template has none; a template or a Pod with no spec has an empty one', () => {
    expect(podTemplate({ kind: 'Deployment' })).toBeUndefined();
    expect(podTemplate({ kind: 'Deployment', spec: {} })).toBeUndefined();
    expect(podTemplate({ kind: 'CronJob' })).toBeUndefined();
    expect(podTemplate({ kind: 'CronJob', spec: {} })).toBeUndefined();
    expect(podTemplate({ kind: 'CronJob', spec: { jobTemplate: {} } })).toBeUndefined();
    expect(podTemplate({ kind: 'Job', spec: { template: { metadata: { labels: { a: 'b' } } } } })).toEqual({ metadata: { labels: { a: 'b' } }, spec: {} });
    expect(podTemplate({ kind: 'Pod', metadata: { name: 'p' } })).toEqual({ metadata: { name: 'p' }, spec: {} });
  });
});

describe('cost', () => {
  /** The real production output `copies` times, each copy in a namespace of its own, behind a proxy counting reads of its entries. */
  function counted(copies: number): { objects: K8sObject[]; reads: () => number } {
    const list = Array.from({ length: copies }, (_, i) => structuredClone(real.production.objects).map((o) => (o.metadata?.namespace
      ? { ...o, metadata: { ...o.metadata, namespace: `${o.metadata.namespace}-${i}` } } : o))).flat();
    let reads = 0;
    const objects = new Proxy(list, {
      get(target, p, receiver) {
        if (typeof p === 'string' && /^\d+$/.test(p)) reads += 1;
        return Reflect.get(target, p, receiver);
      },
    });
    return { objects, reads: () => reads };
  }

  test('every rule reads the list a fixed number of times, however long it is (linear, not quadratic)', () => {
    const one = counted(1);
    const four = counted(4);
    checkPolicy(one.objects, real.production.ctx);
    checkPolicy(four.objects, real.production.ctx);
    expect(one.reads()).toBeGreaterThan(0);
    expect(four.reads()).toBe(4 * one.reads());
  });

  test('the workloads and the objects by kind of a list are computed once, for every rule', () => {
    const { objects, reads } = counted(1);
    const rule = (id: string) => RULES.find((r) => r.id === id)!.check(objects, real.production.ctx);
    rule('network-policy-coverage');
    const once = reads();
    expect(once).toBeGreaterThan(0);
    // These rules read the list only through its workloads and its objects of one kind.
    for (const id of ['pod-security-restricted', 'resources', 'probes', 'image-tags', 'images-by-digest', 'secrets-by-reference', 'priority-classes', 'pdb-for-multi-replica', 'topology-spread']) rule(id);
    rule('network-policy-coverage');
    expect(reads()).toBe(once);
  });
});
