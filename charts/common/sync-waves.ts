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
  // Data and entry point before the application that needs them.
  Certificate: -1,
  Gateway: -1,
  Cluster: -1,
  ObjectStore: -1,
  StatefulSet: -1,
  PersistentVolumeClaim: -1,
};

/** The sync-wave annotation of a kind, or nothing for the default wave 0. */
export function syncWaveAnnotation(kind: string): Record<string, string> {
  const wave = SYNC_WAVES[kind];
  return wave === undefined ? {} : { 'argocd.argoproj.io/sync-wave': String(wave) };
}
