/**
 * The configuration schema: what an environment may say, with its defaults, and every rule
 * that can be checked before a single object is built. Strict throughout: an unknown key is an
 * error, because a misspelt override that is silently ignored is how production drifts.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { cronProblem, everRuns } from './cron';
import type { ResolvedExtension } from './extension';
import { parseDuration, parseQuantity } from './quantity';
import { parseRfc3339 } from './time';

// zod compiles each object schema into a function on its first parse, which pays off over many
// parses; a synthesis parses each environment once, and the compiling cost more than it saved
// (synth --check 0.71 -> 0.69 s, 21 alternating runs each way).
z.config({ jitless: true });

/** RFC 1123 label: namespaces, most object names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** RFC 1035 label: names of Service objects, which must start with a letter. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A fully qualified host name as a Gateway listener accepts it (no wildcard, at least one dot). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CPU_QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)m?$/;
/** Bytes: any Kubernetes suffix but `m` (which means thousandths: "512m" is half a byte). */
const BYTES_QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** An image repository without tag or digest: lowercase path components, optional registry host and port. */
const IMAGE_REPOSITORY = /^([a-z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;
const GO_DURATION = /^([0-9]+h)?([0-9]+m)?([0-9]+s)?$/;
/** An address as a mail server takes it, without display name or brackets: dot-atom local part, a DNS domain. */
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

const dnsLabel = z.string().regex(DNS_LABEL, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a valid Kubernetes name: lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit`,
});
/** Names that become names of Service objects (service keys, the application name). */
export const ServiceNameSchema = z.string().regex(DNS_1035_LABEL, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a valid Kubernetes Service name: lowercase letters, digits and '-', at most 63 characters, starting with a letter and ending with a letter or digit`,
});
const hostname = z.string().regex(HOSTNAME, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a valid DNS host name`,
});
const quantity = (what: string, re: RegExp, example: string) =>
  z.string().regex(re, {
    error: (i) => `(${JSON.stringify(i.input)}) is not a valid Kubernetes ${what} quantity (for example ${example})`,
    abort: true,
  });
const positive = { error: (i: { input: unknown }) => `(${JSON.stringify(i.input)}) must be larger than zero`, abort: true };
const cpu = quantity('CPU', CPU_QUANTITY, '250m or 2').refine((q) => parseQuantity(q) > 0, positive);
const memory = quantity('memory', BYTES_QUANTITY, '512Mi or 2Gi').refine((q) => parseQuantity(q) > 0, positive);
const storage = quantity('storage', BYTES_QUANTITY, '20Gi')
  .refine((q) => parseQuantity(q) > 0, { error: (i) => `(${JSON.stringify(i.input)}) must be larger than zero`, abort: true });
const httpPath = z.string().regex(HTTP_PATH, {
  error: (i) => `(${JSON.stringify(i.input)}) is not an absolute HTTP path`,
});
/** A mount point: absolute, normalized (no trailing '/', '//', '.' or '..'), not '/' itself. */
const absolutePath = z.string().regex(/^(\/(?!\.\.?(\/|$))[^/\0]+)+$/, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a normalized absolute path such as /tmp (no trailing '/', '//', '.' or '..')`,
});
const port = z.number().int().min(1024, {
  error: (i) => `(${String(i.input)}) is a privileged port: containers run as non-root and must listen on 1024-65535`,
}).max(65535, { error: (i) => `(${String(i.input)}) is not a TCP port (1024-65535)` });
const duration = z.string().regex(GO_DURATION, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a duration such as 720h or 90m`,
  abort: true,
}).refine((v) => v !== '', { error: 'must not be empty', abort: true })
  .refine((v) => parseDuration(v) > 0, { error: (i) => `(${JSON.stringify(i.input)}) must be longer than zero` });
const NEVER_RUNS = 'never runs: no month it names has a day it names (and no day of the week is named instead)';
const cron5 = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, 5);
  if (problem) ctx.addIssue({ code: 'custom', input: v, message: `(${JSON.stringify(v)}) is not a valid cron expression: ${problem}` });
  else if (!everRuns(v)) ctx.addIssue({ code: 'custom', input: v, message: `(${JSON.stringify(v)}) ${NEVER_RUNS}` });
});
const cron6 = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v, 6);
  if (problem) ctx.addIssue({ code: 'custom', input: v, message: `(${JSON.stringify(v)}) is not a valid 6-field cron expression (seconds first, as CloudNativePG takes it): ${problem}` });
  else if (!everRuns(v.trim().split(/\s+/).slice(1).join(' '))) ctx.addIssue({ code: 'custom', input: v, message: `(${JSON.stringify(v)}) ${NEVER_RUNS}` });
});
const ratio = z.number().gt(0, { error: (i) => `(${String(i.input)}) must be between 0 and 1, exclusive` })
  .lt(1, { error: (i) => `(${String(i.input)}) must be between 0 and 1, exclusive` });
const percent = z.number().int().min(1).max(100);
/** An IPv4 or IPv6 address range in CIDR notation, as a NetworkPolicy ipBlock takes it. */
const cidr = z.string().refine((v) => {
  const [address, bits, extra] = v.split('/');
  const family = isIP(address ?? '');
  return extra === undefined && family !== 0 && /^[0-9]{1,3}$/.test(bits ?? '') && Number(bits) <= (family === 4 ? 32 : 128);
}, { error: (i) => `(${JSON.stringify(i.input)}) is not an address range in CIDR notation such as 203.0.113.0/24` });

export const ImageSchema = z.strictObject({
  /** Repository without tag or digest. */
  repository: z.string().regex(IMAGE_REPOSITORY, {
    error: (i) => `(${JSON.stringify(i.input)}) is not an image repository (no tag or digest here; those are separate fields)`,
  }),
  /** Human-readable version tag; `latest` is refused. */
  tag: z.string().regex(IMAGE_TAG, { error: (i) => `(${JSON.stringify(i.input)}) is not a valid image tag` })
    .refine((t) => t !== 'latest', { error: 'must be an explicit version, not "latest"' }),
  /** Content digest (sha256); required in production. */
  digest: z.string().regex(IMAGE_DIGEST, {
    error: (i) => `(${JSON.stringify(i.input)}) is not an image digest (sha256: followed by 64 lowercase hex digits)`,
  }).optional(),
});

const ResourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu, memory }),
  limits: z.strictObject({ cpu, memory }),
});

const ProbeTimingSchema = z.strictObject({
  /** Seconds between checks. */
  periodSeconds: z.number().int().min(1).max(300),
  /** Seconds before a check counts as failed. */
  timeoutSeconds: z.number().int().min(1).max(60),
  /** Consecutive failures before the kubelet acts. */
  failureThreshold: z.number().int().min(1).max(120),
});

const HealthSchema = z.strictObject({
  /** Path the kubelet polls while the process starts; defaults to the liveness path. */
  startupPath: httpPath.optional(),
  /** Path that fails only when the process must be restarted. */
  livenessPath: httpPath,
  /** Path that fails while the process must not receive traffic. */
  readinessPath: httpPath,
  /** Startup allowance: periodSeconds × failureThreshold is the longest start tolerated. */
  startup: ProbeTimingSchema.default({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36 }),
  readiness: ProbeTimingSchema.default({ periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 }),
  liveness: ProbeTimingSchema.default({ periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 }),
});

const AutoscalingSchema = z.strictObject({
  minReplicas: z.number().int().min(1),
  maxReplicas: z.number().int().min(1),
  /** Target average CPU utilization, percent of requests. */
  targetCPUUtilization: percent.default(70),
  /** Target average memory utilization, percent of requests. */
  targetMemoryUtilization: percent.default(80),
  /** Seconds of lower recommendations required before scaling down. */
  scaleDownStabilizationSeconds: z.number().int().min(0).max(3600).default(300),
  /** Largest share of replicas removed per minute when scaling down. */
  scaleDownPercentPerMinute: percent.default(20),
  /** Largest share of replicas added per minute when scaling up (pods or percent, whichever is more). */
  scaleUpPercentPerMinute: z.number().int().min(1).max(1000).default(100),
  scaleUpPodsPerMinute: z.number().int().min(1).max(100).default(4),
});

const ShutdownSchema = z.strictObject({
  /** Seconds the pod keeps serving after it is marked terminating, while endpoints and the gateway drop it. */
  preStopSeconds: z.number().int().min(0).max(60).default(10),
  /** Seconds the application gets after SIGTERM to finish in-flight requests. */
  drainSeconds: z.number().int().min(1).max(600).default(30),
});

export const DEPENDENCIES = ['postgres', 'redis', 'uploads'] as const;

/** Where a service's objectives can be measured (ServiceSchema.sli). */
export const SLI_SOURCES = ['gateway', 'spring-boot'] as const;

const envName = z.string().regex(ENV_NAME, {
  error: (i) => `(${JSON.stringify(i.input)}) is not a valid environment variable name: letters, digits and '_', not starting with a digit`,
});

/**
 * The service's database migration: a Job that Argo CD runs as a Sync hook, before the services' new
 * pods (charts/app/migration-job.ts). It connects to the PostgreSQL primary
 * directly, never through PgBouncer, and gets the same DATABASE_* variables as the service with
 * DATABASE_HOST pointing there.
 */
const MigrationSchema = z.strictObject({
  /**
   * Filled from the pin file's `migrations.<service>` (a dedicated image, Flyway's for one); absent:
   * the service's own image, run with `command` and `args`.
   */
  image: ImageSchema.optional(),
  /** The container's command (replaces the image's entrypoint); required with the service's image. */
  command: z.array(z.string()).optional(),
  /** Arguments to the command (or to the image's entrypoint). May use $(VAR) like env. */
  args: z.array(z.string()).default([]),
  /** Plain, non-secret variables of the migration; may refer to the injected DATABASE_* with $(VAR). */
  env: z.record(envName, z.string()).default({}),
  /** The Job's activeDeadlineSeconds: the longest a migration may run, retries included. */
  timeoutSeconds: z.number().int().min(60).max(3600).default(900),
  /** Pods tried again after a failure (the Job's backoffLimit); a migration that failed twice needs a person. */
  backoffLimit: z.number().int().min(0).max(5).default(1),
  /** Requests and limits of the migration's container; default: the service's. */
  resources: ResourcesSchema.optional(),
  /** UID and GID the migration runs as; default: the service's runAsUser. */
  runAsUser: z.number().int().min(1).max(2147483647).optional(),
});

/**
 * What every workload of the application (a service, a worker, a scheduled job) says of its
 * container, the data it uses and whom it calls: the same rules, flows and injected settings.
 */
const WORKLOAD_FIELDS = {
  /** UID and GID the container runs as; the image must work under them. */
  runAsUser: z.number().int().min(1).max(2147483647).default(10001),
  /** Paths that must be writable (the root filesystem is read-only): one emptyDir each. */
  writablePaths: z.array(absolutePath).default(['/tmp']),
  /** Plain, non-secret environment variables. May use $(VAR) to refer to injected ones. */
  env: z.record(envName, z.string()).default({}),
  /** Data services it connects to: opens the network flow and injects connection settings. */
  uses: z.array(z.enum(DEPENDENCIES)).default([]),
  /** Services of this application it calls over HTTP. */
  calls: z.array(z.string()).default([]),
  /** TCP ports it may reach on the public internet (private and link-local ranges stay blocked). */
  internetEgressPorts: z.array(z.number().int().min(1).max(65535)).default([]),
};

const ServiceSchema = z.strictObject({
  /** What the service is, for people reading the configuration (not written into any object). */
  description: z.string().min(1),
  /** Filled from environments/images/<env>.yaml; the pin file is the one place images change. */
  image: ImageSchema,
  /** Container port serving HTTP (and the probes). */
  port,
  health: HealthSchema,
  /** Prometheus scrape endpoint on the service port; no ServiceMonitor when absent. */
  metrics: z.strictObject({ path: httpPath, interval: duration.default('30s') }).optional(),
  /**
   * Where the service's objectives (`slo`) are measured, if a host routes to it:
   * - `gateway`: the gateway's per-route request metrics (Envoy), for any service, including one
   *   that exports none, such as a Next.js frontend; the users' view, gateway errors included.
   * - `spring-boot`: the service's own Micrometer timer `http_server_requests_seconds` (needs
   *   `metrics`, Spring Boot Actuator's Prometheus endpoint): per endpoint, and not blind to what
   *   the gateway cannot see. The service gets the settings that publish its histogram with a
   *   bucket at the latency threshold (environments/model/slo.ts, sliEnv); requests to the
   *   Actuator (probes, scrapes) are not counted. A pod that does not answer at all is not in its
   *   own metrics: TargetDown and the uptime probe see that.
   */
  sli: z.enum(SLI_SOURCES).default('gateway'),
  resources: ResourcesSchema,
  /** Fixed replica count; mutually exclusive with autoscaling. */
  replicas: z.number().int().min(1).optional(),
  autoscaling: AutoscalingSchema.optional(),
  shutdown: ShutdownSchema.default({ preStopSeconds: 10, drainSeconds: 30 }),
  ...WORKLOAD_FIELDS,
  /** Database migration run before each release (a Sync hook Job before the services' pods); needs `uses: ['postgres']`. */
  migration: MigrationSchema.optional(),
});

/**
 * How the kubelet tells a worker is alive: exactly one of a command in its container, a path on its
 * management port, or none, for a reason written where the reviewer reads it (the pod template's
 * `probes.shipshape.dev/no-liveness` annotation). A worker serves no HTTP to users, so nothing else.
 */
const WorkerLivenessSchema = z.strictObject({
  /** Command run in the container; exit 0 is alive (for example a heartbeat file's age check). */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Path on the management port that fails only when the process must be restarted. */
  path: httpPath.optional(),
  /** Why the worker has no liveness check: a sentence a reviewer can judge. */
  none: z.string().min(20, { error: 'must say why the worker has no liveness check, in a sentence a reviewer can judge' }).optional(),
  /** Seconds between checks. */
  periodSeconds: z.number().int().min(1).max(300).default(10),
  /** Seconds before a check counts as failed. */
  timeoutSeconds: z.number().int().min(1).max(60).default(2),
  /** Consecutive failures before the kubelet restarts the container. */
  failureThreshold: z.number().int().min(1).max(120).default(6),
}).superRefine((l, ctx) => {
  const given = (['command', 'path', 'none'] as const).filter((k) => l[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom', input: undefined,
      message: given.length === 0
        ? 'needs one of command (run in the container), path (on the management port) or none (with the reason there is no check)'
        : `sets ${given.join(' and ')}: choose one`,
    });
  }
});

/**
 * A worker: a long-running process of the application that serves no HTTP to anyone (a queue
 * consumer, a mail sender, a renderer). The same Deployment, security, resources, flows and injected
 * settings as a service, without a Service, routes or readiness: nothing sends it requests.
 */
const WorkerSchema = z.strictObject({
  /** What the worker does, for people reading the configuration (not written into any object). */
  description: z.string().min(1),
  /** Filled from environments/images/<env>.yaml (`workers.<name>`); the pin file is the one place images change. */
  image: ImageSchema,
  /** The container's command (replaces the image's entrypoint); absent: the image's. */
  command: z.array(z.string()).optional(),
  /** Arguments to the command (or to the image's entrypoint). May use $(VAR) like env. */
  args: z.array(z.string()).default([]),
  /**
   * Container port of the worker's management HTTP server (metrics, health), reached only by
   * Prometheus and the kubelet. Absent: the worker listens on nothing.
   */
  managementPort: port.optional(),
  /** Prometheus scrape endpoint on the management port (a PodMonitor); needs managementPort. */
  metrics: z.strictObject({ path: httpPath, interval: duration.default('30s') }).optional(),
  liveness: WorkerLivenessSchema,
  /** Startup allowance of the same check (periodSeconds × failureThreshold is the longest start tolerated). */
  startup: ProbeTimingSchema.default({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36 }),
  resources: ResourcesSchema,
  /** Fixed replica count; mutually exclusive with autoscaling. */
  replicas: z.number().int().min(1).optional(),
  /** Scaling on CPU and memory (a queue's depth is not a metric Kubernetes has here). */
  autoscaling: AutoscalingSchema.optional(),
  /**
   * Seconds a worker gets after SIGTERM to finish the job it holds (terminationGracePeriodSeconds):
   * the longest job, or the time to hand it back to the queue. A rollout or a drain waits this long.
   */
  stopGraceSeconds: z.number().int().min(1).max(3600).default(60),
  ...WORKLOAD_FIELDS,
});

/**
 * A scheduled job of the application: a CronJob that runs a command on a schedule (a nightly
 * report, a purge of expired files), with the same security, resources, flows and injected
 * settings as a service. Nothing calls it; it may call services and use the data tier.
 */
const ScheduledJobSchema = z.strictObject({
  /** What the job does, for people reading the configuration (not written into any object). */
  description: z.string().min(1),
  /**
   * Filled from environments/images/<env>.yaml (`jobs.<name>`), unless `imageOf` names the service
   * or worker whose pinned image the job runs.
   */
  image: ImageSchema,
  /** A service or worker whose image the job runs (its own command, the same release); absent: its own pin. */
  imageOf: z.string().optional(),
  /** The container's command (replaces the image's entrypoint); absent: the image's. */
  command: z.array(z.string()).optional(),
  /** Arguments to the command (or to the image's entrypoint). May use $(VAR) like env. */
  args: z.array(z.string()).default([]),
  /** When it runs: a 5-field cron expression, read in `timeZone`. */
  schedule: cron5,
  /** IANA time zone of the schedule (the CronJob's `timeZone`): the university's, or UTC. */
  timeZone: z.string().refine(isTimeZone, { error: (i) => `(${JSON.stringify(i.input)}) is not an IANA time zone such as America/New_York` }).default('Etc/UTC'),
  /** A run still going at the next schedule: `Forbid` skips the new one, `Replace` stops the old one, `Allow` runs both. */
  concurrencyPolicy: z.enum(['Forbid', 'Replace', 'Allow']).default('Forbid'),
  /** How late a run may still start (the controller was down, a Forbid run was still going). */
  startingDeadlineSeconds: z.number().int().min(10).max(86400).default(600),
  /** Hard limit on a run, retries included: a hung run is killed and the Job fails. */
  activeDeadlineSeconds: z.number().int().min(60).max(86400).default(3600),
  /** Pods tried again after a failure, within the deadline. */
  backoffLimit: z.number().int().min(0).max(10).default(2),
  /** Finished Jobs kept (with their pods' logs) for inspection. */
  successfulJobsHistoryLimit: z.number().int().min(0).max(10).default(3),
  failedJobsHistoryLimit: z.number().int().min(1).max(10).default(3),
  /** How urgent it is when the job has not succeeded for longer than its schedule allows (ScheduledJobStale). */
  staleSeverity: z.enum(['warning', 'critical']).default('warning'),
  resources: ResourcesSchema,
  ...WORKLOAD_FIELDS,
});

const RouteSchema = z.strictObject({
  /** URL path prefix on the host. */
  path: httpPath,
  /** Service (key of `services`) that serves it. */
  service: z.string(),
});

const HostSchema = z.strictObject({
  hostname,
  // One HTTPRoute per host carries every path as a rule, and Gateway API allows 16 rules a route.
  routes: z.array(RouteSchema).min(1).max(16, { error: 'has more than 16 paths, the most one HTTPRoute can hold (Gateway API limit on rules)' }),
});

const StorageSchema = z.strictObject({
  size: storage,
  storageClass: dnsLabel,
});

/** Each data component is optional: an application without one gets none of its objects. */
const DataSchema = z.strictObject({
  postgres: z.strictObject({
    /**
     * Name of the CloudNativePG Cluster that serves the application, absent: `<app.name>-db`.
     * After a point-in-time recovery, the recovered cluster's, with `recovery`: the repository then
     * describes what runs (runbooks/restore-database-point-in-time.md).
     */
    name: z.string().regex(DNS_1035_LABEL, {
      // CloudNativePG refuses other Cluster names (its services are named after the cluster).
      error: (i) => `(${JSON.stringify(i.input)}) is not a valid PostgreSQL cluster name: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit`,
    }).optional(),
    /** The cluster was recovered from the object store, not initialized: from what, and to when. */
    recovery: z.strictObject({
      /** Archive path (Barman server name) of the cluster whose base backups and WAL were replayed. */
      source: dnsLabel,
      /** The moment it was recovered to (RFC 3339, with a time zone). */
      targetTime: z.string().refine((v) => parseRfc3339(v) !== undefined, {
        error: (i) => `(${JSON.stringify(i.input)}) is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z`,
      }),
    }).optional(),
    /** CloudNativePG instances (1 primary + replicas). */
    instances: z.number().int().min(1).max(9),
    /** Application database and its owner role. */
    database: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a PostgreSQL identifier: lowercase letters, digits and '_', at most 63 characters` }),
    owner: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a PostgreSQL identifier: lowercase letters, digits and '_', at most 63 characters` }),
    storage: StorageSchema,
    walStorage: StorageSchema,
    resources: ResourcesSchema,
    /**
     * Seconds after which PostgreSQL switches to a new WAL segment even when little was written,
     * so the archive is never further behind than this: the RPO bound when the database is quiet.
     */
    archiveTimeoutSeconds: z.number().int().min(10).max(60, {
      error: (i) => `(${String(i.input)}) is above 60: the archive could lag more than a minute in quiet periods, too close to the 5-minute RPO`,
    }).default(60),
    /** Physical base backups through the Barman Cloud plugin (6-field cron, seconds first). */
    baseBackupSchedule: cron6.default('0 0 1 * * *'),
    /** How long base backups and WAL stay in the object store (Barman retention policy). */
    retentionPolicy: z.string().regex(/^[1-9][0-9]*[dwm]$/, {
      error: (i) => `(${JSON.stringify(i.input)}) is not a retention policy such as 30d, 4w or 3m`,
    }).default('30d'),
    /** PgBouncer in front of the primary (transaction pooling). */
    pooler: z.strictObject({
      instances: z.number().int().min(2, { error: (i) => `(${String(i.input)}) must be at least 2: the pooler is on every request's path` }).max(10),
      /** Server connections per database and user: what the pooler opens to PostgreSQL. */
      defaultPoolSize: z.number().int().min(1).max(150),
      /** Client connections the pooler accepts (all application pods together). */
      maxClientConnections: z.number().int().min(10).max(100000),
      resources: ResourcesSchema,
    }).default({
      instances: 2,
      defaultPoolSize: 25,
      maxClientConnections: 1000,
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
    }),
    /** Namespace of the CloudNativePG operator (it reaches the instances' status port). */
    operatorNamespace: dnsLabel.default('cnpg-system'),
  }).optional(),
  redis: z.strictObject({
    storage: StorageSchema,
    /**
     * Redis `maxmemory`, in bytes with a unit Redis understands (e.g. 256mb). Default: half of the
     * memory limit after a 64 MiB reserve, the most that leaves room for a fork's copy-on-write
     * (environments/model/redis-memory.ts).
     */
    maxmemory: z.string().regex(/^[0-9]+(kb|mb|gb)$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a Redis memory size such as 256mb`, abort: true })
      // 0 is no limit at all to Redis: the kernel would kill it before it evicts.
      .refine((v) => !/^0+(kb|mb|gb)$/.test(v), { error: (i) => `(${JSON.stringify(i.input)}) must be larger than zero: 0 means no limit to Redis` }).optional(),
    maxmemoryPolicy: z.enum(['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl']),
    resources: ResourcesSchema,
  }).optional(),
  uploads: z.strictObject({
    storage: StorageSchema,
    /** Where the api sees uploaded files. */
    mountPath: absolutePath,
  }).optional(),
});

const BackupSchema = z.strictObject({
  /** Logical database dump (5-field cron, UTC); with data.postgres only. */
  databaseSchedule: cron5.optional(),
  /** Uploaded-files snapshot; with data.uploads only. */
  filesSchedule: cron5.optional(),
  /** Restore verification. */
  verifySchedule: cron5,
  retention: z.strictObject({
    /** Newest snapshot of each of this many hours: the hourly file versions of the last day. */
    hourly: z.number().int().min(0).max(8760).default(24),
    daily: z.number().int().min(1).max(366),
    weekly: z.number().int().min(0).max(520),
    monthly: z.number().int().min(0).max(240),
  }),
  /** Tables the restore verification requires to exist and hold at least one row; with data.postgres only. */
  verifyTables: z.array(z.string().regex(/^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/, {
    error: (i) => `(${JSON.stringify(i.input)}) is not a table name (schema.table or table, lowercase)`,
  })).min(1).optional(),
  /** Share of the restic repository's data the weekly `restic check` reads back, in percent. */
  checkReadDataPercent: z.number().int().min(1).max(100).default(10),
  /** The restore test fails when the newest dump or files snapshot is older than this. */
  maxSnapshotAgeHours: z.number().int().min(1).max(8760).default(48),
  /**
   * Scratch space of the dump job and the restore test: the dump, and the whole database restored
   * from it. Default: data.postgres.storage.size (4Gi without PostgreSQL).
   */
  scratchSize: storage.optional(),
  /** StorageClass of the scratch volumes, created with each run's pod and deleted with it; default: the cluster's default class. */
  scratchStorageClass: dnsLabel.optional(),
});

const ObjectStorageSchema = z.strictObject({
  /** S3-compatible endpoint, https only. */
  endpointURL: z.string().regex(/^https:\/\/[a-z0-9.-]+(:[0-9]+)?\/?$/, {
    error: (i) => `(${JSON.stringify(i.input)}) is not an https endpoint such as https://s3.eu-central-1.amazonaws.com`,
    abort: true,
  }).refine((u) => {
    const [, host, port] = /^https:\/\/([^/:]+)(?::([0-9]+))?/.exec(u) ?? [];
    return (HOSTNAME.test(host ?? '') || isIP(host ?? '') === 4) && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
  }, { error: (i) => `(${JSON.stringify(i.input)}) is not an https endpoint: the host must be a DNS name or an IPv4 address, the port 1-65535` }),
  /** Bucket of this environment's backups (base backups, WAL, dumps, uploaded files). */
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    error: (i) => `(${JSON.stringify(i.input)}) is not an S3 bucket name`,
  }),
  region: z.string().regex(/^[a-z0-9-]+$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a region name` }).default('us-east-1'),
  /** Address ranges of the endpoint, for the backup jobs' egress; absent: any public address. */
  cidrs: z.array(cidr).min(1).optional(),
});

const ExternalSecretsSchema = z.strictObject({
  /** The (Cluster)SecretStore that reads the backing secret manager. */
  store: dnsLabel,
  storeKind: z.enum(['ClusterSecretStore', 'SecretStore']).default('ClusterSecretStore'),
  /** Path prefix of this environment's entries in the secret manager. */
  keyPrefix: z.string().regex(/^[A-Za-z0-9_./-]+$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a secret-manager key prefix` }),
  /** How often External Secrets re-reads the store: the longest a rotated value takes to arrive. */
  refreshInterval: duration.default('1h'),
});

