/**
 * Rules that span fields, checked after the schema accepted every field on its own. Each returns
 * problems with the path of the field to change, so a message can say exactly where to look.
 */
import { reservedNames } from '../charts/common/names';
import type { Environment, ServiceConfig } from './schema';
import { parseQuantity, parseRedisMemory } from './quantity';

export interface Problem {
  /** Dotted path of the field, e.g. `services.api.autoscaling.minReplicas`. */
  readonly path: string;
  readonly message: string;
}

/** Environment variables the pipeline injects for `uses`; a service may not set them itself. */
export const INJECTED_ENV: Record<'postgres' | 'redis', readonly string[]> = {
  postgres: ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'DATABASE_USER', 'DATABASE_PASSWORD'],
  redis: ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_NODES', 'REDIS_PASSWORD'],
};

const HSTS_PRELOAD_MIN_AGE = 31536000;
const PRODUCTION_MIN_REPLICAS = 2;
const PRODUCTION_MIN_DB_INSTANCES = 3;

function replicaRules(name: string, s: ServiceConfig, env: Environment): Problem[] {
  const at = `services.${name}`;
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
      out.push({ path: field, message: `(${min}) is below ${PRODUCTION_MIN_REPLICAS}: production runs at least ${PRODUCTION_MIN_REPLICAS} replicas of every service so one pod can fail or be evicted` });
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

function serviceRules(name: string, s: ServiceConfig, env: Environment): Problem[] {
  const at = `services.${name}`;
  const out: Problem[] = [...replicaRules(name, s, env), ...resourceRules(`${at}.resources`, s.resources)];
  if (reservedNames(env).includes(name)) {
    out.push({ path: at, message: `uses the name "${name}", which the data tier already takes` });
  }
  if (env.production && !s.image.digest) {
    out.push({ path: `${at}.image.digest`, message: 'is required in production: application images are pinned by digest (set it in the environment\'s image pin file)' });
  }
  for (const [i, target] of s.calls.entries()) {
    if (target === name) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is the service itself` });
    else if (!(target in env.services)) out.push({ path: `${at}.calls[${i}]`, message: `("${target}") is not a service of this environment` });
  }
  for (const dep of s.uses) {
    for (const v of INJECTED_ENV[dep]) {
      if (v in s.env) out.push({ path: `${at}.env.${v}`, message: `is injected by uses: ${dep}; remove it from env` });
    }
  }
  const seen = new Set<string>();
  for (const [i, p] of s.writablePaths.entries()) {
    if (seen.has(p)) out.push({ path: `${at}.writablePaths[${i}]`, message: `("${p}") is listed twice` });
    seen.add(p);
  }
  if (s.metrics && s.metrics.path === s.health.livenessPath) {
    out.push({ path: `${at}.metrics.path`, message: 'is the liveness path; metrics and health need separate endpoints' });
  }
  return out;
}

function hostRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  const hosts = new Set<string>();
  for (const [h, host] of env.hosts.entries()) {
    if (hosts.has(host.hostname)) out.push({ path: `hosts[${h}].hostname`, message: `("${host.hostname}") is listed twice` });
    hosts.add(host.hostname);
    const paths = new Set<string>();
    for (const [r, route] of host.routes.entries()) {
      const at = `hosts[${h}].routes[${r}]`;
      if (paths.has(route.path)) out.push({ path: `${at}.path`, message: `("${route.path}") is routed twice on ${host.hostname}` });
      paths.add(route.path);
      if (!(route.service in env.services)) out.push({ path: `${at}.service`, message: `("${route.service}") is not a service of this environment` });
    }
  }
  return out;
}

function platformRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  if (env.hsts.preload && env.hsts.maxAgeSeconds < HSTS_PRELOAD_MIN_AGE) {
    out.push({ path: 'hsts.maxAgeSeconds', message: `(${env.hsts.maxAgeSeconds}) is below ${HSTS_PRELOAD_MIN_AGE}, the minimum the HSTS preload list accepts` });
  }
  if (env.hsts.preload && !env.hsts.includeSubDomains) {
    out.push({ path: 'hsts.includeSubDomains', message: 'must be true when preload is on (the preload list requires it)' });
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
  return out;
}

function dataRules(env: Environment): Problem[] {
  const out: Problem[] = [];
  const pg = env.data.postgres;
  if (env.production && pg.instances < PRODUCTION_MIN_DB_INSTANCES) {
    out.push({ path: 'data.postgres.instances', message: `(${pg.instances}) is below ${PRODUCTION_MIN_DB_INSTANCES}: synchronous replication with required durability needs a standby to spare` });
  }
  if (pg.owner === 'postgres') {
    out.push({ path: 'data.postgres.owner', message: 'must not be the superuser "postgres"' });
  }
  out.push(...resourceRules('data.postgres.resources', pg.resources));
  out.push(...resourceRules('data.redis.resources', env.data.redis.resources));
  const maxmemory = parseRedisMemory(env.data.redis.maxmemory);
  const limit = parseQuantity(env.data.redis.resources.limits.memory);
  if (maxmemory >= limit) {
    out.push({ path: 'data.redis.maxmemory', message: `(${env.data.redis.maxmemory}) must stay below the container memory limit (${env.data.redis.resources.limits.memory}), or the kernel kills Redis before it evicts` });
  }
  const uploadsMount = env.data.uploads.mountPath;
  for (const [name, s] of Object.entries(env.services)) {
    for (const [i, p] of s.writablePaths.entries()) {
      if (p === uploadsMount) out.push({ path: `services.${name}.writablePaths[${i}]`, message: `("${p}") is the uploaded-files volume; it must not be a scratch directory` });
    }
  }
  return out;
}

/** Every cross-field problem of an environment that passed the schema. */
export function crossFieldProblems(env: Environment): Problem[] {
  return [
    ...Object.entries(env.services).flatMap(([name, s]) => serviceRules(name, s, env)),
    ...hostRules(env),
    ...platformRules(env),
    ...dataRules(env),
  ];
}
