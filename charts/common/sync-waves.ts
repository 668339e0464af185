/**
 * The order Argo CD applies things in, written down once. Within a wave Argo CD already orders by
 * kind (namespaces, then service accounts, then workloads …); waves add what it cannot know: a
 * custom resource that something else waits for must exist first.
 */
export const SYNC_WAVES: Readonly<Record<string, number>> = {
  // Everything else lives in it.
  Namespace: -3,
  // Flows and secrets before any pod starts: a pod that comes up before its NetworkPolicy allows
  // DNS, or before its ExternalSecret has synced, crash-loops until they arrive.
  NetworkPolicy: -2,
  ExternalSecret: -2,
  ClusterIssuer: -2,
  // The Cluster names its ObjectStore as WAL archiver: the store must exist when it starts.
  ObjectStore: -2,
  // Data and entry point before the application that needs them.
  Certificate: -1,
  Gateway: -1,
  Cluster: -1,
  StatefulSet: -1,
  PersistentVolumeClaim: -1,
  // Argo CD waits for a wave to be healthy before the next, so what a wave -1 workload needs to
  // become ready cannot come later: the Redis members' ConfigMap, and the headless Service that
  // gives them the DNS names Sentinel resolves. (Services and ConfigMaps depend on nothing.)
  ConfigMap: -1,
  Service: -1,
};

/** The sync-wave annotation of a kind, or nothing for the default wave 0. */
export function syncWaveAnnotation(kind: string): Record<string, string> {
  const wave = SYNC_WAVES[kind];
  return wave === undefined ? {} : { 'argocd.argoproj.io/sync-wave': String(wave) };
}

/**
 * Argo CD must never delete these: not when they disappear from git (prune), not when the
 * Application is deleted. The operator deletes a Cluster's volumes with it, so on a Cluster this
 * guards the data too.
 */
export const NEVER_DELETE = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' };
