/**
 * Rules that span fields, checked after the schema accepted every field on its own. Each returns
 * problems with the path of the field to change, so a message can say exactly where to look.
 */
import { firstSkippedRun, longestGapMinutes, longestGapMinutesIn } from './cron';
import { envReferences } from './env-references';
import { hostRoutes } from './model/gateway';
import { INJECTED_ENV, MIGRATION_USES, type Dependency } from './model/injected-env';
import { clusterName, dataEndpoints, migrationJobName, reservedNames, scratchVolumeName } from './model/names';
import { MAX_CLUSTER_NAME, MAX_CONNECTIONS } from './model/postgres';
import { maxmemoryFits, maxSafeMaxmemory } from './model/redis-memory';
import { ENVOY_LATENCY_BUCKETS_MS, latencyThresholdMs, SLI_ENV_NAMES, SLO_PERIOD_DAYS } from './model/slo';
import { parseDuration, parseQuantity } from './quantity';
import type { Environment, ScheduledJobConfig, ServiceConfig, WorkerConfig } from './schema';

export interface Problem {
  /** Dotted path of the field, e.g. `services.api.autoscaling.minReplicas`. */
  readonly path: string;
  readonly message: string;
}

/** Options that say where a value came from, for messages that point at the right file. */
export interface RuleContext {
  /** Pin file the images came from, relative to the repository root. */
  readonly imagePinsFile?: string;
}

/**
 * Lifetime of every certificate: Let's Encrypt issues 90-day certificates whatever is asked.
 * charts/platform/host-certificate.ts writes the same value into each Certificate.
 */
export const CERTIFICATE_DURATION = '2160h';
/** Shortest renewBefore: a day to notice and fix a renewal that failed. */
export const MIN_RENEW_BEFORE = '24h';
/** Longest object name (and label value) Kubernetes accepts. */
const MAX_NAME = 63;
/** Longest StatefulSet name whose pods' controller-revision-hash label still fits in 63. */
const MAX_STATEFULSET_NAME = 52;

/** Production images: a tag can be moved to other content, a digest cannot. */
export const DIGEST_REQUIRED = 'is required in production: application images are pinned by digest, not by tag alone';

const HSTS_PRELOAD_MIN_AGE = 31536000;
/** One year, what the HSTS preload list asks too; production may not ask browsers for less. */
const HSTS_PRODUCTION_MIN_AGE = 31536000;
const PRODUCTION_MIN_REPLICAS = 2;
const PRODUCTION_MIN_DB_INSTANCES = 3;

/** `"x" is listed twice` for every repeat in a list. */
function duplicates(at: string, list: readonly (string | number)[]): Problem[] {
  const seen = new Set<string | number>();
  const out: Problem[] = [];
  for (const [i, v] of list.entries()) {
    if (seen.has(v)) out.push({ path: `${at}[${i}]`, message: `(${JSON.stringify(v)}) is listed twice` });
    seen.add(v);
  }
  return out;
}

/**
 * Kubernetes expands `$(NAME)` only for variables defined earlier in the container's list, and
 * leaves anything else in the value literally. The list is the variables `uses` injects, then
 * `env` ordered so that each variable comes after the ones it refers to (charts/app/web-service.ts,
 * orderEnv): a reference works unless it names nothing, or the variables refer to each other in a
 * cycle, which no order can expand.
 */
function envReferenceRules(at: string, vars: Readonly<Record<string, string>>, uses: readonly Dependency[], who: 'service' | 'migration' = 'service'): Problem[] {
  const out: Problem[] = [];
  const injected = new Set(uses.flatMap((d) => INJECTED_ENV[d]));
  const own = (name: string) => envReferences(vars[name] ?? '').filter((r) => Object.hasOwn(vars, r));
  /** Whether `to` can be reached from `from` through references between env entries. */
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const n = stack.pop() as string;
      if (n === to) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...own(n));
    }
    return false;
  };
  for (const [name, value] of Object.entries(vars)) {
    for (const ref of new Set(envReferences(value))) {
      let message: string | undefined;
      if (Object.hasOwn(vars, ref)) {
        if (ref === name) message = `refers to itself ($(${ref})), which Kubernetes cannot expand`;
        else if (reaches(ref, name)) message = `refers to $(${ref}), which refers back to ${name}: Kubernetes cannot expand a cycle`;
      } else if (!injected.has(ref)) {
        message = undefinedReference(ref, who);
      }
      if (message) out.push({ path: `${at}.env.${name}`, message });
    }
  }
  return out;
}

/** Why `$(ref)` names nothing the container has. */
function undefinedReference(ref: string, who: 'service' | 'migration'): string {
  const dep = (Object.keys(INJECTED_ENV) as Dependency[]).find((d) => INJECTED_ENV[d].includes(ref));
  if (dep && who === 'migration') return `refers to $(${ref}), which a migration does not get: it gets only PostgreSQL's variables (${INJECTED_ENV.postgres.join(', ')})`;
  if (dep) return `refers to $(${ref}), which only uses: ${dep} injects`;
  return `refers to $(${ref}), which is not defined: Kubernetes would keep the text "$(${ref})"`;
}