const emailAddress = z.string().regex(EMAIL, { error: (i) => `(${JSON.stringify(i.input)}) is not an email address` });
/** A mail server as Alertmanager's `smarthost` takes it: a DNS name or IPv4 address, and a port (Go's net.SplitHostPort). */
const smarthost = z.string().refine((v) => {
  const [, host, port] = /^([^:]+):([0-9]{1,5})$/.exec(v) ?? [];
  return (HOSTNAME.test(host ?? '') || isIP(host ?? '') === 4) && Number(port) >= 1 && Number(port) <= 65535;
}, { error: (i) => `(${JSON.stringify(i.input)}) is not a mail server as host:port, such as smtp.university.example:587` });

/**
 * Where alerts go (charts/gitops/alertmanager-config.ts routes them by severity). Every credential
 * is an entry of the secret manager, `<externalSecrets.keyPrefix>/<secretName>`, that External
 * Secrets copies into the monitoring namespace; Alertmanager reads it from a file.
 */
const AlertingSchema = z.strictObject({
  /** Secret (synced by External Secrets) holding the PagerDuty routing key; critical alerts page. Production only. */
  pagerduty: z.strictObject({ secretName: dnsLabel }).optional(),
  /** Secret holding the Slack webhook URL; critical alerts and warnings go to the channel. */
  slack: z.strictObject({ secretName: dnsLabel, channel: z.string().regex(/^#[a-z0-9_-]{1,80}$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a Slack channel such as #portal-alerts` }) }).optional(),
  /** Info alerts by mail, through the organisation's mail server. */
  email: z.strictObject({
    to: emailAddress,
    /** The sender's address. */
    from: emailAddress,
    /** The mail server: STARTTLS is required (Alertmanager's default); port 465 speaks TLS from the start. */
    smarthost,
    /** SMTP user name; absent: the server takes mail without authentication (and secretName is not used). */
    username: z.string().regex(/^[!-~]{1,254}$/, { error: (i) => `(${JSON.stringify(i.input)}) is not an SMTP user name: 1 to 254 printable characters, no spaces` }).optional(),
    /** Secret holding the SMTP password of username. */
    secretName: dnsLabel.optional(),
  }).superRefine((email, ctx) => {
    if (email.username !== undefined && email.secretName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secretName'], input: undefined, message: 'is required with username: the SMTP password is read from this secret' });
    }
    if (email.username === undefined && email.secretName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], input: undefined, message: 'is required with secretName: a password is only sent with a user name (leave both out for a server without authentication)' });
    }
  }).optional(),
  /**
   * Secret holding the URL of a dead man's switch (a service that raises the alarm when it stops
   * being called): the Watchdog alert, always firing, calls it every minute or two, so an
   * alerting pipeline that died is noticed outside it. Required in production.
   */
  deadMansSwitch: z.strictObject({ secretName: dnsLabel }).optional(),
});

