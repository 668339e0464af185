/**
 * Production-readiness and security rules over everything an environment synthesizes. Each rule
 * looks at the whole set of objects, so it can check references between them (a Service that
 * selects no pod, an HTTPRoute to a Service that does not exist), which no per-object schema can.
 */

import { ref, type K8sObject } from './k8s-object';

export interface PolicyContext {
  /** Production: every image must be pinned by digest. */
  readonly production: boolean;
}

export interface Violation {
  readonly rule: string;
  /** `Kind namespace/name` of the offending object. */
  readonly object: string;
  readonly message: string;
}

export interface PolicyRule {
  readonly id: string;
  readonly description: string;
  check(objects: readonly K8sObject[], ctx: PolicyContext): Violation[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);
const LONG_RUNNING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Pod Security Standards, restricted profile (Kubernetes 1.31), the parts a manifest can break. */
const PSS = {
  volumeTypes: new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']),
  addableCapabilities: new Set(['NET_BIND_SERVICE']),
  seccompTypes: new Set(['RuntimeDefault', 'Localhost']),
  seLinuxTypes: new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']),
  sysctls: new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']),
};

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Variable names that look like they hold a secret: Polaris' sensitiveContainerEnvVar
 * (pkg/config/checks/sensitiveContainerEnvVar.yaml, a danger check by default), which admission
 * and CI checkers refuse when set by value.
 */
const SECRET_LOOKING = [/^AWS_SECRET_ACCESS_KEY$/i, /^GOOGLE_APPLICATION_CREDENTIALS$/i, /^AZURE_.+KEY$/i, /^OCI_CLI_KEY_CONTENT$/i, /password/i, /token/i, /bearer/i, /secret/i];

/** The pod template of a workload object (the object itself for a bare Pod). */
export function podTemplate(o: K8sObject): { metadata?: K8sObject; spec: K8sObject } | undefined {
  if (!WORKLOAD_KINDS.has(o.kind)) return undefined;
  if (o.kind === 'Pod') return { metadata: o.metadata, spec: o.spec ?? {} };
  const template = o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
  return template ? { metadata: template.metadata, spec: template.spec ?? {} } : undefined;
}

/** Every container that runs in the pod, init containers included. */
function allContainers(spec: K8sObject): K8sObject[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** CloudNativePG's objects of a kind (another operator may have a Cluster or a Pooler too). */
function cnpgOfKind(objects: readonly K8sObject[], kind: 'Cluster' | 'Pooler'): K8sObject[] {
  return ofKind(objects, kind).filter((o) => String(o.apiVersion).startsWith('postgresql.cnpg.io/'));
}

/** Containers that run as long as the pod: the main ones and sidecars (init with restartPolicy Always). */
function servingContainers(spec: K8sObject): K8sObject[] {
  return [...(spec.initContainers ?? []).filter((c: K8sObject) => c.restartPolicy === 'Always'), ...(spec.containers ?? [])];
}

/** `registry:5000/team/app:1.2@sha256:…`: repository `registry:5000/team/app`, tag `1.2`, digest `sha256:…`. */
export function parseImage(image: string): { repository: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const colon = name.lastIndexOf(':');
  // A colon before the last slash separates a registry's port, not a tag.
  if (colon <= name.lastIndexOf('/')) return { repository: name, digest };
  return { repository: name.slice(0, colon), tag: name.slice(colon + 1) || undefined, digest };
}

/** Kubernetes label-selector semantics (matchLabels and matchExpressions); no selector selects nothing. */
export function selectorMatches(selector: K8sObject | undefined | null, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const has = (key: string) => Object.hasOwn(labels, key);
  for (const [k, val] of Object.entries(selector.matchLabels ?? {})) if (!has(k) || labels[k] !== val) return false;
  for (const e of selector.matchExpressions ?? []) {
    const inValues = has(e.key) && (e.values ?? []).includes(labels[e.key]);
    const ok = e.operator === 'In' ? inValues
      : e.operator === 'NotIn' ? !inValues
        : e.operator === 'Exists' ? has(e.key)
          : e.operator === 'DoesNotExist' ? !has(e.key)
            : false; // an unknown operator is an invalid selector
    if (!ok) return false;
  }
  return true;
}

/** A selector with no requirement: as a NetworkPolicy podSelector, it selects every pod of the namespace. */
function selectsAll(selector: K8sObject | undefined): boolean {
  return Object.keys(selector?.matchLabels ?? {}).length === 0 && (selector?.matchExpressions ?? []).length === 0;
}

function namespaceOf(o: K8sObject): string | undefined {
  return o.metadata?.namespace;
}

type Workload = { readonly obj: K8sObject; readonly template: { metadata?: K8sObject; spec: K8sObject } };
// Rules ask for the same slices of one object list many times; computing them once per list
// keeps a check of thousands of objects linear instead of quadratic.
const workloadCache = new WeakMap<readonly K8sObject[], Workload[]>();
const kindCache = new WeakMap<readonly K8sObject[], Map<string, K8sObject[]>>();

function workloads(objects: readonly K8sObject[]): Workload[] {
  let out = workloadCache.get(objects);
  if (!out) {
    out = objects.flatMap((o) => {
      const t = podTemplate(o);
      return t ? [{ obj: o, template: t }] : [];
    });
    workloadCache.set(objects, out);
  }
  return out;
}

/** The objects of one kind. */
function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  let index = kindCache.get(objects);
  if (!index) {
    index = new Map();
    for (const o of objects) {
      const list = index.get(o.kind);
      if (list) list.push(o);
      else index.set(o.kind, [o]);
    }
    kindCache.set(objects, index);
  }
  return index.get(kind) ?? [];
}

/** Workloads that can run more than one pod: more than one replica, or an HPA that may scale them out. */
function multiReplicaWorkloads(objects: readonly K8sObject[]) {
  return workloads(objects).filter(({ obj }) => SCALABLE_KINDS.has(obj.kind) && maxReplicas(obj, objects) > 1);
}

/** Most replicas the workload can run: its HPA's maximum if one targets it. */
function maxReplicas(o: K8sObject, objects: readonly K8sObject[]): number {
  const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((h) => namespaceOf(h) === namespaceOf(o)
    && h.spec?.scaleTargetRef?.kind === o.kind && h.spec?.scaleTargetRef?.name === o.metadata?.name);
  return hpa ? hpa.spec.maxReplicas : o.spec?.replicas ?? 1;
}

const v = (rule: string, o: K8sObject, message: string): Violation => ({ rule, object: ref(o), message });

/** What a pod or container security context may not say under restricted, whichever level sets it. */
function securityContextProblems(sc: K8sObject, at: string): string[] {
  const out: string[] = [];
  const seccomp = sc.seccompProfile?.type;
  const se = sc.seLinuxOptions ?? {};
  if (sc.runAsNonRoot === false) out.push(`${at}: runAsNonRoot is false`);
  if (sc.runAsUser === 0) out.push(`${at}: runs as UID 0`);
  if (seccomp !== undefined && !PSS.seccompTypes.has(seccomp)) out.push(`${at}: seccompProfile ${seccomp} is not allowed (RuntimeDefault or Localhost)`);
  if (sc.appArmorProfile?.type === 'Unconfined') out.push(`${at}: appArmorProfile is Unconfined`);
  if (se.user || se.role || (se.type && !PSS.seLinuxTypes.has(se.type))) out.push(`${at}: seLinuxOptions sets a user, a role or a custom type`);
  if (sc.windowsOptions?.hostProcess) out.push(`${at}: is a Windows HostProcess`);
  return out;
}

/** Pod Security Standards restricted, plus this project's read-only root filesystem. */
function podSecurityProblems(spec: K8sObject): string[] {
  const podSc = spec.securityContext ?? {};
  const out = securityContextProblems(podSc, 'pod');
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[f]) out.push(`pod: ${f} is set`);
  for (const vol of spec.volumes ?? []) {
    for (const type of Object.keys(vol).filter((k) => k !== 'name' && !PSS.volumeTypes.has(k))) out.push(`pod: volume ${vol.name} is of type ${type}, which restricted does not allow`);
  }
  for (const s of podSc.sysctls ?? []) if (!PSS.sysctls.has(s.name)) out.push(`pod: sysctl ${s.name} is not in the safe set`);
  for (const c of allContainers(spec)) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    out.push(...securityContextProblems(sc, at));
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`);
    if (sc.privileged) out.push(`${at}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (!PSS.addableCapabilities.has(cap)) out.push(`${at}: adds capability ${cap}`);
    if (sc.runAsNonRoot === undefined && podSc.runAsNonRoot === undefined) out.push(`${at}: runAsNonRoot must be true (on the container or the pod)`);
    if (sc.seccompProfile?.type === undefined && podSc.seccompProfile?.type === undefined) out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost (on the container or the pod)`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${at}: procMount ${sc.procMount}`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: readOnlyRootFilesystem must be true`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at}: hostPort ${p.hostPort}`);
  }
  return out;
}