/**
 * A service's migration: a Sync hook Job against the primary (charts/app/migration-job.ts). It
 * needs PostgreSQL, a command when it runs the service's own image (whose entrypoint starts the
 * service, which never exits), and a name of its own for its objects.
 */
function migrationRules(name: string, s: ServiceConfig, env: Environment, ctx: RuleContext): Problem[] {
  const m = s.migration;
  if (!m) return [];
  const at = `services.${name}.migration`;
  const out: Problem[] = [];
  if (!s.uses.includes('postgres')) {
    out.push({ path: at, message: `is set, but services.${name} does not use postgres: a migration changes data.postgres's schema (add 'postgres' to uses)` });
  }
  if (m.command === undefined && !m.image) {
    out.push({
      path: `${at}.command`,
      message: `is required with the service's own image: its entrypoint starts the service, which never exits (or pin an image of its own under migrations.${name} in the pin file)`,
    });
  }
  if (m.command !== undefined && m.command.length === 0) out.push({ path: `${at}.command`, message: 'is empty: leave it out to run the image\'s entrypoint' });
  const job = migrationJobName(name);
  if (job.length > MAX_NAME) {
    out.push({ path: at, message: `makes the Job "${job}", ${job.length} characters; Kubernetes allows ${MAX_NAME} (its pods carry the name as a label): shorten the service's name` });
  }
  if (Object.hasOwn(env.services, job) || Object.hasOwn(env.workers, job) || Object.hasOwn(env.jobs, job) || reservedNames(env).includes(job)) {
    out.push({ path: at, message: `makes the Job, ServiceAccount and NetworkPolicy "${job}", a name another object of the environment already takes` });
  }
  if (env.production && m.image && !m.image.digest) {
    out.push({ path: ctx.imagePinsFile ? `${ctx.imagePinsFile}: migrations.${name}.digest` : `${at}.image.digest`, message: DIGEST_REQUIRED });
  }
  for (const v of INJECTED_ENV.postgres) {
    if (Object.hasOwn(m.env, v)) out.push({ path: `${at}.env.${v}`, message: 'is injected for the migration (pointing at the primary); remove it from env' });
  }
  out.push(...envReferenceRules(at, m.env, MIGRATION_USES, 'migration'));
  // Kubernetes expands $(NAME) in the command and its arguments too, from the container's variables.
  const known = new Set([...INJECTED_ENV.postgres, ...Object.keys(m.env)]);
  for (const [field, list] of [['command', m.command ?? []], ['args', m.args]] as const) {
    for (const [i, value] of list.entries()) {
      for (const ref of new Set(envReferences(value))) {
        if (!known.has(ref)) out.push({ path: `${at}.${field}[${i}]`, message: undefinedReference(ref, 'migration') });
      }
    }
  }
  if (m.resources) out.push(...resourceRules(`${at}.resources`, m.resources));
  return out;
}

/** What replicaRules reads: a service's or a worker's scaling. */
type Scaling = Pick<ServiceConfig, 'replicas' | 'autoscaling'>;

function replicaRules(at: string, s: Scaling, env: Environment, noun: 'service' | 'worker'): Problem[] {
  const out: Problem[] = [];
  if (s.replicas !== undefined && s.autoscaling) {
    out.push({ path: `${at}.replicas`, message: 'and autoscaling are both set: choose one (the HorizontalPodAutoscaler owns replicas when autoscaling is on)' });
  }
  if (s.replicas === undefined && !s.autoscaling) {
    out.push({ path: at, message: 'needs either replicas or autoscaling' });
  }
  if (s.autoscaling && s.autoscaling.minReplicas > s.autoscaling.maxReplicas) {
    out.push({
      path: `${at}.autoscaling.minReplicas`,
      message: `(${s.autoscaling.minReplicas}) is greater than maxReplicas (${s.autoscaling.maxReplicas})`,
    });
  }
  if (env.production) {
    const min = s.autoscaling?.minReplicas ?? s.replicas;
    const field = s.autoscaling ? `${at}.autoscaling.minReplicas` : `${at}.replicas`;
    if (min !== undefined && min < PRODUCTION_MIN_REPLICAS) {
      out.push({ path: field, message: `(${min}) is below ${PRODUCTION_MIN_REPLICAS}: production runs at least ${PRODUCTION_MIN_REPLICAS} replicas of every ${noun} so one pod can fail or be evicted` });
    }
  }
  return out;
}

function resourceRules(at: string, r: ServiceConfig['resources']): Problem[] {
  const out: Problem[] = [];
  for (const res of ['cpu', 'memory'] as const) {
    if (parseQuantity(r.requests[res]) > parseQuantity(r.limits[res])) {
      out.push({ path: `${at}.requests.${res}`, message: `(${r.requests[res]}) is greater than limits.${res} (${r.limits[res]})` });
    }
  }
  return out;
}

/** What services, workers and scheduled jobs share: the fields of a workload of the application. */
type Workload = ServiceConfig | WorkerConfig | ScheduledJobConfig;

