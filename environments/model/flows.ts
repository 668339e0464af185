/**
 * The network flows of one environment: who talks to whom, on which ports, and why. Every
 * NetworkPolicy is rendered from this table (charts/security/network-policies.ts), both ends of a
 * flow from the same entry, and docs/network-flows.md is written from it, so a security reviewer
 * reads the segmentation here rather than in YAML.
 */
import type { Environment } from '../schema';
import { gatewayProxyContainerPort, gatewayProxyPodLabels } from './gateway';
import { appIdentity, selectorLabels } from './identity';
import { FIXED_NAMES, migrationJobName, requiredSection, UPTIME_PROBERS, type DataEndpoints, type LabelSelector } from './names';
import {
  ACME_SOLVER_POD_LABELS, ACME_SOLVER_PORT, BLACKBOX_EXPORTER_PORT, DNS_NAMESPACE, DNS_POD_LABELS, DNS_PORT, GATEWAY_HTTP_PORT, GATEWAY_HTTPS_PORT,
  INSTANCE_MANAGER_PORT, KUBERNETES_API_PORTS, NON_PUBLIC_RANGES, objectStoragePort, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT,
  PROMETHEUS_POD_LABELS, REDIS_EXPORTER_PORT, REDIS_PORT, SENTINEL_PORT,
} from './network';

export type Protocol = 'TCP' | 'UDP';
export interface PortSpec { readonly port: number; readonly protocol: Protocol }

/** Pods of the application's namespace: their NetworkPolicy is one of ours. */
export interface OwnPods { readonly kind: 'own'; readonly name: string; readonly selector: LabelSelector }
/** Pods of another namespace (all of its pods when no labels are given). */
export interface OtherPods { readonly kind: 'other'; readonly name: string; readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> }
/** Addresses (CIDR blocks, with exceptions), for what is not a pod. */
export interface Addresses { readonly kind: 'addresses'; readonly name: string; readonly blocks: readonly { readonly cidr: string; readonly except?: readonly string[] }[] }
export type Party = OwnPods | OtherPods | Addresses;

export interface Flow {
  readonly from: readonly Party[];
  readonly to: readonly Party[];
  readonly ports: readonly PortSpec[];
  /** Why the flow exists: what breaks without it. */
  readonly why: string;
}

/** A NetworkPolicy: which of our pods it isolates, in which directions, and what it is called. */
export interface PolicySubject {
  /** The NetworkPolicy's name. */
  readonly name: string;
  /** Its `app.kubernetes.io/name`: what it guards. */
  readonly labelName: string;
  readonly pods: OwnPods;
  /** Directions the pods are isolated in: the flows of the others are not this policy's concern. */
  readonly types: readonly ('Ingress' | 'Egress')[];
}

export interface NetworkModel {
  readonly flows: readonly Flow[];
  readonly subjects: readonly PolicySubject[];
}

const tcp = (...ports: number[]): PortSpec[] => ports.map((port) => ({ port, protocol: 'TCP' }));

/** Pods of ours with the selector labels of `name` (a service, a job, the Redis members). */
function own(env: Environment, name: string, display = name): OwnPods {
  return { kind: 'own', name: display, selector: { matchLabels: selectorLabels(appIdentity(env), name) } };
}

/** Public addresses only: never the private, carrier-grade NAT and link-local ranges. */
const PUBLIC_INTERNET: Addresses = { kind: 'addresses', name: 'the public internet', blocks: [{ cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES }] };

/**
 * The Kubernetes API: a policy sees the API server's real address after the Service is translated,
 * which differs per cluster and is usually private, so any address (on the API server's ports only).
 */
const ANY_ADDRESS: Addresses = { kind: 'addresses', name: 'the Kubernetes API server, at any address', blocks: [{ cidr: '0.0.0.0/0' }] };

/**
 * The public hosts' load balancer, as a pod inside the cluster reaches it: the configured address
 * ranges (on premises, MetalLB or a hardware balancer, usually private), or any public address. Never
 * "any address": on 443 that would be the API server, and every pod and Service of the cluster.
 */
function loadBalancer(env: Environment): Addresses {
  const cidrs = env.gateway.loadBalancerCidrs;
  return cidrs
    ? { kind: 'addresses', name: 'the public hosts\' load balancer', blocks: cidrs.map((cidr) => ({ cidr })) }
    : { ...PUBLIC_INTERNET, name: 'the public hosts\' load balancer, at any public address' };
}

