/**
 * The platform operators every cluster runs, each an upstream Helm chart at an exact version: the
 * one place a chart, its repository, its version and its namespace are written. Bump a version only
 * together with its chart's files in ../shared/charts/<chart>-<version>/, which the values tests read
 * (every key we write must exist in that values.yaml and pass that values.schema.json).
 *
 * Also the one place the versions of what serves our custom resources are written: each release whose
 * CRDs define a kind our output emits names the operator version that runs and the CRD bundle the
 * checks read (schemas, and later defaults and CEL rules), in ../shared. test/platform-versions.test.ts
 * fails when they drift apart: bump an operator together with its CRDs, or say in `crdsFrom` why not.
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
  /**
   * The operator that serves the custom resources of this release's CRDs, at the version that runs:
   * present exactly when our output emits a kind those CRDs define (and then with `crds`).
   */
  readonly operator?: OperatorVersion;
  /** The CRDs the checks read for this release's kinds. */
  readonly crds?: CrdBundle;
  /** Why `crds` is not the release of the operator's own version, where it is not. */
  readonly crdsFrom?: CrdsFrom;
}

/** What runs. */
export interface OperatorVersion {
  /** The project whose release runs, by the name its repository has (`prometheus-operator`). */
  readonly project: string;
  /**
   * Its version (a git tag): the chart's appVersion, or where our values set the image tag over it
   * (`imageTag`), that tag.
   */
  readonly version: string;
  /** Path, in this release's values, of the image tag our values set instead of the chart's appVersion. */
  readonly imageTag?: readonly string[];
}

/** A set of CustomResourceDefinitions copied unchanged from one upstream release. */
export interface CrdBundle {
  /** The project that publishes them (`gateway-api`, `cert-manager`). */
  readonly project: string;
  /** Its release (a git tag) the files come from. */
  readonly version: string;
  /**
   * Where the files are, relative to ../shared: `platform-crds/<project>-<version>`, a folder of the
   * bundle's own whose SOURCE names the upstream commit, or `crds`, where each file of the bundle is
   * named `<project>-<version without the v>_<plural>.yaml`.
   */
  readonly dir: string;
}

/**
 * How far the CRDs checked against may be from what runs, and why. `bundled`: the operator's release
 * installs another project's CRDs, at the version `reason` names beside the operator's own (a fact of
 * that release, so bumping either version without rewriting it fails). `same-minor`: a patch release
 * of the same project apart. `one-minor-behind`: the same project's CRDs, at most one minor older.
 */
export interface CrdsFrom {
  readonly drift: 'bundled' | 'same-minor' | 'one-minor-behind';
  readonly reason: string;
}

/** The files of a bundle: `dir` below ../shared, and those of its files that are the bundle's. */
export function crdBundleFiles(bundle: CrdBundle): { readonly dir: string; readonly includes: (fileName: string) => boolean } {
  const prefix = `${bundle.project}-${bundle.version.replace(/^v/, '')}_`;
  return {
    dir: bundle.dir,
    includes: (fileName) => /\.ya?ml$/.test(fileName) && fileName !== 'kustomization.yaml' && (bundle.dir !== 'crds' || fileName.startsWith(prefix)),
  };
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
    // 3.6.3 fixes four HIGH advisories, among them an unauthenticated API-server crash; the chart's
    // appVersion is older (v3.4.4), so the values set every component's image (ARGOCD_VERSION).
    operator: { project: 'argo-cd', version: 'v3.6.3', imageTag: ['global', 'image', 'tag'] },
    crds: { project: 'argo-cd', version: 'v3.5.1', dir: 'platform-crds/argo-cd-v3.5.1' },
    crdsFrom: {
      drift: 'one-minor-behind',
      reason: 'v3.5.1 holds the newest Argo CD CRDs at hand, one minor behind the v3.6.3 that runs (the cluster has '
        + 'v3.6.3\'s, installed by hand from manifests/crds, as the chart\'s own are off): a field new in 3.6 is refused here.',
    },
  },
  'cert-manager': {
    chart: 'cert-manager', repoURL: 'https://charts.jetstack.io', oci: false, version: 'v1.21.1',
    namespace: 'cert-manager', podSecurity: 'restricted', wave: -6,
    operator: { project: 'cert-manager', version: 'v1.21.1' },
    crds: { project: 'cert-manager', version: 'v1.21.1', dir: 'platform-crds/cert-manager-v1.21.1' },
  },
  'external-secrets': {
    chart: 'external-secrets', repoURL: 'https://charts.external-secrets.io', oci: false, version: '2.9.0',
    namespace: 'external-secrets', podSecurity: 'restricted', wave: -6,
    operator: { project: 'external-secrets', version: 'v2.9.0' },
    crds: { project: 'external-secrets', version: 'v2.9.0', dir: 'platform-crds/external-secrets-v2.9.0' },
  },
  'kube-prometheus-stack': {
    chart: 'kube-prometheus-stack', repoURL: 'https://prometheus-community.github.io/helm-charts', oci: false, version: '88.5.3',
    namespace: { configured: 'monitoring' }, podSecurity: 'baseline', wave: -8,
    operator: { project: 'prometheus-operator', version: 'v0.93.1' },
    crds: { project: 'prometheus-operator', version: 'v0.93.0', dir: 'platform-crds/prometheus-operator-v0.93.0' },
    crdsFrom: {
      drift: 'same-minor',
      reason: 'v0.93.0 holds the prometheus-operator CRDs at hand, a patch release before the v0.93.1 the chart runs and installs.',
    },
  },
  'envoy-gateway': {
    chart: 'gateway-helm', repoURL: 'docker.io/envoyproxy', oci: true, version: 'v1.9.0',
    namespace: { configured: 'gateway' }, podSecurity: 'baseline', wave: -7,
    operator: { project: 'envoy-gateway', version: 'v1.9.0' },
    crds: { project: 'gateway-api', version: 'v1.6.1', dir: 'platform-crds/gateway-api-v1.6.1' },
    crdsFrom: {
      drift: 'bundled',
      reason: 'Envoy Gateway v1.9.0 requires sigs.k8s.io/gateway-api v1.6.1 (its go.mod) and installs that release\'s CRDs '
        + '(charts/gateway-helm/charts/crds/crds/gatewayapi-crds.yaml). It installs the experimental channel; the checks '
        + 'read the standard channel, its subset, so a field or kind only the experimental channel has is refused here.',
    },
  },
  'cloudnative-pg': {
    chart: 'cloudnative-pg', repoURL: 'https://cloudnative-pg.github.io/charts', oci: false, version: '0.29.0',
    namespace: 'cnpg-system', podSecurity: 'restricted', wave: -5,
    operator: { project: 'cloudnative-pg', version: '1.30.0' },
    crds: { project: 'cloudnative-pg', version: '1.30.0', dir: 'crds' },
  },
  // The plugin runs beside the operator, in its namespace, and needs cert-manager for its TLS.
  'plugin-barman-cloud': {
    chart: 'plugin-barman-cloud', repoURL: 'https://cloudnative-pg.github.io/charts', oci: false, version: '0.7.0',
    namespace: 'cnpg-system', podSecurity: 'restricted', wave: -4,
    // The chart's appVersion is v0.13.0: the values run v0.14.0 (charts/gitops/values/plugin-barman-cloud.ts says why).
    operator: { project: 'plugin-barman-cloud', version: 'v0.14.0', imageTag: ['image', 'tag'] },
    crds: { project: 'plugin-barman-cloud', version: 'v0.14.0', dir: 'crds' },
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