const NOUN = { services: 'service', workers: 'worker', jobs: 'scheduled job' } as const;

/** The rules every service, worker and scheduled job is held to: its name, image, scaling, flows and variables. */
function workloadRules(section: 'services' | 'workers' | 'jobs', name: string, s: Workload, env: Environment, ctx: RuleContext): Problem[] {
  const at = `${section}.${name}`;
  const noun = NOUN[section];
  const out: Problem[] = [
    ...(section === 'jobs' ? [] : replicaRules(at, s as Scaling, env, noun as 'service' | 'worker')),
    ...resourceRules(`${at}.resources`, s.resources),
  ];
  if (reservedNames(env).includes(name)) {
    out.push({ path: at, message: `uses the name "${name}", which the data tier or a fixed object of the environment already takes` });
  }
  // A job that runs a service's or a worker's image is pinned, and judged, there.
  const ownPin = !('imageOf' in s) || s.imageOf === undefined;
  if (env.production && ownPin && !s.image.digest) {
    out.push({ path: ctx.imagePinsFile ? `${ctx.imagePinsFile}: ${section}.${name}.digest` : `${at}.image.digest`, message: DIGEST_REQUIRED });
  }
  for (const [i, target] of s.calls.entries()) {
    if (target === name) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is the ${noun} itself` });
    else if (Object.hasOwn(env.workers, target)) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is a worker, which serves no HTTP: call a service, or hand the worker its work through a queue` });
    else if (Object.hasOwn(env.jobs, target)) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is a scheduled job, which serves no HTTP: call a service` });
    else if (!Object.hasOwn(env.services, target)) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is not a service of this environment` });
  }
  for (const dep of new Set(s.uses)) {
    for (const v of INJECTED_ENV[dep]) {
      if (Object.hasOwn(s.env, v)) out.push({ path: `${at}.env.${v}`, message: `is injected by uses: ${dep}; remove it from env` });
    }
  }
  out.push(...envReferenceRules(at, s.env, s.uses));
  out.push(...duplicates(`${at}.writablePaths`, s.writablePaths));
  const volumes = new Map<string, string>();
  for (const [i, path] of s.writablePaths.entries()) {
    const volume = scratchVolumeName(path);
    const other = volumes.get(volume);
    if (other !== undefined && other !== path) {
      out.push({ path: `${at}.writablePaths[${i}]`, message: `("${path}") gets the same volume name as "${other}" (${volume}); rename one of the directories` });
    }
    volumes.set(volume, path);
  }
  out.push(...duplicates(`${at}.uses`, s.uses));
  out.push(...duplicates(`${at}.calls`, s.calls));
  out.push(...duplicates(`${at}.internetEgressPorts`, s.internetEgressPorts));
  return out;
}

function serviceRules(name: string, s: ServiceConfig, env: Environment, ctx: RuleContext): Problem[] {
  const at = `services.${name}`;
  const out: Problem[] = workloadRules('services', name, s, env, ctx);
  if (s.sli === 'spring-boot') {
    if (!s.metrics) out.push({ path: `${at}.sli`, message: '("spring-boot") reads the objectives off the service\'s own metrics: set metrics (Spring Boot Actuator\'s Prometheus endpoint, such as /actuator/prometheus)' });
    for (const v of SLI_ENV_NAMES) {
      if (Object.hasOwn(s.env, v)) out.push({ path: `${at}.env.${v}`, message: 'is injected by sli: spring-boot (the latency objective needs its bucket); remove it from env' });
    }
  }
  out.push(...migrationRules(name, s, env, ctx));
  if (s.metrics) {
    const health = [['startup', s.health.startupPath], ['liveness', s.health.livenessPath], ['readiness', s.health.readinessPath]] as const;
    const clash = health.find(([, p]) => p === s.metrics?.path);
    if (clash) out.push({ path: `${at}.metrics.path`, message: `("${s.metrics.path}") is also the ${clash[0]} path; metrics and health checks need separate endpoints` });
  }
  return out;
}

/**
 * A worker: a name of its own beside the services (both make a Deployment, a ServiceAccount and a
 * NetworkPolicy of that name), and a management port for whatever is asked over HTTP.
 */
function workerRules(name: string, w: WorkerConfig, env: Environment, ctx: RuleContext): Problem[] {
  const at = `workers.${name}`;
  const out: Problem[] = workloadRules('workers', name, w, env, ctx);
  if (Object.hasOwn(env.services, name)) {
    out.push({ path: at, message: `uses the name "${name}", which services.${name} already takes (each makes a Deployment, a ServiceAccount and a NetworkPolicy of its name)` });
  }
  if (w.metrics && w.managementPort === undefined) {
    out.push({ path: `${at}.metrics`, message: 'is set, but the worker has no managementPort to serve it on' });
  }
  if (w.liveness.path !== undefined && w.managementPort === undefined) {
    out.push({ path: `${at}.liveness.path`, message: 'is asked on the management port: set managementPort, or check liveness with a command' });
  }
  if (w.liveness.path !== undefined && w.metrics?.path === w.liveness.path) {
    out.push({ path: `${at}.metrics.path`, message: `("${w.metrics.path}") is also the liveness path; metrics and health checks need separate endpoints` });
  }
  if (w.command !== undefined && w.command.length === 0) out.push({ path: `${at}.command`, message: 'is empty: leave it out to run the image\'s entrypoint' });
  return out;
}