/** The object storage endpoint: the configured address ranges, or any public address. */
function objectStorage(env: Environment): Addresses {
  const cidrs = requiredSection(env, 'objectStorage').cidrs;
  return cidrs
    ? { kind: 'addresses', name: 'the object storage', blocks: cidrs.map((cidr) => ({ cidr })) }
    : { ...PUBLIC_INTERNET, name: 'the object storage, at any public address' };
}

/** Every flow of the environment and the policies that enforce them, between the named endpoints. */
export function networkModel(env: Environment, data: DataEndpoints): NetworkModel {
  const flows: Flow[] = [];
  const subjects: PolicySubject[] = [];
  const both = ['Ingress', 'Egress'] as const;

  // Every pod: name resolution.
  const everyPod: OwnPods = { kind: 'own', name: 'every pod of the namespace', selector: {} };
  const dns: OtherPods = { kind: 'other', name: 'cluster DNS', namespace: DNS_NAMESPACE, podLabels: DNS_POD_LABELS };
  subjects.push({ name: FIXED_NAMES.allowDns, labelName: FIXED_NAMES.allowDns, pods: everyPod, types: ['Egress'] });
  flows.push({ from: [everyPod], to: [dns], ports: [{ port: DNS_PORT, protocol: 'UDP' }, ...tcp(DNS_PORT)], why: 'every pod resolves names through cluster DNS' });

  // The edge: this environment's Gateway proxies, nobody else's.
  const gateway: OtherPods = { kind: 'other', name: 'the Gateway\'s proxies', namespace: env.gateway.proxyNamespace, podLabels: gatewayProxyPodLabels(env) };
  const solver: OwnPods = { kind: 'own', name: 'cert-manager\'s HTTP-01 solver', selector: { matchLabels: { ...ACME_SOLVER_POD_LABELS } } };
  subjects.push({ name: FIXED_NAMES.allowAcmeSolver, labelName: 'acme-http01-solver', pods: solver, types: ['Ingress'] });
  flows.push({ from: [gateway], to: [solver], ports: tcp(ACME_SOLVER_PORT), why: 'HTTP-01 challenges reach the solver through the Gateway, or certificates never renew' });

  const prometheus: OtherPods = { kind: 'other', name: 'Prometheus', namespace: env.monitoringNamespace, podLabels: PROMETHEUS_POD_LABELS };
  const pg = data.postgres;
  const pooler: OwnPods | undefined = pg && { kind: 'own', name: `PgBouncer (${pg.pooler})`, selector: { matchLabels: pg.poolerPodLabels } };
  const instances: OwnPods | undefined = pg && { kind: 'own', name: `PostgreSQL (${pg.cluster})`, selector: pg.instancePodSelector };
  const redis = data.redis && own(env, 'redis', `Redis (${data.redis.name})`);
  const dumpJob = data.backups?.database && own(env, data.backups.database.job);

  // The services, then the workers (which nothing calls: only Prometheus reaches their management
  // port) and the scheduled jobs (which nothing reaches).
  const services = Object.entries(env.services);
  const workers = Object.entries(env.workers);
  const jobs = Object.entries(env.jobs);
  // The workloads extensions declare (environments/extension.ts), as workers are.
  const extended = env.extensions.flatMap((e) => Object.entries(e.workloads));
  const workloads = [...services, ...workers, ...jobs, ...extended];
  const routed = new Set(env.hosts.flatMap((h) => h.routes.map((r) => r.service)));
  const service = new Map(workloads.map(([name]) => [name, own(env, name)]));
  // Each kind of flow in its own pass, so the rules a service's policy gets read edge first.
  for (const [name] of workloads) subjects.push({ name, labelName: name, pods: service.get(name)!, types: both });
  for (const [name, s] of services) {
    if (routed.has(name)) flows.push({ from: [gateway], to: [service.get(name)!], ports: tcp(s.port), why: `the Gateway routes requests to ${name}, on its container port` });
  }
  for (const [name, s] of workloads) {
    for (const callee of s.calls) {
      flows.push({ from: [service.get(name)!], to: [service.get(callee)!], ports: tcp(env.services[callee].port), why: `${name} calls ${callee}` });
    }
  }
  for (const [name, s] of services) {
    if (s.metrics) flows.push({ from: [prometheus], to: [service.get(name)!], ports: tcp(s.port), why: `Prometheus scrapes ${name}'s metrics (${s.metrics.path})` });
  }
  for (const [name, w] of extended) {
    if (w.metricsPort !== undefined) flows.push({ from: [prometheus], to: [service.get(name)!], ports: tcp(w.metricsPort), why: `Prometheus scrapes ${name}'s metrics` });
  }
  for (const [name, w] of workers) {
    if (w.metrics && w.managementPort !== undefined) {
      flows.push({ from: [prometheus], to: [service.get(name)!], ports: tcp(w.managementPort), why: `Prometheus scrapes ${name}'s metrics (${w.metrics.path}) on its management port` });
    }
  }
  for (const [name, s] of workloads) {
    const self = service.get(name)!;
    if (pooler && s.uses.includes('postgres')) flows.push({ from: [self], to: [pooler], ports: tcp(POSTGRES_PORT), why: `${name} uses PostgreSQL, through PgBouncer` });
    if (redis && s.uses.includes('redis')) flows.push({ from: [self], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: `${name} asks a sentinel for the master, then uses it` });
    if (s.internetEgressPorts.length > 0) {
      const ports = [...new Set(s.internetEgressPorts)].sort((a, b) => a - b);
      flows.push({ from: [self], to: [PUBLIC_INTERNET], ports: tcp(...ports), why: `${name} declares internet egress on these ports` });
    }
  }

  // The PostSync smoke test (charts/app/smoke-test-job.ts) asks the public hosts what a visitor gets.
  if (env.hosts.length > 0) {
    const smokeTest = own(env, FIXED_NAMES.smokeTest);
    const listenerPorts = [GATEWAY_HTTP_PORT, GATEWAY_HTTPS_PORT];
    subjects.push({ name: FIXED_NAMES.smokeTest, labelName: FIXED_NAMES.smokeTest, pods: smokeTest, types: both });
    flows.push(
      {
        from: [smokeTest], to: [gateway], ports: tcp(...listenerPorts.map(gatewayProxyContainerPort)),
        why: 'the smoke test (a PostSync hook Job) asks the public hosts over HTTPS and HTTP; inside the cluster kube-proxy or the CNI '
          + 'usually translates the load balancer\'s address to the Gateway\'s proxies, which the policy then sees at their container ports',
      },
      {
        from: [smokeTest], to: [loadBalancer(env)], ports: tcp(...listenerPorts),
        why: 'the same requests where the load balancer is reached for real (known by host name, ipMode Proxy, outside the cluster), '
          + (env.gateway.loadBalancerCidrs
            ? 'at the addresses gateway.loadBalancerCidrs gives'
            : 'at a public address only, never the private ranges of the cluster\'s pods, Services and API server: '
              + 'a load balancer at a private address (on premises) is given in gateway.loadBalancerCidrs'),
      },
    );
  }

  // The staging load test (charts/app/load-test-job.ts): the same way to the hosts, HTTPS only.
  if (env.loadTest && env.hosts.length > 0) {
    const loadTest = own(env, FIXED_NAMES.loadTest);
    subjects.push({ name: FIXED_NAMES.loadTest, labelName: FIXED_NAMES.loadTest, pods: loadTest, types: both });
    flows.push(
      {
        from: [loadTest], to: [gateway], ports: tcp(gatewayProxyContainerPort(GATEWAY_HTTPS_PORT)),
        why: 'the load test (a PostSync hook Job, staging) asks the public hosts over HTTPS, as the smoke test does: '
          + 'through the Gateway\'s proxies where the cluster translates the load balancer\'s address',
      },
      {
        from: [loadTest], to: [loadBalancer(env)], ports: tcp(GATEWAY_HTTPS_PORT),
        why: 'the same requests where the load balancer is reached for real, at the same addresses as the smoke test\'s',
      },
    );
  }

  // The uptime checks (charts/observability/blackbox-exporter.ts): Prometheus has the blackbox
  // exporter ask every public host over HTTPS, the way a visitor's request goes.
  if (env.hosts.length > 0) {
    const exporter: OwnPods = {
      kind: 'own',
      name: `the blackbox exporter's probers (${UPTIME_PROBERS.join(', ')})`,
      selector: {
        matchLabels: { 'app.kubernetes.io/instance': appIdentity(env).instance },
        matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [...UPTIME_PROBERS] }],
      },
    };
    subjects.push({ name: FIXED_NAMES.blackboxExporter, labelName: FIXED_NAMES.blackboxExporter, pods: exporter, types: both });
    flows.push(
      { from: [prometheus], to: [exporter], ports: tcp(BLACKBOX_EXPORTER_PORT), why: 'Prometheus has the blackbox exporter probe the public hosts (the uptime checks) and scrapes the results' },
      {
        from: [exporter], to: [gateway], ports: tcp(gatewayProxyContainerPort(GATEWAY_HTTPS_PORT)),
        why: 'the uptime checks ask the public hosts over HTTPS, as the smoke test does: through the Gateway\'s proxies where the cluster translates the load balancer\'s address',
      },
      {
        from: [exporter], to: [loadBalancer(env)], ports: tcp(GATEWAY_HTTPS_PORT),
        why: 'the same requests where the load balancer is reached for real, at the same addresses as the smoke test\'s',
      },
    );
  }

  if (pg && pooler && instances && env.data.postgres) {
    const operator: OtherPods = { kind: 'other', name: 'the CloudNativePG operator', namespace: env.data.postgres.operatorNamespace };
    subjects.push({ name: pg.cluster, labelName: 'postgresql', pods: instances, types: both });
    subjects.push({ name: pg.pooler, labelName: 'pgbouncer', pods: pooler, types: both });
    // Each migration Job's pods: PostgreSQL and name resolution, nothing else, and nothing reaches them.
    const migrations = services.filter(([, s]) => s.migration && s.uses.includes('postgres'))
      .map(([name]) => [name, own(env, migrationJobName(name))] as const);
    for (const [, pods] of migrations) subjects.push({ name: pods.name, labelName: pods.name, pods, types: both });
    flows.push(
      { from: [pooler], to: [instances], ports: tcp(POSTGRES_PORT), why: 'PgBouncer forwards to the instances' },
      { from: [instances], to: [instances], ports: tcp(POSTGRES_PORT), why: 'streaming replication, and a new instance cloning the primary' },
      ...(dumpJob ? [{ from: [dumpJob], to: [instances], ports: tcp(POSTGRES_PORT), why: 'the nightly dump reads a standby' }] : []),
      // Through the primary's Service (`<cluster>-rw`): the policy sees the instance behind it.
      ...migrations.map(([service, pods]) => ({
        from: [pods], to: [instances], ports: tcp(POSTGRES_PORT),
        why: `${service}'s migration (a Sync hook Job) changes the schema on the primary, directly: `
          + 'PgBouncer\'s transaction pooling breaks the session-level lock migration tools take',
      })),
      { from: [operator], to: [instances, pooler], ports: tcp(INSTANCE_MANAGER_PORT), why: 'the operator polls every instance manager\'s status' },
      {
        from: [instances], to: [instances], ports: tcp(INSTANCE_MANAGER_PORT),
        why: 'the primary asks the other instances before it decides it is isolated (CloudNativePG 1.27+); without it a short loss of the API server fails its liveness probe',
      },
      { from: [prometheus], to: [instances], ports: tcp(POSTGRES_METRICS_PORT), why: 'Prometheus scrapes the instances\' exporter' },
      { from: [prometheus], to: [pooler], ports: tcp(PGBOUNCER_METRICS_PORT), why: 'Prometheus scrapes PgBouncer\'s exporter' },
      {
        from: [instances], to: [objectStorage(env)], ports: tcp(objectStoragePort(requiredSection(env, 'objectStorage'))),
        why: 'WAL archiving and base backups (Barman Cloud plugin)',
      },
      { from: [instances, pooler], to: [ANY_ADDRESS], ports: tcp(...KUBERNETES_API_PORTS), why: 'the instance manager in every pod talks to the Kubernetes API' },
    );
  }

  if (redis && data.redis) {
    subjects.push({ name: data.redis.name, labelName: 'redis', pods: redis, types: both });
    flows.push(
      { from: [redis], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'replication, and sentinels watching every member and each other' },
      { from: [prometheus], to: [redis], ports: tcp(REDIS_EXPORTER_PORT), why: 'Prometheus scrapes redis_exporter' },
    );
  }

  // Backup jobs: nothing connects to them; each reaches the object storage, the dump also PostgreSQL.
  const b = data.backups;
  if (b) {
    const jobs = [...(b.database ? [b.database.job] : []), ...(b.uploads ? [b.uploads.job] : []), b.verifyJob];
    for (const job of jobs) {
      const pods = dumpJob && job === b.database?.job ? dumpJob : own(env, job);
      subjects.push({ name: job, labelName: job, pods, types: both });
      flows.push({
        from: [pods], to: [objectStorage(env)], ports: tcp(objectStoragePort(requiredSection(env, 'objectStorage'))),
        why: `${job} stores to and reads from its restic repository`,
      });
    }
  }

  return { flows, subjects };
}
