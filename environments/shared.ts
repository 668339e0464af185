/**
 * What every environment of the reference application shares: a university student portal with a
 * Next.js frontend (web), a Spring Boot API (api), a worker that renders documents (documents),
 * PostgreSQL, Redis and uploaded files. Environments override
 * only what differs; images come from environments/images/<env>.yaml.
 */
import type { DeepPartial } from './define';
import type { EnvironmentInput } from './schema';

/**
 * How the Spring Boot workloads (the api, the documents worker, the purge job) run: the JVM's heap
 * and out-of-memory behaviour, PostgreSQL through PgBouncer and Redis through Sentinel, each from
 * the settings `uses` injects.
 */
const SPRING_JVM_ENV = { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError' };
const SPRING_DATASOURCE_ENV = {
  // PgBouncer in transaction mode cannot keep server-side prepared statements.
  SPRING_DATASOURCE_URL: 'jdbc:postgresql://$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)?prepareThreshold=0',
  SPRING_DATASOURCE_USERNAME: '$(DATABASE_USER)',
  SPRING_DATASOURCE_PASSWORD: '$(DATABASE_PASSWORD)',
};
const SPRING_REDIS_ENV = {
  SPRING_DATA_REDIS_SENTINEL_MASTER: '$(REDIS_SENTINEL_MASTER)',
  SPRING_DATA_REDIS_SENTINEL_NODES: '$(REDIS_SENTINEL_NODES)',
  SPRING_DATA_REDIS_PASSWORD: '$(REDIS_PASSWORD)',
  SPRING_DATA_REDIS_SENTINEL_PASSWORD: '$(REDIS_PASSWORD)',
};

/** The ports the web and api containers listen on: the services' `port`, and what each process is told. */
const WEB_PORT = 3000;
const API_PORT = 8080;
/** The documents worker's Actuator port: where its probes and Prometheus ask, and where Spring Boot listens. */
const DOCUMENTS_MANAGEMENT_PORT = 8081;
/**
 * How long the documents worker may take to stop: Spring's graceful shutdown phase finishes the
 * document in hand within it, 15 s before the kubelet's SIGKILL.
 */
const DOCUMENTS_STOP_SECONDS = 75;

export const shared: DeepPartial<EnvironmentInput> = {
  app: { name: 'student-portal' },
  kubernetesVersion: '1.31',
  gateway: { className: 'envoy-gateway', proxyNamespace: 'envoy-gateway-system' },
  // EXAMPLE contact: replace with the address of the team that owns the certificates.
  tls: { acmeEmail: 'platform-team@university.example', renewBefore: '720h' },
  monitoringNamespace: 'monitoring',
  services: {
    web: {
      description: 'Next.js frontend (server-side rendering)',
      port: WEB_PORT,
      health: { livenessPath: '/healthz', readinessPath: '/healthz' },
      resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      runAsUser: 1001,
      // Next.js writes its image and fetch cache under .next/cache.
      writablePaths: ['/tmp', '/app/.next/cache'],
      env: {
        NODE_ENV: 'production',
        HOSTNAME: '0.0.0.0',
        PORT: String(WEB_PORT),
        NEXT_TELEMETRY_DISABLED: '1',
        // Server-side calls go straight to the api Service, not out through the gateway.
        API_INTERNAL_URL: 'http://api',
      },
      calls: ['api'],
      shutdown: { preStopSeconds: 10, drainSeconds: 20 },
    },
    api: {
      description: 'Spring Boot API',
      port: API_PORT,
      health: {
        livenessPath: '/actuator/health/liveness',
        readinessPath: '/actuator/health/readiness',
        // The JVM and Flyway-free startup take up to ~2 minutes on a cold node.
        startup: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36 },
      },
      metrics: { path: '/actuator/prometheus', interval: '30s' },
      // Its objectives from its own timer: per endpoint, and its latency without the gateway's.
      sli: 'spring-boot',
      // The JVM keeps the heap it has grown to, so memory is requested in full (request = limit) and
      // the heap capped at 60% of it: heap plus metaspace, threads and buffers stay near 75% of the
      // request, under the HPA's memory target, and the HPA can still scale the api back in.
      resources: { requests: { cpu: '500m', memory: '1536Mi' }, limits: { cpu: '2', memory: '1536Mi' } },
      // Environments set the bounds; the memory target suits the JVM's memory use above.
      autoscaling: { targetMemoryUtilization: 90 },
      runAsUser: 1000,
      writablePaths: ['/tmp'],
      env: {
        SERVER_PORT: String(API_PORT),
        SERVER_SHUTDOWN: 'graceful',
        SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE: '30s',
        MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED: 'true',
        MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE: 'health,prometheus',
        ...SPRING_JVM_ENV,
        ...SPRING_DATASOURCE_ENV,
        ...SPRING_REDIS_ENV,
        // The schema is migrated before each release by the migration below, never at start-up:
        // through PgBouncer's transaction pooling Flyway's session-level lock would not hold.
        SPRING_FLYWAY_ENABLED: 'false',
      },
      uses: ['postgres', 'redis', 'uploads'],
      // Flyway, run by the api's own image and jar before each release (a Sync hook Job before the pods, see
      // docs/migrations.md), against the primary: DATABASE_HOST is the cluster's `-rw` Service here.
      // Spring Boot runs Flyway while its context starts; without a web server the JVM then exits,
      // once no non-daemon thread is left: in this mode the application must start nothing that
      // keeps running (schedulers, listeners, Redis sessions), which the `migrate` profile turns off.
      migration: {
        // EXAMPLE: the jar's path and the profile depend on the application and its image. This is
        // the layout of `java -Djarmode=tools -jar app.jar extract --destination /application`
        // (Spring Boot 3.3+); images built otherwise have the jar elsewhere.
        command: ['java', '-jar', '/application/app.jar'],
        args: ['--spring.main.web-application-type=none', '--spring.profiles.active=migrate'],
        env: {
          // Straight to PostgreSQL: server-side prepared statements work here, unlike through PgBouncer.
          SPRING_DATASOURCE_URL: 'jdbc:postgresql://$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)',
          SPRING_DATASOURCE_USERNAME: '$(DATABASE_USER)',
          SPRING_DATASOURCE_PASSWORD: '$(DATABASE_PASSWORD)',
          SPRING_FLYWAY_ENABLED: 'true',
          // A statement waiting for a lock queues every query on that table behind it: give up after
          // 10 s (the migration fails and is retried) rather than stall the running release.
          SPRING_FLYWAY_INIT_SQLS: "SET lock_timeout = '10s'",
          // Rides out a switchover (the -rw Service follows the new primary within seconds).
          SPRING_FLYWAY_CONNECT_RETRIES: '6',
          JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError',
        },
      },
      shutdown: { preStopSeconds: 10, drainSeconds: 30 },
    },
  },
  workers: {
    documents: {
      description: 'Renders the transcripts and enrolment certificates (PDF) students request, from the Redis queue the api fills, into the uploaded files',
      // Spring Boot with its web server for Actuator only: health and metrics, reached by the
      // kubelet and Prometheus, never by users.
      managementPort: DOCUMENTS_MANAGEMENT_PORT,
      metrics: { path: '/actuator/prometheus', interval: '30s' },
      liveness: { path: '/actuator/health/liveness', periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 },
      // The JVM starts as the api's does: up to ~2 minutes on a cold node.
      startup: { periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 36 },
      resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
      // A document renders in seconds; a stopping worker finishes the one it holds.
      stopGraceSeconds: DOCUMENTS_STOP_SECONDS,
      // The api's user: the documents it writes to the uploaded files are the api's to serve.
      runAsUser: 1000,
      writablePaths: ['/tmp'],
      env: {
        SERVER_PORT: String(DOCUMENTS_MANAGEMENT_PORT),
        SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE: `${DOCUMENTS_STOP_SECONDS - 15}s`,
        MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED: 'true',
        MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE: 'health,prometheus',
        ...SPRING_JVM_ENV,
        ...SPRING_DATASOURCE_ENV,
        ...SPRING_REDIS_ENV,
        PORTAL_DOCUMENTS_DIR: '$(UPLOADS_DIR)/documents',
      },
      uses: ['postgres', 'redis', 'uploads'],
    },
  },
  jobs: {
    'purge-documents': {
      description: 'Deletes the rendered transcripts and certificates older than 30 days from the uploaded files, and their records',
      // The documents worker's image and jar, run to completion with the purge profile: the same
      // release as the worker that writes what it deletes.
      imageOf: 'documents',
      args: ['--spring.main.web-application-type=none', '--spring.profiles.active=purge'],
      // Nightly in the university's time zone, after the evening peak and outside the hours the
      // clocks change (02:00-03:00).
      schedule: '30 4 * * *',
      timeZone: 'America/New_York',
      activeDeadlineSeconds: 1800,
      resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
      // The documents worker's user: it deletes the worker's files.
      runAsUser: 1000,
      env: {
        ...SPRING_JVM_ENV,
        ...SPRING_DATASOURCE_ENV,
        PORTAL_DOCUMENTS_DIR: '$(UPLOADS_DIR)/documents',
        PORTAL_DOCUMENTS_RETENTION_DAYS: '30',
      },
      uses: ['postgres', 'uploads'],
    },
  },
  data: {
    postgres: { database: 'portal', owner: 'portal' },
    redis: { maxmemoryPolicy: 'allkeys-lru' },
    uploads: { mountPath: '/var/lib/portal/uploads' },
  },
  backups: {
    databaseSchedule: '15 2 * * *',
    filesSchedule: '40 * * * *',
    verifySchedule: '30 4 * * 0',
    retention: { daily: 7, weekly: 4, monthly: 12 },
    // Tables of the portal's schema that must come back non-empty from every restore test.
    verifyTables: ['public.students', 'public.courses', 'public.enrollments'],
    checkReadDataPercent: 10,
  },
  externalSecrets: { store: 'platform-secrets', storeKind: 'ClusterSecretStore', refreshInterval: '1h' },
  slo: { availability: 0.999, latency: 0.99, latencyThresholdSeconds: 0.5 },
  delivery: {
    // EXAMPLE repository: replace with the URL Argo CD clones this repository from.
    repoURL: 'https://git.university.example/platform/student-portal-deploy.git',
    targetRevision: 'main',
    namespace: 'argocd',
    // EXAMPLE host name: replace with the one your Argo CD is reached at.
    argocdHost: 'argocd.university.example',
    // EXAMPLE groups: replace with your identity provider's group names.
    developerGroups: ['student-portal-developers'],
    releaseGroups: ['student-portal-release-managers'],
  },
  platform: {
    // 30 days: the period the SLOs' error budget is reckoned over (charts/observability).
    prometheus: { retention: '30d', retentionSize: '40GB', storage: { size: '50Gi', storageClass: 'ssd' } },
  },
  // Loki: 30 days of application logs; the audit trail of who read or changed student records for
  // 400 days, a year (what production must keep at least) and a margin to answer for it.
  logging: {
    retention: { application: '720h', audit: '9600h' },
    // The api's audit events name a student's record `student` (docs/audit-events.md): one account
    // reading a hundred students' records in ten minutes is a scrape or an export to look at.
    // The silence alert is production's (environments/production.ts): staging has nights and
    // weekends without a single user.
    audit: { failedLogins: { count: 20, window: '5m' }, bulkAccess: { resourceTypes: ['student'], records: 100, window: '10m' } },
  },
};