/** Kubernetes appends 11 characters to a CronJob's name for each Job's, which may have 63. */
const MAX_CRONJOB_NAME = 52;

/**
 * A scheduled job: a name of its own beside the services and workers (each makes a ServiceAccount
 * and a NetworkPolicy of its name), short enough for its Jobs' names, and an image it can run.
 */
function jobRules(name: string, j: ScheduledJobConfig, env: Environment, ctx: RuleContext): Problem[] {
  const at = `jobs.${name}`;
  const out: Problem[] = workloadRules('jobs', name, j, env, ctx);
  for (const section of ['services', 'workers'] as const) {
    if (Object.hasOwn(env[section], name)) {
      out.push({ path: at, message: `uses the name "${name}", which ${section}.${name} already takes (each makes a ServiceAccount and a NetworkPolicy of its name)` });
    }
  }
  if (Object.keys(env.services).some((s) => migrationJobName(s) === name)) {
    out.push({ path: at, message: `uses the name "${name}", which a service's migration Job already takes` });
  }
  if (name.length > MAX_CRONJOB_NAME) {
    out.push({ path: at, message: `("${name}") has ${name.length} characters: a CronJob's name may have ${MAX_CRONJOB_NAME}, as Kubernetes appends 11 for each run's Job` });
  }
  // An imageOf naming no workload is reported where images are resolved (environments/load.ts).
  // A run at a time the clocks skip is lost (the controller does not make it up): more than the
  // clocks' hour between two runs, and a stale alert that would have to wait for it.
  const skipped = firstSkippedRun(j.schedule, j.timeZone);
  const [utcGap, zonedGap] = [longestGapMinutes(j.schedule), longestGapMinutesIn(j.schedule, j.timeZone)];
  if (skipped !== undefined && utcGap !== undefined && zonedGap !== undefined && zonedGap > utcGap + 60) {
    out.push({
      path: `${at}.schedule`,
      message: `("${j.schedule}") runs at times ${j.timeZone}'s clocks skip (${skipped} does not exist there): that run is lost, and the next comes `
        + `${Math.round(zonedGap / 60)} h after the one before; schedule it outside the hour the clocks go forward`,
    });
  }
  if (j.command !== undefined && j.command.length === 0) out.push({ path: `${at}.command`, message: 'is empty: leave it out to run the image\'s entrypoint' });
  return out;
}

/**
 * The workloads extensions declare: names of their own (each gets a NetworkPolicy of its name, and
 * its pods the name's labels), data the environment has, services it has.
 */
function extensionRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, string>();
  for (const [i, ext] of env.extensions.entries()) {
    if (seen.has(ext.name)) out.push({ path: `extensions[${i}].name`, message: `("${ext.name}") is also the name of ${seen.get(ext.name)}` });
    seen.set(ext.name, `extensions[${i}]`);
    for (const [name, w] of Object.entries(ext.workloads)) {
      const at = `extensions[${i}] (${ext.name}).workloads.${name}`;
      const taken = (['services', 'workers', 'jobs'] as const).find((section) => Object.hasOwn(env[section], name));
      if (taken) out.push({ path: at, message: `uses the name "${name}", which ${taken}.${name} already takes` });
      else if (reservedNames(env).includes(name)) out.push({ path: at, message: `uses the name "${name}", which the data tier or a fixed object of the environment already takes` });
      else if (seen.has(`workload ${name}`)) out.push({ path: at, message: `uses the name "${name}", which ${seen.get(`workload ${name}`)} already takes` });
      seen.set(`workload ${name}`, at);
      for (const [u, dep] of w.uses.entries()) {
        if (!env.data[dep]) out.push({ path: `${at}.uses[${u}]`, message: `("${dep}") is not configured: add data.${dep}, or remove it from uses` });
      }
      for (const [c, target] of w.calls.entries()) {
        if (!Object.hasOwn(env.services, target)) out.push({ path: `${at}.calls[${c}]`, message: `("${target}") is not a service of this environment` });
      }
    }
  }
  return out;
}

function hostRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  const hosts = new Set<string>();
  for (const [h, host] of env.hosts.entries()) {
    if (hosts.has(host.hostname)) out.push({ path: `hosts[${h}].hostname`, message: `("${host.hostname}") is listed twice` });
    hosts.add(host.hostname);
    // Gateway API path prefixes match whole segments and ignore a trailing '/': /api and /api/ are one prefix.
    const paths = new Map<string, string>();
    for (const [r, route] of host.routes.entries()) {
      const at = `hosts[${h}].routes[${r}]`;
      const prefix = route.path.replace(/\/+$/, '') || '/';
      const earlier = paths.get(prefix);
      if (earlier === route.path) out.push({ path: `${at}.path`, message: `("${route.path}") is routed twice on ${host.hostname}` });
      else if (earlier !== undefined) out.push({ path: `${at}.path`, message: `("${route.path}") is the same prefix as "${earlier}" on ${host.hostname} (a trailing '/' does not count)` });
      else paths.set(prefix, route.path);
      if (Object.hasOwn(env.workers, route.service) || Object.hasOwn(env.jobs, route.service)) {
        const what = Object.hasOwn(env.workers, route.service) ? 'a worker' : 'a scheduled job';
        out.push({ path: `${at}.service`, message: `("${route.service}") is ${what}, which serves no HTTP: route to a service` });
      } else if (!Object.hasOwn(env.services, route.service)) {
        out.push({ path: `${at}.service`, message: `("${route.service}") is not a service of this environment` });
      }
    }
  }
  return out;
}