const SloSchema = z.strictObject({
  /** Share of non-5xx responses over 30 days, e.g. 0.999. */
  availability: ratio,
  /** Share of requests faster than latencyThresholdSeconds. */
  latency: ratio,
  latencyThresholdSeconds: z.number().gt(0).max(60),
});

/**
 * The staging load test (charts/app/load-test-job.ts): a k6 run after every sync, at a constant
 * arrival rate (what the expected users ask for, however fast the answers come), its thresholds
 * the SLO's. Staging only: environments/rules.ts refuses it in production.
 */
const LoadTestSchema = z.strictObject({
  /** Requests a second, all hosts and paths together (k6 constant-arrival-rate). */
  requestsPerSecond: z.number().int().min(1).max(1000).default(10),
  /** k6 VUs kept ready to send them: enough for the rate × the slowest acceptable answer. */
  virtualUsers: z.number().int().min(1).max(200).default(20),
  /** How long the rate is held (bounds: environments/rules.ts). */
  duration: duration.default('5m'),
  /** Paths asked on every host; by default each host's routed prefixes. */
  paths: z.array(httpPath).min(1).max(16).optional(),
});

/** A git repository as Argo CD clones it: https or ssh, never with credentials in it. */
const REPO_URL = /^(https:\/\/[A-Za-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~%-]+)+|ssh:\/\/git@[A-Za-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~%-]+)+|git@[A-Za-z0-9.-]+:[A-Za-z0-9._~%-]+(\/[A-Za-z0-9._~%-]+)*)$/;
/** A git branch or tag name (git check-ref-format, the common subset). */
const GIT_REF = /^(?!\/|.*\/$|.*\.\.|.*\/\.|.*\.lock$|.*@\{)[A-Za-z0-9._/-]+$/;
/**
 * An IANA time zone name (`America/New_York`, `UTC`, or a link such as `US/Eastern`) as Go's
 * time.LoadLocation, which Argo CD's sync windows use, takes it: a name the tz database knows, not
 * an offset such as `+05:00`, which ECMAScript also accepts.
 */
function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    // ECMAScript finds a zone whatever the case; Go's tzdata (the API server's and Argo CD's)
    // only by its exact name: `america/new_york` is refused there.
    const resolved = new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
    return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
  } catch {
    return false;
  }
}
/** Prometheus' duration syntax as its `--storage.tsdb.retention.time` takes it. */
const PROM_DURATION = /^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?$/;
/** Prometheus' byte size syntax (`--storage.tsdb.retention.size`): a number and a unit. */
const PROM_BYTES = /^[0-9]+(B|KB|MB|GB|TB|PB|EB)$/;

