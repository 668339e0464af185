/**
 * The order Argo CD applies things in, written down once. Within a wave Argo CD already orders by
 * kind (namespaces, then service accounts, then workloads …); waves add what it cannot know: a
 * custom resource that something else waits for must exist first.
 *
 * Argo CD waits for every object of a wave to be healthy before it applies the next, and fails the
 * whole sync when one turns Degraded. So an early wave holds only what the later ones need and
 * whose health cannot flap, and what may wait on the outside world (an ACME order, a volume bound
 * only when a pod mounts it) comes last, where waiting holds up nothing else. The data tier is an
 * Application of its own (charts/gitops), so a PostgreSQL configuration change, a switchover or a
 * failover (Progressing, by the health check in charts/gitops/health/) never holds up a release of
 * the services, nor the other way round.
 */
export const SYNC_WAVES: Readonly<Record<string, number>> = {
  // Everything else lives in it.
  Namespace: -3,
  // Flows and secrets before any pod starts: a pod that comes up before its NetworkPolicy allows
  // DNS, or before its ExternalSecret has synced, crash-loops until they arrive.
  NetworkPolicy: -2,
  ExternalSecret: -2,
  ClusterIssuer: -2,
  PriorityClass: -2,
  // A pod cannot be created before its ServiceAccount (the migration hook's included).
  ServiceAccount: -2,
  // The Cluster names its ObjectStore as WAL archiver: the store must exist when it starts.
  ObjectStore: -2,
  // What a workload needs to become ready: the Redis members' ConfigMap, and the headless Service
  // that gives them the DNS names Sentinel resolves. (Services and ConfigMaps depend on nothing.)
  ConfigMap: -1,
  Service: -1,
  // The data before the objects that use it (Pooler, backups) in the data tier's Application.
  Cluster: -1,
  StatefulSet: -1,
  // The migration hook (charts/app/migration-job.ts): after the flows, secrets and accounts, before
  // the services' new pods. On a new environment it fails until the data tier's Application has
  // made the database, and the sync's retries (charts/gitops/sync-policy.ts) run it again. The
  // smoke test, a PostSync hook, runs in a phase of its own after every wave.
  Job: -1,
  // Last: a claim of a WaitForFirstConsumer class stays Pending (Progressing) until a pod mounts
  // it, and the pods that mount the uploads volume are the services', in the other Application.
  PersistentVolumeClaim: 1,
  // Last: the entry point waits on the outside world (DNS pointing at the load balancer, the ACME
  // order over its HTTP listener), and no object of the application waits on it. The sync itself
  // does: its PostSync hook (the smoke test) runs once every wave is healthy, so on a new
  // environment the sync stays running until DNS points at the Gateway and the certificates issue.
  Gateway: 1,
  Certificate: 1,
  HTTPRoute: 1,
};

/**
 * Hooks of one phase run in waves too, each wave once the one before succeeded. The staging load test
 * (charts/app/load-test-job.ts), a PostSync hook like the smoke test (a Job, so SYNC_WAVES.Job), runs
 * in the wave after it: only hosts that passed the smoke test are loaded. An object that carries a
 * wave of its own keeps it (pipeline/synth.ts); this is the only one.
 */
export const LOAD_TEST_WAVE = SYNC_WAVES.Job + 1;

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