function platformRules(env: Environment): Problem[] {
  const out: Problem[] = [...duplicates('gateway.loadBalancerCidrs', env.gateway.loadBalancerCidrs ?? [])];
  const renew = parseDuration(env.tls.renewBefore);
  if (renew >= parseDuration(CERTIFICATE_DURATION)) {
    out.push({ path: 'tls.renewBefore', message: `("${env.tls.renewBefore}") must be shorter than the certificate lifetime (${CERTIFICATE_DURATION}, Let's Encrypt's 90 days)` });
  } else if (renew < parseDuration(MIN_RENEW_BEFORE)) {
    out.push({ path: 'tls.renewBefore', message: `("${env.tls.renewBefore}") must be at least ${MIN_RENEW_BEFORE}: leave a day to notice and fix a failed renewal` });
  }
  const derived = [`${env.app.name}-${env.name}`, ...reservedNames(env)].sort((a, b) => b.length - a.length)[0];
  // A StatefulSet's pods get a controller-revision-hash label made of its name and 11 more characters.
  const statefulSet = dataEndpoints(env).redis?.name;
  if (derived.length > MAX_NAME) {
    out.push({ path: 'app.name', message: `("${env.app.name}") is too long: "${derived}", made from it, has ${derived.length} characters and Kubernetes allows ${MAX_NAME}` });
  } else if (statefulSet && statefulSet.length > MAX_STATEFULSET_NAME) {
    out.push({ path: 'app.name', message: `("${env.app.name}") is too long: the StatefulSet "${statefulSet}", made from it, has ${statefulSet.length} characters and Kubernetes allows ${MAX_STATEFULSET_NAME}` });
  } else if (env.data.postgres && env.data.postgres.name === undefined && clusterName(env).length > MAX_CLUSTER_NAME) {
    const cluster = clusterName(env);
    out.push({ path: 'app.name', message: `("${env.app.name}") is too long: the PostgreSQL cluster "${cluster}", made from it, has ${cluster.length} characters and CloudNativePG accepts ${MAX_CLUSTER_NAME}` });
  }
  if (env.hsts.preload && env.hsts.maxAgeSeconds < HSTS_PRELOAD_MIN_AGE) {
    out.push({ path: 'hsts.maxAgeSeconds', message: `(${env.hsts.maxAgeSeconds}) is below ${HSTS_PRELOAD_MIN_AGE}, the minimum the HSTS preload list accepts` });
  }
  if (env.hsts.preload && !env.hsts.includeSubDomains) {
    out.push({ path: 'hsts.includeSubDomains', message: 'must be true when preload is on (the preload list requires it)' });
  }
  // A production site's HSTS must outlast a visit's gap: browsers forget it after max-age (with
  // preload on, the preload rule above says so already).
  if (env.production && !env.hsts.preload && env.hsts.maxAgeSeconds < HSTS_PRODUCTION_MIN_AGE) {
    out.push({ path: 'hsts.maxAgeSeconds', message: `(${env.hsts.maxAgeSeconds}) is below one year (${HSTS_PRODUCTION_MIN_AGE}): production keeps browsers on HTTPS for at least that long` });
  }
  if (env.production && env.tls.issuer !== 'letsencrypt-production') {
    out.push({ path: 'tls.issuer', message: `("${env.tls.issuer}") issues untrusted certificates; production uses letsencrypt-production` });
  }
  if (env.production && !env.alerting.pagerduty) {
    out.push({ path: 'alerting.pagerduty', message: 'is required in production: critical alerts must page someone' });
  }
  if (!env.alerting.pagerduty && !env.alerting.slack && !env.alerting.email) {
    out.push({ path: 'alerting', message: 'names no receiver: alerts would go nowhere' });
  }
  return [...out, ...alertingRules(env)];
}

/**
 * Who hears what (charts/gitops/alertmanager-config.ts): only production pages, and PagerDuty gets
 * nothing but critical alerts, so warnings and info need Slack or email there too. Production's
 * alerting pipeline is itself watched from outside: without a dead man's switch, a Prometheus or
 * Alertmanager that stopped would take every page with it, unnoticed.
 */