const SyncFreezeSchema = z.strictObject({
  /** What the freeze is for (exam weeks, a change freeze): shown in Argo CD. */
  description: z.string().min(1).max(200),
  /** When each frozen period starts: a 5-field cron expression in `timeZone`. */
  schedule: cron5,
  /** How long each frozen period lasts from its start (`240h` for ten days). */
  duration,
  /** IANA time zone of the schedule (the university's, not the cluster's UTC). */
  timeZone: z.string().refine(isTimeZone, { error: (i) => `(${JSON.stringify(i.input)}) is not an IANA time zone such as America/New_York` }),
  /**
   * Whether a person may still sync by hand during the freeze (an emergency fix); automated
   * syncs are blocked either way.
   */
  manualSync: z.boolean().default(true),
});

const DeliverySchema = z.strictObject({
  /** The git repository that holds this project (dist/ and argocd/), as Argo CD clones it. */
  repoURL: z.string().regex(REPO_URL, {
    error: (i) => `(${JSON.stringify(i.input)}) is not a git repository URL such as https://git.example.org/team/deploy.git (https or ssh, no credentials)`,
  }),
  /** Branch (or tag) of that repository this environment follows. */
  targetRevision: z.string().regex(GIT_REF, { error: (i) => `(${JSON.stringify(i.input)}) is not a git branch or tag name` }).default('main'),
  /** Namespace Argo CD runs in. */
  namespace: dnsLabel.default('argocd'),
  /** Host name Argo CD's UI and API are reached at: the links of SSO and of notifications. */
  argocdHost: hostname,
  /** SSO groups (Argo CD's `groups` claim) that may see, but not change, the application. */
  developerGroups: z.array(z.string().min(1)).default([]),
  /**
   * SSO groups that may sync the application by hand. The release pipeline does not need one: it
   * syncs with a token of the project's `release` role.
   */
  releaseGroups: z.array(z.string().min(1)).default([]),
  /** Periods in which Argo CD syncs nothing automatically: exam weeks, change freezes. */
  syncFreezes: z.array(SyncFreezeSchema).default([]),
});

