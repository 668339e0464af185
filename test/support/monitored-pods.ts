/**
 * The pods and Services a monitor of the output may select that the output does not hold itself:
 * those the operators make from its objects (CloudNativePG's instances and PgBouncers, Envoy
 * Gateway's proxies) and those the platform's Helm charts install (from the Argo CD Applications
 * the output's bootstrap holds), with the labels and ports their source gives them at the versions
 * deployed. Each is cited; add a chart here when a monitor of the output selects what it installs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { K8sObject } from '../../pipeline/k8s-object';
import { podTemplate } from '../../pipeline/policy';
import { SHARED } from './crd-defaults';

export interface ContainerPort { readonly name?: string; readonly containerPort: number }

/** A pod as the API server will have it: from a workload's template, an operator or a chart. */
export interface Pod {
  /** What makes it, for messages. */
  readonly origin: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
}

const portsOf = (spec: K8sObject): ContainerPort[] => (spec.containers ?? []).flatMap((c: K8sObject) => c.ports ?? []);

/** The pods of the output's own workloads. */
export function workloadPods(objects: readonly K8sObject[]): Pod[] {
  return objects.flatMap((o) => {
    const template = podTemplate(o);
    if (!template) return [];
    return [{ origin: `${o.kind} ${o.metadata.name}`, namespace: o.metadata.namespace, labels: template.metadata?.labels ?? {}, ports: portsOf(template.spec) }];
  });
}

const cnpg = (objects: readonly K8sObject[], kind: string) => objects.filter((o) => o.kind === kind && String(o.apiVersion).startsWith('postgresql.cnpg.io/'));

/** The pods CloudNativePG 1.30 makes from the output's Clusters and Poolers. */
export function cloudnativePgPods(objects: readonly K8sObject[]): Pod[] {
  const pods: Pod[] = [];
  for (const c of cnpg(objects, 'Cluster')) {
    const ns = c.metadata.namespace;
    const cluster = c.metadata.name;
    // pkg/specs/pods.go buildInstance: these labels; then spec.inheritedMetadata.labels over them
    // (internal/controller/cluster_create.go, pkg/utils/labels_annotations.go InheritLabels). The
    // postgres container's ports (createPostgresContainers): postgresql 5432, metrics 9187
    // (pkg/management/url PostgresMetricsPort), status 8000 (StatusPort).
    const inherited = c.spec.inheritedMetadata?.labels ?? {};
    for (let serial = 1; serial <= c.spec.instances; serial++) {
      pods.push({
        origin: `instance ${cluster}-${serial} of Cluster ${cluster}`,
        namespace: ns,
        labels: {
          'cnpg.io/cluster': cluster, 'cnpg.io/instanceName': `${cluster}-${serial}`, 'cnpg.io/podRole': 'instance',
          'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/instance': cluster, 'app.kubernetes.io/component': 'database',
          'app.kubernetes.io/managed-by': 'cloudnative-pg',
          ...inherited,
        },
        ports: [{ name: 'postgresql', containerPort: 5432 }, { name: 'metrics', containerPort: 9187 }, { name: 'status', containerPort: 8000 }],
      });
    }
    // pkg/specs/jobs.go CreatePrimaryJob: the initdb (or join, recovery…) Job's pod carries the
    // cluster and a job role, no podRole, and no metrics port.
    pods.push({ origin: `initdb Job of Cluster ${cluster}`, namespace: ns, labels: { 'cnpg.io/cluster': cluster, 'cnpg.io/jobRole': 'initdb', ...inherited }, ports: [] });
  }
  for (const p of cnpg(objects, 'Pooler')) {
    // pkg/specs/pgbouncer/deployments.go Deployment: the template's labels, then these over them;
    // the pgbouncer container gets the ports pgbouncer 5432 (pkg/management/pgbouncer/config) and
    // metrics 9127 (pkg/management/url PgBouncerMetricsPort).
    pods.push({
      origin: `PgBouncer pods of Pooler ${p.metadata.name}`,
      namespace: p.metadata.namespace,
      labels: {
        ...(p.spec.template?.metadata?.labels ?? {}),
        'cnpg.io/poolerName': p.metadata.name, 'cnpg.io/cluster': p.spec.cluster.name, 'cnpg.io/podRole': 'pooler',
        'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/instance': p.spec.cluster.name, 'app.kubernetes.io/component': 'pooler',
        'app.kubernetes.io/managed-by': 'cloudnative-pg',
      },
      ports: [{ name: 'pgbouncer', containerPort: 5432 }, { name: 'metrics', containerPort: 9127 }],
    });
  }
  return pods;
}