function alertingRules(env: Environment): Problem[] {
  const { pagerduty, slack, email, deadMansSwitch } = env.alerting;
  const out: Problem[] = [];
  if (!env.production && pagerduty) {
    out.push({
      path: 'alerting.pagerduty',
      message: 'is refused outside production: only production pages; this environment\'s critical alerts and failed syncs go to Slack (or email)',
    });
  }
  if (env.production && pagerduty && !slack && !email) {
    out.push({ path: 'alerting', message: 'needs slack or email besides pagerduty in production: PagerDuty gets critical alerts only, and warnings and info alerts would go nowhere' });
  }
  if (env.production && !deadMansSwitch) {
    out.push({
      path: 'alerting.deadMansSwitch',
      message: 'is required in production: if Prometheus or Alertmanager stops, no alert is sent, not even that one; only an outside service that misses the Watchdog notices',
    });
  }
  return out;
}

function postgresRules(pg: NonNullable<Environment['data']['postgres']>, env: Environment): Problem[] {
  const out: Problem[] = [];
  if (env.production && pg.instances < PRODUCTION_MIN_DB_INSTANCES) {
    out.push({ path: 'data.postgres.instances', message: `(${pg.instances}) is below ${PRODUCTION_MIN_DB_INSTANCES}: synchronous replication with required durability needs a standby to spare` });
  }
  // Connections left for replication, backups, the operator and an administrator.
  const reserved = 20;
  if (pg.pooler.instances * pg.pooler.defaultPoolSize > MAX_CONNECTIONS - reserved) {
    out.push({
      path: 'data.postgres.pooler.defaultPoolSize',
      message: `(${pg.pooler.defaultPoolSize}) × ${pg.pooler.instances} pooler instances opens more than ${MAX_CONNECTIONS - reserved} server connections (max_connections ${MAX_CONNECTIONS}, ${reserved} kept for replication, backups and administration)`,
    });
  }
  if (pg.owner === 'postgres') {
    out.push({ path: 'data.postgres.owner', message: 'must not be the superuser "postgres"' });
  }
  const cluster = clusterName(env);
  // A cluster named after the application is app.name's limit, reported with the others (platformRules).
  if (pg.name !== undefined && cluster.length > MAX_CLUSTER_NAME) {
    out.push({
      path: 'data.postgres.name',
      message: `("${pg.name}") is too long: CloudNativePG accepts cluster names of at most ${MAX_CLUSTER_NAME} characters`,
    });
  }
  if (pg.recovery && pg.recovery.source === cluster) {
    out.push({
      path: 'data.postgres.recovery.source',
      message: `("${pg.recovery.source}") is the cluster's own name: a recovered cluster archives to its own, new server name, so it needs another name (data.postgres.name)`,
    });
  }
  out.push(...resourceRules('data.postgres.resources', pg.resources));
  return out;
}

function redisRules(redis: NonNullable<Environment['data']['redis']>): Problem[] {
  const out = resourceRules('data.redis.resources', redis.resources);
  const limit = redis.resources.limits.memory;
  if (redis.maxmemory !== undefined && !maxmemoryFits(redis.maxmemory, limit)) {
    out.push({
      path: 'data.redis.maxmemory',
      message: `(${redis.maxmemory}) leaves too little of the memory limit (${limit}) for a background save's copy-on-write: `
        + `at most ${maxSafeMaxmemory(limit) / 2 ** 20}mb (half of the limit after 64 MiB for buffers), or leave it out for that`,
    });
  }
  return out;
}

function uploadsRules(uploads: NonNullable<Environment['data']['uploads']>, env: Environment): Problem[] {
  const out: Problem[] = [];
  const uploadsMount = uploads.mountPath;
  const workloads = [
    ...Object.entries(env.services).map(([n, s]) => [`services.${n}`, s] as const),
    ...Object.entries(env.workers).map(([n, w]) => [`workers.${n}`, w] as const),
    ...Object.entries(env.jobs).map(([n, j]) => [`jobs.${n}`, j] as const),
  ];
  for (const [at, s] of workloads) {
    for (const [i, p] of s.writablePaths.entries()) {
      if (p === uploadsMount) out.push({ path: `${at}.writablePaths[${i}]`, message: `("${p}") is the uploaded-files volume; it must not be a scratch directory` });
      else if (p.startsWith(`${uploadsMount}/`)) out.push({ path: `${at}.writablePaths[${i}]`, message: `("${p}") is inside the uploaded-files volume (${uploadsMount}); a scratch directory there would hide uploaded files` });
    }
  }
  return out;
}

function backupRules(env: Environment): Problem[] {
  const b = env.backups;
  if (!b) return [];
  const out: Problem[] = [];
  const { postgres } = env.data;
  if (postgres && b.scratchSize !== undefined && parseQuantity(b.scratchSize) < parseQuantity(postgres.storage.size)) {
    out.push({
      path: 'backups.scratchSize',
      message: `(${b.scratchSize}) is smaller than data.postgres.storage.size (${postgres.storage.size}): the weekly restore test restores the whole database into it`,
    });
  }
  // The restore test calls a repository stale when its newest snapshot is older than this: a
  // schedule that leaves a longer gap between two good runs would fail it for nothing.
  for (const field of ['databaseSchedule', 'filesSchedule'] as const) {
    const schedule = b[field];
    const gap = schedule === undefined ? undefined : longestGapMinutes(schedule);
    if (gap !== undefined && gap >= b.maxSnapshotAgeHours * 60) {
      out.push({
        path: 'backups.maxSnapshotAgeHours',
        message: `(${b.maxSnapshotAgeHours}) is not longer than the longest gap between two runs of backups.${field} ("${schedule}": ${formatHours(gap / 60)} h): `
          + 'the restore test would call a backup stale between two good runs',
      });
    }
  }
  return out;
}