const PlatformSchema = z.strictObject({
  prometheus: z.strictObject({
    /** How long Prometheus keeps samples (`15d`); long-term trends belong in dashboards' recording rules. */
    retention: z.string().regex(PROM_DURATION, { error: (i) => `(${JSON.stringify(i.input)}) is not a Prometheus duration such as 15d` })
      .refine((v) => v !== '', { error: 'must not be empty' }),
    /** Size at which the oldest blocks are deleted (`45GB`): keep it below the volume's size. */
    retentionSize: z.string().regex(PROM_BYTES, { error: (i) => `(${JSON.stringify(i.input)}) is not a Prometheus size such as 45GB` }),
    /** The volume of each Prometheus replica. */
    storage: StorageSchema,
  }),
});

/**
 * Centralized logging (charts/gitops/values/loki.ts): how long Loki keeps each tenant's logs, the
 * compactor deleting what is older. Loki keeps them in objectStorage (under their own prefix), or,
 * outside production and without objectStorage, on its own volume.
 */
const LoggingSchema = z.strictObject({
  retention: z.strictObject({
    /** Application logs (the `application` tenant): whole days, at least one. */
    application: duration.default('720h'),
    /** The audit stream (the `audit` tenant): whole days; at least a year in production. */
    audit: duration.default('9600h'),
  }).default({ application: '720h', audit: '9600h' }),
  /**
   * The audit trail's alerts (Loki ruler rules on the audit tenant, charts/logging) and who reads
   * it in Grafana.
   */
  audit: z.strictObject({
    /** A burst of failed sign-ins: password guessing or credential stuffing. */
    failedLogins: z.strictObject({
      /** Failed `login` events from one source address within `window` that alert. */
      count: z.number().int().min(2).default(20),
      window: duration.default('5m'),
    }).default({ count: 20, window: '5m' }),
    /**
     * One actor reading many distinct records of these types in a short time: a bulk export or a
     * stolen account being used to scrape. Without it, no such alert.
     */
    bulkAccess: z.strictObject({
      /** The audit events' `resource_type` values that are protected records (`student`). */
      resourceTypes: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a resource type such as student or enrollment (lowercase letters, digits and _)` }))
        .min(1, { error: 'must name at least 1 resource type (an empty list alerts on nothing: leave bulkAccess out instead)' }),
      /** Distinct records of one actor within `window` that alert. */
      records: z.number().int().min(2).default(100),
      window: duration.default('10m'),
    }).optional(),
    /**
     * No application audit event for this long: the audit trail is broken somewhere. Only for an
     * application that writes audit events: without it, no such alert.
     */
    silentAfter: duration.optional(),
    /**
     * Id of the Grafana organization the auditors belong to, where the audit tenant's data source is
     * provisioned (docs/logging.md: create it first). Without it, Grafana gets no audit data source.
     */
    grafanaOrgId: z.number().int().min(2).optional(),
  }).default({ failedLogins: { count: 20, window: '5m' } }),
});

export const EnvironmentSchema = z.strictObject({
  /** Environment name: the folder under dist/ and the Argo CD Application. */
  name: dnsLabel,
  /** Production turns on the stricter rules: digests, at least two replicas, letsencrypt-production, PagerDuty, 3 database instances. */
  production: z.boolean(),
  app: z.strictObject({
    /** `app.kubernetes.io/part-of` and the prefix of shared objects. */
    name: ServiceNameSchema,
    /** Namespace of every application object. */
    namespace: dnsLabel,
  }),
  /** Kubernetes minor version the cluster runs, for the Pod Security admission version label. */
  kubernetesVersion: z.string().regex(/^1\.[0-9]{2}$/, { error: (i) => `(${JSON.stringify(i.input)}) is not a Kubernetes minor version such as 1.31` }),
  gateway: z.strictObject({
    /** GatewayClass installed by the gateway controller. */
    className: dnsLabel,
    /** Namespace the gateway's proxy pods run in (allowed to reach the services). */
    proxyNamespace: dnsLabel,
    /**
     * The address ranges the Gateway's load balancer answers on, when they are not public (an
     * on-premises load balancer such as MetalLB): the smoke test's egress on 80 and 443 goes there;
     * absent, to public addresses only.
     */
    loadBalancerCidrs: z.array(cidr).min(1).optional(),
  }),
  tls: z.strictObject({
    /** ClusterIssuer that signs this environment's certificates. */
    issuer: z.enum(['letsencrypt-staging', 'letsencrypt-production']),
    /** ACME account contact: receives expiry and policy notices. */
    acmeEmail: z.string().regex(EMAIL, { error: (i) => `(${JSON.stringify(i.input)}) is not an email address` }),
    /** How long before expiry cert-manager renews. */
    renewBefore: duration.default('720h'),
  }),
  /** Strict-Transport-Security. */
  hsts: z.strictObject({
    maxAgeSeconds: z.number().int().min(0),
    includeSubDomains: z.boolean(),
    preload: z.boolean(),
  }).default({ maxAgeSeconds: 63072000, includeSubDomains: true, preload: false }),
  // The redirect route lists every host, and Gateway API allows 16 host names a route.
  hosts: z.array(HostSchema).min(1).max(16, { error: 'has more than 16 hosts, the most the HTTP-to-HTTPS redirect route can list (Gateway API limit on hostnames)' }),
  /** Namespace Prometheus runs in (allowed to scrape metrics ports). */
  monitoringNamespace: dnsLabel.default('monitoring'),
  /**
   * How a service's pods spread over zones (`topology.kubernetes.io/zone`): `preferred` schedules
   * them anyway where nodes carry no zone label or one zone is full; `required` never places them
   * unevenly, for clusters whose nodes are labelled with two zones or more.
   */
  zoneSpread: z.enum(['preferred', 'required']).default('preferred'),
  /** The cluster's DNS domain (the kubelet's clusterDomain), in the names pods reach each other by. */
  clusterDomain: z.string().regex(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/, {
    error: (i) => `(${JSON.stringify(i.input)}) is not a DNS domain such as cluster.local`,
  }).default('cluster.local'),
  services: z.record(ServiceNameSchema, ServiceSchema),
  /** Long-running processes that serve no HTTP (queue consumers, senders): no Service, no routes. */
  workers: z.record(ServiceNameSchema, WorkerSchema).default({}),
  /** Commands run on a schedule (CronJobs): reports, purges. */
  jobs: z.record(ServiceNameSchema, ScheduledJobSchema).default({}),
  data: DataSchema.default({}),
  /** Required with data.postgres or data.uploads: logical backups of both (and a restore test). */
  backups: BackupSchema.optional(),
  /** Required with data.postgres or data.uploads, and in production: where every backup goes, and Loki's logs. */
  objectStorage: ObjectStorageSchema.optional(),
  /** Required with any data component: its credentials come from the secret manager. */
  externalSecrets: ExternalSecretsSchema.optional(),
  alerting: AlertingSchema,
  slo: SloSchema,
  /** A load test after every sync, against the SLO (staging only). */
  loadTest: LoadTestSchema.optional(),
  /** How Argo CD delivers the environment: the repository it reads, who may do what, when not. */
  delivery: DeliverySchema,
  /** The platform operators' settings that differ per cluster. */
  platform: PlatformSchema,
  /** Loki: how long it keeps application logs and the audit stream. */
  logging: LoggingSchema.default({ retention: { application: '720h', audit: '9600h' }, audit: { failedLogins: { count: 20, window: '5m' } } }),
}).superRefine((env, ctx) => {
  // Which sections the configured data components need, and which settings belong to a component
  // the environment does not have (silently ignored, they would hide a mistake).
  const { postgres, redis, uploads } = env.data;
  const missing = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: undefined });
  const stray = (path: (string | number)[], component: string) =>
    ctx.addIssue({ code: 'custom', path, message: `is set, but data.${component} is not configured`, input: undefined });
  const backedUp = [postgres ? 'data.postgres' : '', uploads ? 'data.uploads' : ''].filter(Boolean).join(' and ');
  if (backedUp) {
    if (!env.objectStorage) missing(['objectStorage'], `is required: ${backedUp} ${backedUp.includes(' and ') ? 'are' : 'is'} backed up there`);
    if (!env.backups) missing(['backups'], `is required: ${backedUp} ${backedUp.includes(' and ') ? 'are' : 'is'} backed up on its schedules`);
  } else {
    if (env.backups) stray(['backups'], 'postgres or data.uploads');
    // objectStorage without a data component is Loki's alone (charts/gitops/values/loki.ts).
  }
  const secrets = [postgres ? 'data.postgres' : '', redis ? 'data.redis' : '', uploads ? 'data.uploads' : ''].filter(Boolean);
  if (secrets.length > 0 && !env.externalSecrets) missing(['externalSecrets'], `is required: the credentials of ${secrets.join(', ')} come from the secret manager`);
  // Without either component the whole section is already reported; its fields would repeat it.
  if (env.backups && backedUp) {
    if (postgres && env.backups.databaseSchedule === undefined) missing(['backups', 'databaseSchedule'], 'is required: data.postgres is dumped on it');
    if (postgres && env.backups.verifyTables === undefined) missing(['backups', 'verifyTables'], 'is required: the restore test checks these tables of data.postgres');
    if (!postgres && env.backups.databaseSchedule !== undefined) stray(['backups', 'databaseSchedule'], 'postgres');
    if (!postgres && env.backups.verifyTables !== undefined) stray(['backups', 'verifyTables'], 'postgres');
    if (uploads && env.backups.filesSchedule === undefined) missing(['backups', 'filesSchedule'], 'is required: data.uploads is snapshotted on it');
    if (!uploads && env.backups.filesSchedule !== undefined) stray(['backups', 'filesSchedule'], 'uploads');
  }
  for (const section of ['services', 'workers', 'jobs'] as const) {
    const workloads: Record<string, { readonly uses: readonly (typeof DEPENDENCIES)[number][] }> = env[section];
    for (const [name, s] of Object.entries(workloads)) {
      for (const [i, dep] of s.uses.entries()) {
        if (!env.data[dep]) missing([section, name, 'uses', i], `("${dep}") is not configured: add data.${dep}, or remove it from uses`);
      }
    }
  }
});

export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
/**
 * A validated environment: its configuration, defaults applied, and the extensions its definition
 * adds (environments/extension.ts; code, not configuration, so checked beside the schema).
 */
export type Environment = z.output<typeof EnvironmentSchema> & { readonly extensions: readonly ResolvedExtension[] };
export type ServiceConfig = Environment['services'][string];
export type WorkerConfig = Environment['workers'][string];
export type ScheduledJobConfig = Environment['jobs'][string];
export type ImageConfig = z.output<typeof ImageSchema>;
export type MigrationConfig = NonNullable<ServiceConfig['migration']>;
export type LoadTestConfig = NonNullable<Environment['loadTest']>;
export type LoggingConfig = Environment['logging'];