/**
 * The pod template annotation that says why its containers have no liveness probe (a worker whose
 * only sign of life would be a check that proves nothing): the probes rule takes a reason instead.
 */
export const NO_LIVENESS_ANNOTATION = 'probes.shipshape.dev/no-liveness';

/** What is wrong with one probe of a container, if anything. */
function probeProblem(c: K8sObject, kind: 'readinessProbe' | 'livenessProbe'): string | undefined {
  const probe = c[kind];
  if (!probe) {
    return kind === 'readinessProbe'
      ? `container ${c.name} has no readinessProbe, and a Service sends its pods traffic`
      : `container ${c.name} has no livenessProbe (or a reason in the pod template's ${NO_LIVENESS_ANNOTATION} annotation)`;
  }
  const handler = probe.httpGet ?? probe.tcpSocket ?? probe.grpc ?? probe.exec;
  if (!handler) return `container ${c.name}: ${kind} has no handler (httpGet, tcpSocket, grpc or exec)`;
  if (typeof handler.port === 'string' && !(c.ports ?? []).some((p: K8sObject) => p.name === handler.port)) {
    return `container ${c.name}: ${kind} uses port ${handler.port}, which the container does not declare`;
  }
  return undefined;
}

export const RULES: readonly PolicyRule[] = [
  {
    id: 'pod-security-restricted',
    description: 'Pods meet Pod Security Standards restricted, with a read-only root filesystem',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => podSecurityProblems(template.spec).map((m) => v(this.id, obj, m)));
    },
  },
  {
    id: 'resources',
    description: 'Every container requests and limits CPU and memory',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).flatMap((c) =>
        (['requests', 'limits'] as const).flatMap((kind) => (['cpu', 'memory'] as const)
          .filter((res) => !c.resources?.[kind]?.[res])
          .map((res) => v(this.id, obj, `container ${c.name} has no ${kind}.${res}`)))));
    },
  },
  {
    id: 'probes',
    description: 'Long-running containers (sidecars included) have a liveness probe (or a stated reason for none), and a readiness probe where a Service '
      + 'sends them traffic, each with a handler and a declared port',
    check(objects) {
      return workloads(objects).filter(({ obj }) => LONG_RUNNING_KINDS.has(obj.kind)).flatMap(({ obj, template }) => {
        // Readiness decides whether a pod is a Service's endpoint: a pod no Service selects (a
        // worker) is sent nothing, and a probe there would only slow its rollout down.
        // (A Service with an empty selector has no endpoints Kubernetes manages: it selects nothing.)
        const served = ofKind(objects, 'Service').some((svc) => namespaceOf(svc) === namespaceOf(obj) && Object.keys(svc.spec?.selector ?? {}).length > 0
          && selectorMatches({ matchLabels: svc.spec.selector }, template.metadata?.labels));
        const reason = String(template.metadata?.annotations?.[NO_LIVENESS_ANNOTATION] ?? '').trim();
        const kinds = [...(served ? ['readinessProbe'] as const : []), ...(reason ? [] : ['livenessProbe'] as const)];
        return servingContainers(template.spec).flatMap((c) => kinds.flatMap((p) => probeProblem(c, p) ?? []).map((m) => v(this.id, obj, m)));
      });
    },
  },
  {
    id: 'image-tags',
    description: 'Images name an explicit version: no latest, no untagged image, no malformed digest',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).flatMap((c) => {
        const image: string = c.image ?? '';
        if (image === '') return [v(this.id, obj, `container ${c.name} has no image`)];
        const { tag, digest } = parseImage(image);
        if (tag === 'latest') return [v(this.id, obj, `container ${c.name} uses the latest tag (${image})`)];
        if (digest !== undefined && !DIGEST.test(digest)) return [v(this.id, obj, `container ${c.name} image has a malformed digest (${image})`)];
        if (!tag && !digest) return [v(this.id, obj, `container ${c.name} image has no tag or digest (${image})`)];
        return [];
      }));
    },
  },
  {
    id: 'image-pull-policy',
    description: 'Containers pull IfNotPresent: images are pinned, and Always would make every pod start wait on the registry',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec)
        .filter((c) => c.imagePullPolicy === 'Always')
        .map((c) => v(this.id, obj, `container ${c.name} pulls Always: set imagePullPolicy IfNotPresent (the image is pinned by tag or digest; `
          + 'Always makes every start depend on the registry answering)')));
    },
  },
  {
    id: 'images-by-digest',
    description: 'In production, every image is pinned by digest: the application\'s, third parties\' and the operand images operators run',
    check(objects, ctx) {
      if (!ctx.production) return [];
      // What a node pulls, and what runs it; `image` undefined when the object leaves the choice
      // to the operator (a container without an image is image-tags' to report).
      const images: { obj: K8sObject; what: string; image: string | undefined }[] = [
        ...workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).filter((c) => c.image)
          .map((c) => ({ obj, what: `container ${c.name}`, image: c.image as string }))),
        ...cnpgOfKind(objects, 'Cluster').map((obj) => ({ obj, what: 'PostgreSQL', image: obj.spec?.imageName })),
        ...cnpgOfKind(objects, 'Pooler').map((obj) => ({
          obj,
          what: 'container pgbouncer',
          // The template's container wins over spec.pgbouncer.image (CloudNativePG 1.30 internal/controller/pooler_image.go).
          image: (obj.spec?.template?.spec?.containers ?? []).find((c: K8sObject) => c.name === 'pgbouncer')?.image ?? obj.spec?.pgbouncer?.image,
        })),
      ];
      return images.flatMap(({ obj, what, image }) => {
        if (image === undefined) return [v(this.id, obj, `${what} has no image: the operator would run its default, by tag`)];
        return DIGEST.test(parseImage(image).digest ?? '') ? [] : [v(this.id, obj, `${what} image ${image} is not pinned by digest`)];
      });
    },
  },
  {
    id: 'secrets-by-reference',
    description: 'Variables whose names look secret are read from a Secret (valueFrom), never set by value',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).flatMap((c) => (c.env ?? [])
        .filter((e: K8sObject) => e.value !== undefined && SECRET_LOOKING.some((re) => re.test(String(e.name))))
        .map((e: K8sObject) => v(this.id, obj, `container ${c.name} sets ${e.name} by value; read it from a Secret (valueFrom.secretKeyRef)`))));
    },
  },
  {
    id: 'priority-classes',
    description: 'Every pod (workloads, CloudNativePG\'s instances and PgBouncer) names a PriorityClass the output defines',
    check(objects) {
      const defined = new Set(ofKind(objects, 'PriorityClass').map((p) => p.metadata?.name));
      const named: { obj: K8sObject; name: unknown }[] = [
        ...workloads(objects).map(({ obj, template }) => ({ obj, name: template.spec.priorityClassName })),
        ...cnpgOfKind(objects, 'Cluster').map((obj) => ({ obj, name: obj.spec?.priorityClassName })),
        ...cnpgOfKind(objects, 'Pooler').map((obj) => ({ obj, name: obj.spec?.template?.spec?.priorityClassName })),
      ];
      return named.flatMap(({ obj, name }) => {
        if (name === undefined) return [v(this.id, obj, 'its pods name no PriorityClass: under node pressure they go with the batch jobs, or before them')];
        return defined.has(name) ? [] : [v(this.id, obj, `its pods name PriorityClass ${String(name)}, which the output does not define`)];
      });
    },
  },
  {
    id: 'pdb-for-multi-replica',
    description: 'Every workload that can run more than one replica has a PodDisruptionBudget',
    check(objects) {
      return multiReplicaWorkloads(objects)
        .filter(({ obj, template }) => !ofKind(objects, 'PodDisruptionBudget').some((p) => namespaceOf(p) === namespaceOf(obj)
          && selectorMatches(p.spec?.selector, template.metadata?.labels)))
        .map(({ obj }) => v(this.id, obj, 'runs more than one replica but no PodDisruptionBudget selects its pods'));
    },
  },
  {
    id: 'topology-spread',
    description: 'Multi-replica workloads spread their own pods across nodes and zones',
    check(objects) {
      return multiReplicaWorkloads(objects).flatMap(({ obj, template }) => {
        const spec = template.spec;
        const labels = template.metadata?.labels;
        const anti = spec.affinity?.podAntiAffinity ?? {};
        // A constraint or term only spreads these pods if its selector selects them.
        const terms: K8sObject[] = [
          ...(spec.topologySpreadConstraints ?? []),
          ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
          ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: K8sObject) => t.podAffinityTerm ?? {}),
        ];
        const keys = new Set(terms.filter((t) => selectorMatches(t.labelSelector, labels)).map((t) => t.topologyKey));
        return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']
          .filter((k) => !keys.has(k))
          .map((k) => v(this.id, obj, `pods are not spread over ${k}`));
      });
    },
  },
  {
    id: 'network-policy-coverage',
    description: 'Every namespace with pods denies by default, and every pod is selected by a NetworkPolicy',
    check(objects) {
      const policies = ofKind(objects, 'NetworkPolicy');
      const out: Violation[] = [];
      const namespaces = new Set(workloads(objects).map(({ obj }) => namespaceOf(obj)));
      for (const ns of namespaces) {
        const denies = policies.some((p) => namespaceOf(p) === ns && selectsAll(p.spec?.podSelector)
          && ['Ingress', 'Egress'].every((t) => p.spec?.policyTypes?.includes(t))
          && !(p.spec?.ingress?.length) && !(p.spec?.egress?.length));
        if (!denies) out.push({ rule: this.id, object: `Namespace ${ns ?? '(none)'}`, message: 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' });
      }
      for (const { obj, template } of workloads(objects)) {
        // The namespace-wide policies (deny, DNS) select every pod; this asks for one that names it.
        const selected = policies.some((p) => namespaceOf(p) === namespaceOf(obj) && !selectsAll(p.spec?.podSelector)
          && selectorMatches(p.spec.podSelector, template.metadata?.labels));
        if (!selected) out.push(v(this.id, obj, 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared'));
      }
      return out;
    },
  },
  {
    id: 'service-selects-pods',
    description: 'Every Service selects at least one pod template, and every pod it selects declares the ports it targets',
    check(objects) {
      return objects.filter((o) => o.kind === 'Service' && o.spec?.type !== 'ExternalName').flatMap((svc) => {
        const selector = svc.spec?.selector;
        if (!selector || Object.keys(selector).length === 0) return [v(this.id, svc, 'has no selector')];
        const selected = workloads(objects).filter(({ obj, template }) => namespaceOf(obj) === namespaceOf(svc)
          && selectorMatches({ matchLabels: selector }, template.metadata?.labels));
        if (selected.length === 0) return [v(this.id, svc, 'selects no pod template')];
        return (svc.spec.ports ?? []).flatMap((p: K8sObject) => {
          const target = p.targetPort ?? p.port;
          const declares = (spec: K8sObject) => servingContainers(spec).some((c) => (c.ports ?? [])
            .some((cp: K8sObject) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target)));
          return selected.filter(({ template }) => !declares(template.spec))
            .map(({ obj }) => v(this.id, svc, `port ${p.name ?? p.port} targets ${target}, which ${ref(obj)} does not declare`));
        });
      });
    },
  },
  {
    id: 'httproute-backends-exist',
    description: 'Every HTTPRoute backend (and mirror) is a Service in the output, on a port it exposes',
    check(objects) {
      // Mirrors are filters of a rule or of one of its backends.
      const mirrors = (filters: K8sObject[] | undefined): K8sObject[] => (filters ?? []).flatMap((f) => f.requestMirror?.backendRef ?? []);
      const backends = (rule: K8sObject): K8sObject[] => {
        const refs: K8sObject[] = rule.backendRefs ?? [];
        return [...refs, ...mirrors(rule.filters), ...refs.flatMap((b) => mirrors(b.filters))];
      };
      return objects.filter((o) => o.kind === 'HTTPRoute').flatMap((route) =>
        (route.spec?.rules ?? []).flatMap(backends).flatMap((b: K8sObject) => {
          const kind: string = b.kind ?? 'Service';
          const group: string = b.group ?? '';
          if (kind !== 'Service' || group !== '') return [v(this.id, route, `backend ${group ? `${kind}.${group}` : kind}/${b.name} is not a Service`)];
          const ns = b.namespace ?? namespaceOf(route);
          const svc = ofKind(objects, 'Service').find((o) => o.metadata?.name === b.name && namespaceOf(o) === ns);
          if (!svc) return [v(this.id, route, `backend Service ${ns}/${b.name} does not exist`)];
          if (!(svc.spec?.ports ?? []).some((p: K8sObject) => p.port === b.port)) return [v(this.id, route, `backend Service ${b.name} has no port ${b.port}`)];
          return [];
        }));
    },
  },
  {
    id: 'hpa-target-exists',
    description: 'Every HorizontalPodAutoscaler targets a workload in the output, which leaves replicas to it',
    check(objects) {
      return objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').flatMap((hpa) => {
        const t = hpa.spec?.scaleTargetRef;
        if (!t) return [v(this.id, hpa, 'has no scaleTargetRef')];
        const target = ofKind(objects, t.kind).find((o) => o.apiVersion === t.apiVersion && o.metadata?.name === t.name
          && namespaceOf(o) === namespaceOf(hpa));
        if (!target) return [v(this.id, hpa, `target ${t.apiVersion} ${t.kind} ${t.name} does not exist`)];
        if (target.spec?.replicas !== undefined) return [v(this.id, hpa, `target ${t.kind} ${t.name} sets replicas, which the HPA owns`)];
        return [];
      });
    },
  },
  {
    id: 'no-secrets',
    description: 'No Secret objects in the output: secret values never enter git',
    check(objects) {
      return objects.filter((o) => o.kind === 'Secret').map((o) => v(this.id, o, 'is a Secret; use an ExternalSecret'));
    },
  },
  {
    id: 'rbac-least-privilege',
    description: 'No binding to cluster-admin or system:masters, and no wildcard in RBAC rules',
    check(objects) {
      const out: Violation[] = [];
      for (const o of objects) {
        if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
          if (o.roleRef?.kind === 'ClusterRole' && o.roleRef?.name === 'cluster-admin') out.push(v(this.id, o, 'binds cluster-admin'));
          if ((o.subjects ?? []).some((s: K8sObject) => s.kind === 'Group' && s.name === 'system:masters')) out.push(v(this.id, o, 'binds the system:masters group'));
        }
        if (o.kind === 'Role' || o.kind === 'ClusterRole') {
          for (const [i, r] of (o.rules ?? []).entries()) {
            for (const field of ['apiGroups', 'resources', 'verbs', 'nonResourceURLs'] as const) {
              for (const value of (r[field] ?? []) as string[]) {
                if (value.includes('*')) out.push(v(this.id, o, `rules[${i}].${field} has the wildcard ${value}`));
              }
            }
          }
        }
      }
      return out;
    },
  },
  {
    id: 'recommended-labels',
    description: 'Every object carries the recommended app.kubernetes.io labels',
    check(objects) {
      const required = ['name', 'instance', 'component', 'part-of', 'managed-by'].map((l) => `app.kubernetes.io/${l}`);
      return objects.flatMap((o) => required.filter((l) => !o.metadata?.labels?.[l]).map((l) => v(this.id, o, `has no ${l} label`)));
    },
  },
  {
    id: 'no-cdk8s-hash-labels',
    description: 'No cdk8s metadata hash label in selectors or templates',
    check(objects) {
      return objects.filter((o) => JSON.stringify(o).includes('cdk8s.io/metadata.addr'))
        .map((o) => v(this.id, o, 'carries the cdk8s.io/metadata.addr label'));
    },
  },
];

/** Every violation of every rule. */
export function checkPolicy(objects: readonly K8sObject[], ctx: PolicyContext): Violation[] {
  return RULES.flatMap((r) => r.check(objects, ctx));
}