const formatHours = (h: number) => (Number.isInteger(h) ? String(h) : h.toFixed(2));

/** The rules of the data components the environment has. */
function dataRules(env: Environment): Problem[] {
  const { postgres, redis, uploads } = env.data;
  return [
    ...(postgres ? postgresRules(postgres, env) : []),
    ...(redis ? redisRules(redis) : []),
    ...(uploads ? uploadsRules(uploads, env) : []),
  ];
}

/** Every cross-field problem of an environment that passed the schema. */
/** Prometheus' size units, powers of two (its `--storage.tsdb.retention.size` flag). */
const PROM_UNITS: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40, PB: 2 ** 50, EB: 2 ** 60 };
/** Share of Prometheus' volume the retention size may take: the WAL and the head block need the rest. */
const PROM_RETENTION_SHARE = 0.9;

function deliveryRules(env: Environment): Problem[] {
  const out: Problem[] = [
    ...duplicates('delivery.developerGroups', env.delivery.developerGroups),
    ...duplicates('delivery.releaseGroups', env.delivery.releaseGroups),
  ];
  // Alertmanager's receivers (charts/gitops/alertmanager-config.ts) and Argo CD's notifications
  // (charts/gitops/notifications.ts) read the receivers' credentials through External Secrets.
  const { pagerduty, slack, email, deadMansSwitch } = env.alerting;
  const receivers = [
    slack ? 'alerting.slack' : '', pagerduty ? 'alerting.pagerduty' : '', email?.secretName ? 'alerting.email' : '', deadMansSwitch ? 'alerting.deadMansSwitch' : '',
  ].filter(Boolean);
  if (receivers.length > 0 && !env.externalSecrets) {
    const readers = slack || pagerduty ? 'Alertmanager and Argo CD\'s notifications read' : 'Alertmanager reads';
    out.push({ path: 'externalSecrets', message: `is required: ${readers} the credentials of ${receivers.join(', ').replace(/, ([^,]*)$/, ' and $1')} from the secret manager` });
  }
  if (env.delivery.namespace === env.app.namespace) {
    out.push({ path: 'delivery.namespace', message: `("${env.delivery.namespace}") is the application's namespace; Argo CD runs in its own` });
  }
  const { retention, retentionSize, storage } = env.platform.prometheus;
  if (promDurationDays(retention) < SLO_PERIOD_DAYS) {
    out.push({
      path: 'platform.prometheus.retention',
      message: `("${retention}") is shorter than the ${SLO_PERIOD_DAYS} days the service level objectives are measured over: their error budget would be reckoned on what is left`,
    });
  }
  const [, amount, unit] = /^([0-9]+)([A-Z]+)$/.exec(retentionSize) ?? [];
  const limit = parseQuantity(storage.size) * PROM_RETENTION_SHARE;
  if (amount !== undefined && Number(amount) * PROM_UNITS[unit] > limit) {
    out.push({
      path: 'platform.prometheus.retentionSize',
      message: `("${retentionSize}") leaves too little of the ${storage.size} volume: at most ${PROM_RETENTION_SHARE * 100} % of it (${Math.floor(limit / 2 ** 30)}GB), since the write-ahead log and the newest block need the rest`,
    });
  }
  return out;
}

/** A Prometheus duration (`30d`, `4w`, `1y`, `720h`; the schema checked its form) in days. */
function promDurationDays(d: string): number {
  const days = { y: 365, w: 7, d: 1, h: 1 / 24, m: 1 / 1440 } as const;
  return [...d.matchAll(/([0-9]+)([ywdhm])/g)].reduce((sum, [, n, u]) => sum + Number(n) * days[u as keyof typeof days], 0);
}

/** The load test's shortest and longest run: a minute gives a p(99) enough requests; an hour holds up the sync long enough. */
export const LOAD_TEST_MIN_DURATION = '1m';
export const LOAD_TEST_MAX_DURATION = '1h';

/** Whether a route's prefix matches `path` (Gateway API PathPrefix: whole segments). */
function underPrefix(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/$/, '');
  return p === '' || path === p || path.startsWith(`${p}/`);
}

