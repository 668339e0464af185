/**
 * Production-readiness and security rules over everything an environment synthesizes. Each rule
 * looks at the whole set of objects, so it can check references between them (a Service that
 * selects no pod, an HTTPRoute to a Service that does not exist), which no per-object schema can.
 */

export type K8sObject = Record<string, any>;

export interface PolicyContext {
  /** Production: app images must be pinned by digest. */
  readonly production: boolean;
  /** Repositories of the application's own images (as opposed to third-party ones). */
  readonly appImageRepositories: ReadonlySet<string>;
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

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);
const LONG_RUNNING_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const ALLOWED_CAPABILITIES = new Set(['NET_BIND_SERVICE']);

export function ref(o: K8sObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind} ${ns}${o.metadata?.name}`;
}

/** The pod template of a workload object (the object itself for a bare Pod). */
export function podTemplate(o: K8sObject): { metadata?: K8sObject; spec: K8sObject } | undefined {
  if (!WORKLOAD_KINDS.has(o.kind)) return undefined;
  if (o.kind === 'Pod') return { metadata: o.metadata, spec: o.spec ?? {} };
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template;
  return o.spec?.template;
}

function allContainers(spec: K8sObject): K8sObject[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** Kubernetes label-selector semantics (matchLabels and matchExpressions). */
export function selectorMatches(selector: K8sObject | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !(has && inValues)) return false;
    if (e.operator === 'NotIn' && has && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function namespaceOf(o: K8sObject): string | undefined {
  return o.metadata?.namespace;
}

function workloads(objects: readonly K8sObject[]) {
  return objects.flatMap((o) => {
    const t = podTemplate(o);
    return t ? [{ obj: o, template: t }] : [];
  });
}

/** Most replicas the workload can run: its HPA's maximum if one targets it. */
function maxReplicas(o: K8sObject, objects: readonly K8sObject[]): number {
  const hpa = objects.find((h) => h.kind === 'HorizontalPodAutoscaler' && namespaceOf(h) === namespaceOf(o)
    && h.spec?.scaleTargetRef?.kind === o.kind && h.spec?.scaleTargetRef?.name === o.metadata?.name);
  return hpa ? hpa.spec.maxReplicas : o.spec?.replicas ?? 1;
}

const v = (rule: string, o: K8sObject, message: string): Violation => ({ rule, object: ref(o), message });

export const RULES: readonly PolicyRule[] = [
  {
    id: 'pod-security-restricted',
    description: 'Pods meet Pod Security Standards restricted, with a read-only root filesystem',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => {
        const out: Violation[] = [];
        const spec = template.spec;
        const podSc = spec.securityContext ?? {};
        for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[f]) out.push(v(this.id, obj, `${f} is set`));
        for (const vol of spec.volumes ?? []) if (vol.hostPath) out.push(v(this.id, obj, `volume ${vol.name} is a hostPath`));
        if (podSc.runAsUser === 0) out.push(v(this.id, obj, 'pod runs as UID 0'));
        for (const c of allContainers(spec)) {
          const sc = c.securityContext ?? {};
          const at = `container ${c.name}`;
          if (sc.allowPrivilegeEscalation !== false) out.push(v(this.id, obj, `${at}: allowPrivilegeEscalation must be false`));
          if (sc.privileged) out.push(v(this.id, obj, `${at}: privileged`));
          if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(v(this.id, obj, `${at}: capabilities must drop ALL`));
          for (const cap of sc.capabilities?.add ?? []) if (!ALLOWED_CAPABILITIES.has(cap)) out.push(v(this.id, obj, `${at}: adds capability ${cap}`));
          if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(v(this.id, obj, `${at}: runAsNonRoot must be true`));
          if (sc.runAsUser === 0) out.push(v(this.id, obj, `${at}: runs as UID 0`));
          const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
          if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(v(this.id, obj, `${at}: seccompProfile must be RuntimeDefault or Localhost`));
          if (sc.readOnlyRootFilesystem !== true) out.push(v(this.id, obj, `${at}: readOnlyRootFilesystem must be true`));
          for (const p of c.ports ?? []) if (p.hostPort) out.push(v(this.id, obj, `${at}: hostPort ${p.hostPort}`));
        }
        return out;
      });
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
    description: 'Long-running containers have readiness and liveness probes',
    check(objects) {
      return workloads(objects).filter(({ obj }) => LONG_RUNNING_KINDS.has(obj.kind)).flatMap(({ obj, template }) =>
        (template.spec.containers ?? []).flatMap((c: K8sObject) => (['readinessProbe', 'livenessProbe'] as const)
          .filter((p) => !c[p]).map((p) => v(this.id, obj, `container ${c.name} has no ${p}`))));
    },
  },
  {
    id: 'image-tags',
    description: 'Images name an explicit version: no latest, no untagged image',
    check(objects) {
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).flatMap((c) => {
        const image: string = c.image ?? '';
        const [nameAndTag, digest] = image.split('@');
        const lastSlash = nameAndTag.lastIndexOf('/');
        const tag = nameAndTag.slice(lastSlash + 1).split(':')[1];
        if (tag === 'latest') return [v(this.id, obj, `container ${c.name} uses the latest tag (${image})`)];
        if (!tag && !digest) return [v(this.id, obj, `container ${c.name} image has no tag or digest (${image})`)];
        return [];
      }));
    },
  },
  {
    id: 'app-images-by-digest',
    description: 'In production, the application\'s own images are pinned by digest',
    check(objects, ctx) {
      if (!ctx.production) return [];
      return workloads(objects).flatMap(({ obj, template }) => allContainers(template.spec).flatMap((c) => {
        const image: string = c.image ?? '';
        const [nameAndTag, digest] = image.split('@');
        const repo = nameAndTag.replace(/:[^/]*$/, '');
        return ctx.appImageRepositories.has(repo) && !/^sha256:[a-f0-9]{64}$/.test(digest ?? '')
          ? [v(this.id, obj, `container ${c.name} image ${image} is not pinned by digest`)] : [];
      }));
    },
  },
  {
    id: 'pdb-for-multi-replica',
    description: 'Every workload that can run more than one replica has a PodDisruptionBudget',
    check(objects) {
      return workloads(objects)
        .filter(({ obj }) => (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') && maxReplicas(obj, objects) > 1)
        .filter(({ obj, template }) => !objects.some((p) => p.kind === 'PodDisruptionBudget' && namespaceOf(p) === namespaceOf(obj)
          && selectorMatches(p.spec?.selector, template.metadata?.labels)))
        .map(({ obj }) => v(this.id, obj, 'runs more than one replica but no PodDisruptionBudget selects its pods'));
    },
  },
  {
    id: 'topology-spread',
    description: 'Multi-replica workloads spread across nodes and zones',
    check(objects) {
      return workloads(objects)
        .filter(({ obj }) => (obj.kind === 'Deployment' || obj.kind === 'StatefulSet') && maxReplicas(obj, objects) > 1)
        .flatMap(({ obj, template }) => {
          const spec = template.spec;
          const anti = spec.affinity?.podAntiAffinity ?? {};
          const keys = new Set<string>([
            ...(spec.topologySpreadConstraints ?? []).map((t: K8sObject) => t.topologyKey),
            ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t: K8sObject) => t.topologyKey),
            ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: K8sObject) => t.podAffinityTerm?.topologyKey),
          ]);
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
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      const out: Violation[] = [];
      const namespaces = new Set(workloads(objects).map(({ obj }) => namespaceOf(obj)));
      for (const ns of namespaces) {
        const denies = policies.some((p) => namespaceOf(p) === ns && Object.keys(p.spec?.podSelector ?? {}).length === 0
          && ['Ingress', 'Egress'].every((t) => p.spec?.policyTypes?.includes(t))
          && !(p.spec?.ingress?.length) && !(p.spec?.egress?.length));
        if (!denies) out.push({ rule: this.id, object: `Namespace ${ns}`, message: 'has pods but no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)' });
      }
      for (const { obj, template } of workloads(objects)) {
        // The namespace-wide policies (deny, DNS) select every pod; this asks for one that names it.
        const selected = policies.some((p) => namespaceOf(p) === namespaceOf(obj)
          && Object.keys(p.spec?.podSelector ?? {}).length > 0
          && selectorMatches(p.spec.podSelector, template.metadata?.labels));
        if (!selected) out.push(v(this.id, obj, 'no NetworkPolicy selects its pods by label: its allowed flows are undeclared'));
      }
      return out;
    },
  },
  {
    id: 'service-selects-pods',
    description: 'Every Service selects at least one pod template and targets a port it declares',
    check(objects) {
      return objects.filter((o) => o.kind === 'Service' && o.spec?.type !== 'ExternalName').flatMap((svc) => {
        const selector = svc.spec?.selector;
        if (!selector || Object.keys(selector).length === 0) return [v(this.id, svc, 'has no selector')];
        const templates = workloads(objects).filter(({ obj, template }) => namespaceOf(obj) === namespaceOf(svc)
          && selectorMatches({ matchLabels: selector }, template.metadata?.labels));
        if (templates.length === 0) return [v(this.id, svc, 'selects no pod template')];
        return (svc.spec.ports ?? []).flatMap((p: K8sObject) => {
          const target = p.targetPort ?? p.port;
          const declared = templates.some(({ template }) => allContainers(template.spec).some((c) => (c.ports ?? [])
            .some((cp: K8sObject) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target))));
          return declared ? [] : [v(this.id, svc, `port ${p.name ?? p.port} targets ${target}, which no selected container declares`)];
        });
      });
    },
  },
  {
    id: 'httproute-backends-exist',
    description: 'Every HTTPRoute backend is a Service in the output, on a port it exposes',
    check(objects) {
      return objects.filter((o) => o.kind === 'HTTPRoute').flatMap((route) =>
        (route.spec?.rules ?? []).flatMap((rule: K8sObject) => (rule.backendRefs ?? []).flatMap((b: K8sObject) => {
          if ((b.kind ?? 'Service') !== 'Service' || (b.group ?? '') !== '') return [v(this.id, route, `backend ${b.kind}/${b.name} is not a Service`)];
          const ns = b.namespace ?? namespaceOf(route);
          const svc = objects.find((o) => o.kind === 'Service' && o.metadata?.name === b.name && namespaceOf(o) === ns);
          if (!svc) return [v(this.id, route, `backend Service ${ns}/${b.name} does not exist`)];
          if (!(svc.spec?.ports ?? []).some((p: K8sObject) => p.port === b.port)) return [v(this.id, route, `backend Service ${b.name} has no port ${b.port}`)];
          return [];
        })));
    },
  },
  {
    id: 'hpa-target-exists',
    description: 'Every HorizontalPodAutoscaler targets a workload in the output, which leaves replicas to it',
    check(objects) {
      return objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').flatMap((hpa) => {
        const t = hpa.spec?.scaleTargetRef ?? {};
        const target = objects.find((o) => o.kind === t.kind && o.metadata?.name === t.name && namespaceOf(o) === namespaceOf(hpa));
        if (!target) return [v(this.id, hpa, `target ${t.kind} ${t.name} does not exist`)];
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
    description: 'No binding to cluster-admin and no wildcard in RBAC rules',
    check(objects) {
      const out: Violation[] = [];
      for (const o of objects) {
        if ((o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && o.roleRef?.name === 'cluster-admin') {
          out.push(v(this.id, o, 'binds cluster-admin'));
        }
        if (o.kind === 'Role' || o.kind === 'ClusterRole') {
          for (const [i, r] of (o.rules ?? []).entries()) {
            for (const field of ['apiGroups', 'resources', 'verbs', 'nonResourceURLs'] as const) {
              if ((r[field] ?? []).includes('*')) out.push(v(this.id, o, `rules[${i}].${field} contains '*'`));
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
