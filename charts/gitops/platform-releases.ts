/**
 * The platform operators every cluster runs, each an upstream Helm chart at an exact version: the
 * one place a chart, its repository, its version and its namespace are written. Bump a version only
 * together with its chart's files in ../shared/charts/<chart>-<version>/, which the values tests read
 * (every key we write must exist in that values.yaml and pass that values.schema.json).
 */

/** The platform releases, by the name of their Argo CD Application. */
export type PlatformReleaseName =
  | 'argo-cd'
  | 'cert-manager'
  | 'envoy-gateway'
  | 'external-secrets'
  | 'cloudnative-pg'
  | 'plugin-barman-cloud'
  | 'kube-prometheus-stack'
  | 'loki'
  | 'alloy'
  | 'trivy-operator'
  | 'falco'
  | 'falcosidekick';

export interface PlatformRelease {
  /** Chart name in its repository. */
  readonly chart: string;
  /**
   * Helm repository URL, or for a chart published only to an OCI registry the registry path
   * without scheme (Argo CD's form for OCI Helm repositories, declared with `enableOCI`).
   */
  readonly repoURL: string;
  /** Whether `repoURL` is an OCI registry. */
  readonly oci: boolean;
  /** Exact chart version. */
  readonly version: string;
  /**
   * Namespace the release is installed in (made by the root Application), or which configured
   * namespace it is: Argo CD's (`delivery.namespace`), Prometheus' (`monitoringNamespace`), the
   * gateway proxies' (`gateway.proxyNamespace`, where Envoy Gateway runs them beside its controller).
   */
  readonly namespace: string | { readonly configured: keyof ConfiguredNamespaces };
  /**
   * Pod Security Standard enforced on that namespace. `baseline` for operators whose charts do not
   * set every field `restricted` requires (warned and audited at `restricted`); `privileged` only
   * where a node agent needs the host: Falco (the kernel's events) and the log collector (the
   * nodes' log files), each in a namespace of its own.
   */
  readonly podSecurity: 'restricted' | 'baseline' | 'privileged';
  /**
   * Sync wave in the root Application. Operators whose CRDs others need come first: the
   * Prometheus operator's (every chart here renders ServiceMonitors or PodMonitors, and Argo CD's
   * dry run refuses a kind the cluster does not serve yet), then Gateway API's from Envoy Gateway
   * (cert-manager with Gateway API support will not start without them: cert-manager
   * pkg/controller/context.go), then cert-manager (the Barman Cloud plugin asks it for its
   * certificates), then CloudNativePG before its plugin.
   */
  readonly wave: number;
}

/** The namespaces the configuration names. */
export interface ConfiguredNamespaces {
  readonly argocd: string;
  readonly monitoring: string;
  readonly gateway: string;
}

/** The namespace a release is installed in, in a cluster whose configured namespaces are these. */
export function releaseNamespace(release: PlatformRelease, configured: ConfiguredNamespaces): string {
  return typeof release.namespace === 'string' ? release.namespace : configured[release.namespace.configured];
}

// `satisfies`, not a type annotation: a values module that needs a fixed namespace (Loki's, for
// the log shipper's address) reads it from here as a string.
export const PLATFORM_RELEASES = {
  'argo-cd': {
    chart: 'argo-cd', repoURL: 'https://argoproj.github.io/argo-helm', oci: false, version: '10.1.1',
    namespace: { configured: 'argocd' }, podSecurity: 'baseline', wave: -10,
  },
  'cert-manager': {
    chart: 'cert-manager', repoURL: 'https://charts.jetstack.io', oci: false, version: 'v1.21.1',
    namespace: 'cert-manager', podSecurity: 'restricted', wave: -6,
  },
  'external-secrets': {
    chart: 'external-secrets', repoURL: 'https://charts.external-secrets.io', oci: false, version: '2.9.0',
    namespace: 'external-secrets', podSecurity: 'restricted', wave: -6,
  },
  'kube-prometheus-stack': {
    chart: 'kube-prometheus-stack', repoURL: 'https://prometheus-community.github.io/helm-charts', oci: false, version: '88.5.3',
    namespace: { configured: 'monitoring' }, podSecurity: 'baseline', wave: -8,
  },
  'envoy-gateway': {
    chart: 'gateway-helm', repoURL: 'docker.io/envoyproxy', oci: true, version: 'v1.9.0',
    namespace: { configured: 'gateway' }, podSecurity: 'baseline', wave: -7,
  },
  'cloudnative-pg': {
    chart: 'cloudnative-pg', repoURL: 'https://cloudnative-pg.github.io/charts', oci: false, version: '0.29.0',
    namespace: 'cnpg-system', podSecurity: 'restricted', wave: -5,
  },
  // The plugin runs beside the operator, in its namespace, and needs cert-manager for its TLS.
  'plugin-barman-cloud': {
    chart: 'plugin-barman-cloud', repoURL: 'https://cloudnative-pg.github.io/charts', oci: false, version: '0.7.0',
    namespace: 'cnpg-system', podSecurity: 'restricted', wave: -4,
  },
  loki: {
    chart: 'loki', repoURL: 'https://grafana-community.github.io/helm-charts', oci: false, version: '18.11.0',
    namespace: 'logging', podSecurity: 'baseline', wave: -3,
  },
  // The log collector reads the nodes' log files (a hostPath volume, which baseline refuses): a
  // namespace of its own, so that Loki's stays baseline.
  alloy: {
    chart: 'alloy', repoURL: 'https://grafana.github.io/helm-charts', oci: false, version: '1.11.1',
    namespace: 'log-collector', podSecurity: 'privileged', wave: -3,
  },
  'trivy-operator': {
    chart: 'trivy-operator', repoURL: 'https://aquasecurity.github.io/helm-charts', oci: false, version: '0.34.0',
    namespace: 'trivy-system', podSecurity: 'baseline', wave: -3,
  },
  falcosidekick: {
    chart: 'falcosidekick', repoURL: 'https://falcosecurity.github.io/charts', oci: false, version: '0.14.0',
    namespace: 'falco', podSecurity: 'privileged', wave: -3,
  },
  // After its event sink: events sent before Falcosidekick is up are lost, not queued.
  falco: {
    chart: 'falco', repoURL: 'https://falcosecurity.github.io/charts', oci: false, version: '9.1.0',
    namespace: 'falco', podSecurity: 'privileged', wave: -2,
  },
} as const satisfies Readonly<Record<PlatformReleaseName, PlatformRelease>>;