function loadTestRules(env: Environment): Problem[] {
  const t = env.loadTest;
  if (!t) return [];
  if (env.production) {
    return [{
      path: 'loadTest',
      message: 'is refused in production: the load test runs in staging, so that a release that misses the SLO stops there; '
        + 'in production it would spend the error budget on synthetic traffic, in front of real users',
    }];
  }
  const out: Problem[] = [];
  const seconds = parseDuration(t.duration);
  if (seconds < parseDuration(LOAD_TEST_MIN_DURATION) || seconds > parseDuration(LOAD_TEST_MAX_DURATION)) {
    out.push({
      path: 'loadTest.duration',
      message: `("${t.duration}") must be between ${LOAD_TEST_MIN_DURATION} (fewer requests say nothing of a p(99)) and ${LOAD_TEST_MAX_DURATION} (the sync waits for it)`,
    });
  }
  if (t.paths) {
    out.push(...duplicates('loadTest.paths', t.paths));
    for (const [i, path] of t.paths.entries()) {
      const unrouted = env.hosts.filter((h) => !h.routes.some((r) => underPrefix(path, r.path))).map((h) => h.hostname);
      if (unrouted.length > 0) {
        out.push({ path: `loadTest.paths[${i}]`, message: `("${path}") is not routed on ${unrouted.join(', ')}: the Gateway's own 404 would be all it measured` });
      }
    }
  }
  return out;
}

/**
 * The latency objective is read off the gateway's request-time histogram (environments/model/slo.ts):
 * its threshold must be one of the histogram's bucket bounds.
 */
function sloRules(env: Environment): Problem[] {
  const ms = latencyThresholdMs(env);
  const atGateway = hostRoutes(env).some((h) => h.rules.some((r) => env.services[r.service]?.sli === 'gateway'));
  if (!atGateway || ENVOY_LATENCY_BUCKETS_MS.includes(ms)) return [];
  const choices = ENVOY_LATENCY_BUCKETS_MS.filter((b) => b >= 5 && b <= 60000).map((b) => String(b / 1000)).join(', ');
  return [{
    path: 'slo.latencyThresholdSeconds',
    message: `(${env.slo.latencyThresholdSeconds}) is not a bucket of the gateway's request-time histogram, which the latency objective is read from: one of ${choices} (seconds)`,
  }];
}

/** Loki's index period (the schema's `period` of charts/gitops/values/loki.ts): retention is whole tables of it. */
export const LOG_INDEX_PERIOD = '24h';
/** Shortest retention of application logs: a day, one index table. */
export const MIN_APPLICATION_LOG_RETENTION = '24h';
/**
 * Shortest retention of the audit stream in production: a year. FERPA (34 CFR 99.32) requires the
 * record of disclosures of a student's records to be kept as long as the records themselves, and
 * institutions commonly keep access logs a year or more; a shorter audit trail cannot answer for a year.
 */
export const MIN_PRODUCTION_AUDIT_LOG_RETENTION = '8760h';

/**
 * Loki's retention per tenant (charts/gitops/values/loki.ts): whole days, since the compactor
 * deletes a day's index table at a time; the audit trail at least a year in production. Production
 * keeps the logs in object storage, and Loki reads its credentials through External Secrets.
 */
function loggingRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  const { application, audit } = env.logging.retention;
  const day = parseDuration(LOG_INDEX_PERIOD);
  for (const [tenant, value] of [['application', application], ['audit', audit]] as const) {
    if (parseDuration(value) % day !== 0) {
      out.push({ path: `logging.retention.${tenant}`, message: `("${value}") is not a whole number of days (a multiple of ${LOG_INDEX_PERIOD}): Loki's compactor deletes logs a day's index at a time` });
    }
  }
  if (parseDuration(application) < parseDuration(MIN_APPLICATION_LOG_RETENTION)) {
    out.push({ path: 'logging.retention.application', message: `("${application}") is shorter than ${MIN_APPLICATION_LOG_RETENTION}: Loki keeps at least a day of logs` });
  }
  if (env.production && parseDuration(audit) < parseDuration(MIN_PRODUCTION_AUDIT_LOG_RETENTION)) {
    out.push({
      path: 'logging.retention.audit',
      message: `("${audit}") is shorter than a year (${MIN_PRODUCTION_AUDIT_LOG_RETENTION}): production keeps the audit trail of who read or changed student records at least that long (FERPA records of access are commonly kept a year or more)`,
    });
  }
  if (env.production && !env.objectStorage) {
    out.push({ path: 'objectStorage', message: 'is required in production: Loki keeps the logs and the audit trail there (on its own volume, one lost disk would lose them all)' });
  }
  // With a data component the schema already requires externalSecrets.
  if (env.objectStorage && !env.externalSecrets) {
    out.push({ path: 'externalSecrets', message: 'is required: Loki reads the objectStorage credentials from the secret manager' });
  }
  return out;
}

export function crossFieldProblems(env: Environment, ctx: RuleContext = {}): Problem[] {
  return [
    ...sloRules(env),
    ...Object.entries(env.services).flatMap(([name, s]) => serviceRules(name, s, env, ctx)),
    ...Object.entries(env.workers).flatMap(([name, w]) => workerRules(name, w, env, ctx)),
    ...Object.entries(env.jobs).flatMap(([name, j]) => jobRules(name, j, env, ctx)),
    ...extensionRules(env),
    ...hostRules(env),
    ...platformRules(env),
    ...dataRules(env),
    ...backupRules(env),
    ...deliveryRules(env),
    ...loadTestRules(env),
    ...loggingRules(env),
  ];
}