/**
 * Envoy Gateway v1.9.0 runs a Gateway's proxies in its own namespace (`gateway.proxyNamespace`,
 * where the platform installs it), labelled by internal/infrastructure/kubernetes/proxy/resource.go
 * EnvoyAppLabel and the owning Gateway (internal/gatewayapi/helpers.go GatewayOwnerLabels); the
 * envoy container has the ports metrics 19001 (internal/xds/bootstrap EnvoyStatsPort, while the
 * Prometheus endpoint is on, its default) and readiness 19003 (expectedProxyContainers).
 */
export function gatewayProxyPods(objects: readonly K8sObject[], proxyNamespace: string): Pod[] {
  return objects.filter((o) => o.kind === 'Gateway').map((g) => ({
    origin: `Envoy proxies of Gateway ${g.metadata.name}`,
    namespace: proxyNamespace,
    labels: {
      'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy', 'app.kubernetes.io/managed-by': 'envoy-gateway',
      'gateway.envoyproxy.io/owning-gateway-name': g.metadata.name, 'gateway.envoyproxy.io/owning-gateway-namespace': g.metadata.namespace,
    },
    ports: [{ name: 'metrics', containerPort: 19001 }, { name: 'readiness', containerPort: 19003 }],
  }));
}

/** A chart value: the Application's, else the chart's default (../shared/charts/<chart>-<version>/values.yaml). */
function chartValue(app: K8sObject, path: readonly string[]): unknown {
  const defaults = parse(readFileSync(join(SHARED, 'charts', `${app.spec.source.chart}-${app.spec.source.targetRevision}`, 'values.yaml'), 'utf8'));
  const at = (root: unknown) => path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), root);
  return at(app.spec.source.helm?.valuesObject) ?? at(defaults);
}

/** What the platform's charts install that a monitor may select: their Services, and the pods behind them. */
export function platformWorkloads(applications: readonly K8sObject[]): { services: K8sObject[]; pods: Pod[] } {
  const services: K8sObject[] = [];
  const pods: Pod[] = [];
  for (const app of applications.filter((o) => o.kind === 'Application' && o.spec?.source?.chart)) {
    const release = app.spec.source.helm?.releaseName ?? app.metadata.name;
    const namespace = app.spec.destination.namespace;
    if (app.spec.source.chart === 'gateway-helm') {
      // envoyproxy/gateway charts/gateway-helm at v1.9.0: templates/envoy-gateway-service.yaml (Service
      // envoy-gateway, labels control-plane and eg.labels, selector control-plane and
      // eg.selectorLabels, ports deployment.ports, plus webhook 9443 with the topology injector),
      // templates/envoy-gateway-deployment.yaml (pod labels control-plane, eg.selectorLabels and
      // deployment.pod.labels; the container's ports deployment.ports), _helpers.tpl (eg.name: the
      // chart's name unless nameOverride; instance: the release).
      const name = (chartValue(app, ['nameOverride']) as string | undefined) || 'gateway-helm';
      const selector = { 'control-plane': 'envoy-gateway', 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': release };
      const ports = [
        ...(chartValue(app, ['deployment', 'ports']) as { name: string; port: number; targetPort: number }[]),
        ...(chartValue(app, ['topologyInjector', 'enabled']) ? [{ name: 'webhook', port: 9443, targetPort: 9443 }] : []),
      ];
      services.push({
        apiVersion: 'v1', kind: 'Service',
        metadata: { name: 'envoy-gateway', namespace, labels: { ...selector, 'app.kubernetes.io/managed-by': 'Helm' } },
        spec: { selector, ports },
      });
      pods.push({
        origin: `Envoy Gateway controller (chart gateway-helm, release ${release})`,
        namespace,
        labels: { ...selector, ...(chartValue(app, ['deployment', 'pod', 'labels']) as Record<string, string> | undefined ?? {}) },
        ports: ports.map((p) => ({ name: p.name, containerPort: p.targetPort })),
      });
    }
  }
  return { services, pods };
}
