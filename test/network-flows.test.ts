/**
 * The network contract of each real environment, judged on both sides of every connection over
 * every NetworkPolicy the environment synthesizes (test/support/network-contract.ts), for every pod
 * kind the environment runs, platform neighbours, addresses outside the cluster and strangers
 * (test/support/network-endpoints.ts).
 *
 * Two contracts, on purpose:
 *   - `referenceContract` is written by hand, from what the reference application needs (README,
 *     runbooks, the data tier's documentation), without reading the model. A contract derived from
 *     the code cannot disagree with the code: if the model's table gained a flow, lost one or
 *     widened a selector, only a separately written statement notices.
 *   - `modelContract` is derived from the model's flows table (environments/model/flows.ts), so
 *     that the policies are held to exactly the table docs/network-flows.md shows a reviewer, for
 *     any application (the second application's test uses it alone), and so that a deliberate
 *     change to the table is a change to one place plus the hand-written statement here.
 */
import { mergeConfig } from '../environments/define';
import { environments } from '../environments/index';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { dataEndpoints, migrationJobName } from '../environments/model/names';
import {
  ACME_SOLVER_PORT, DNS_PORT, INSTANCE_MANAGER_PORT, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT, REDIS_EXPORTER_PORT,
  REDIS_PORT, SENTINEL_PORT,
} from '../environments/model/network';
import type { Environment } from '../environments/schema';
import { selectorMatches } from '../pipeline/policy';
import { fileName, synthObjects } from '../pipeline/synth';
import {
  catchAllPeers, connections, contractDifferences, differencesReport, modelContract, tcp, uncastWorkloads, unstatedPolicyTypes, type CastFlow,
} from './support/network-contract';
import { INITDB_JOB, JOIN_JOB, networkCast, PRIMARY, STANDBY, type Cast } from './support/network-endpoints';

const resolved = resolveEnvironments(environments, process.cwd());

/** What a component of the environment is, or a failed test saying it is missing. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the reference application has ${what}; this environment does not`);
  return value;
}

/**
 * The flows the reference application (web, api, the documents worker, PostgreSQL through PgBouncer,
 * Redis with Sentinel, uploaded files and their backups) needs, and why. Names are the data tier's; who talks
 * to whom on which port is stated here. The api reaches PostgreSQL only through PgBouncer: no
 * connection of its own to the instances (session-level features go through the pooler too).
 */
function referenceContract(env: Environment, c: Cast): CastFlow[] {
  const data = dataEndpoints(env);
  const pg = present(data.postgres, 'PostgreSQL');
  const redis = present(data.redis, 'Redis').name;
  const b = present(data.backups, 'backups');
  const dumpJob = present(b.database, 'database backups').job;
  const filesJob = present(b.uploads, 'file backups').job;
  const storage = present(env.objectStorage, 'object storage');
  const web = env.services.web.port;
  const api = env.services.api.port;
  // The operator's Job pods (initdb, a join cloning the primary) share the instances' policy and flows.
  const instances = [PRIMARY, STANDBY, INITDB_JOB, JOIN_JOB];
  const pooler = pg.pooler;
  // Any public address, unless the object storage's address ranges are configured.
  const objectStorage = storage.cidrs ? ['object-storage'] : ['object-storage', 'internet'];
  const objectStoragePort = Number(new URL(storage.endpointURL).port || 443);
  // The Kubernetes API server's real address differs per cluster: any address, on its ports.
  const anyAddress = [...c.endpoints.keys()];
  // The cast's public addresses are the internet's and, in every case here, the object storage's
  // (52.219.170.10, or the configured 203.0.113.0/24): with no ranges of its own, the load
  // balancer may be at any of them.
  const loadBalancer = env.gateway.loadBalancerCidrs ? ['load-balancer'] : ['internet', 'object-storage'];
  const probers = ['blackbox-exporter-0', 'blackbox-exporter-1'];
  return [
    { from: c.own, to: ['kube-dns'], ports: [{ port: DNS_PORT, protocol: 'UDP' }, { port: DNS_PORT, protocol: 'TCP' }], why: 'every pod resolves names through cluster DNS' },
    { from: ['gateway-proxy'], to: ['web'], ports: tcp(web), why: 'the Gateway routes / to web, on its container port' },
    { from: ['gateway-proxy'], to: ['api'], ports: tcp(api), why: 'the Gateway routes /api to api' },
    { from: ['gateway-proxy'], to: ['acme-solver'], ports: tcp(ACME_SOLVER_PORT), why: 'HTTP-01 challenges reach cert-manager\'s solver through the Gateway' },
    // The smoke test (a PostSync hook) asks the public hosts what a visitor gets. Inside the cluster the
    // load balancer's address is usually translated to the Gateway's proxies, which Envoy Gateway
    // runs on 10080 and 10443 for 80 and 443; reached for real, the load balancer is at the address
    // ranges configured for it, or else at a public address. Never a pod of any namespace, nor the
    // API server (443 is its port on managed clusters), nor the metadata endpoint.
    { from: ['smoke-test'], to: ['gateway-proxy'], ports: tcp(10080, 10443), why: 'the smoke test reaches the hosts through the Gateway\'s proxies' },
    {
      from: ['smoke-test'], to: loadBalancer, ports: tcp(80, 443), egressOnly: true,
      why: 'the smoke test reaches the hosts\' load balancer: its configured ranges, else a public address',
    },
    // The staging load test (a PostSync hook after the smoke test) asks the same way, over HTTPS only.
    ...(env.loadTest ? [
      { from: ['load-test'], to: ['gateway-proxy'], ports: tcp(10443), why: 'the load test reaches the hosts through the Gateway\'s proxies, HTTPS only' },
      {
        from: ['load-test'], to: loadBalancer, ports: tcp(443), egressOnly: true,
        why: 'the load test reaches the hosts\' load balancer on 443: its configured ranges, else a public address',
      },
    ] : []),
    // The uptime checks: Prometheus has the blackbox exporter's two probers (9115) ask the hosts
    // over HTTPS, the smoke test's ways.
    { from: ['prometheus'], to: probers, ports: tcp(9115), why: 'Prometheus asks the blackbox exporter for the uptime checks' },
    { from: probers, to: ['gateway-proxy'], ports: tcp(10443), why: 'the uptime checks reach the hosts through the Gateway\'s proxies, HTTPS only' },
    {
      from: probers, to: loadBalancer, ports: tcp(443), egressOnly: true,
      why: 'the uptime checks reach the hosts\' load balancer on 443: its configured ranges, else a public address',
    },
    { from: ['web'], to: ['api'], ports: tcp(api), why: 'web calls api server-side (API_INTERNAL_URL)' },
    { from: ['prometheus'], to: ['api'], ports: tcp(api), why: 'api serves its metrics on its own port' },
    { from: ['api'], to: [pooler], ports: tcp(POSTGRES_PORT), why: 'api uses PostgreSQL through PgBouncer, and only through it' },
    { from: ['api'], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'api uses Redis through Sentinel' },
    // The documents worker (renders PDFs from the queue in Redis): the same ways to the data tier as
    // the api, and nothing reaches it but Prometheus, on its management port (8081).
    { from: ['documents'], to: [pooler], ports: tcp(POSTGRES_PORT), why: 'the documents worker reads its jobs\' records through PgBouncer' },
    { from: ['documents'], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'the documents worker takes its jobs from the Redis queue' },
    { from: ['prometheus'], to: ['documents'], ports: tcp(8081), why: 'the documents worker serves its metrics on its management port' },
    // The nightly purge (a scheduled job): PgBouncer for the records, the files on the volume; nothing reaches it.
    { from: ['purge-documents'], to: [pooler], ports: tcp(POSTGRES_PORT), why: 'the purge deletes the expired documents\' records through PgBouncer' },
    { from: [redis], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'replication, and sentinels watching every member and each other' },
    { from: ['prometheus'], to: [redis], ports: tcp(REDIS_EXPORTER_PORT), why: 'redis_exporter' },
    { from: [pooler], to: instances, ports: tcp(POSTGRES_PORT), why: 'PgBouncer forwards to the instances' },
    { from: instances, to: instances, ports: tcp(POSTGRES_PORT), why: 'streaming replication' },
    {
      from: instances, to: instances, ports: tcp(INSTANCE_MANAGER_PORT),
      why: 'the primary\'s liveness isolation check calls the other instances\' status endpoint (CloudNativePG, on by default)',
    },
    { from: [dumpJob], to: instances, ports: tcp(POSTGRES_PORT), why: 'the nightly dump reads an instance (a standby when there is one)' },
    {
      from: [migrationJobName('api')], to: instances, ports: tcp(POSTGRES_PORT),
      why: 'the api\'s Flyway migration (Sync hook) runs on the primary through its -rw Service, never through PgBouncer',
    },
    { from: ['cnpg-operator'], to: [...instances, pooler], ports: tcp(INSTANCE_MANAGER_PORT), why: 'the operator polls the instance managers' },
    { from: ['prometheus'], to: instances, ports: tcp(POSTGRES_METRICS_PORT), why: 'the instances\' exporter' },
    { from: ['prometheus'], to: [pooler], ports: tcp(PGBOUNCER_METRICS_PORT), why: 'PgBouncer\'s exporter' },
    {
      from: instances, to: objectStorage, ports: tcp(objectStoragePort),
      why: 'WAL archive and base backups (Barman Cloud), to the same object storage as the backup jobs',
    },
    {
      from: [...instances, pooler], to: anyAddress, ports: tcp(443, 6443), egressOnly: true,
      why: 'the instance manager talks to the Kubernetes API, whose address is per cluster (any address, pod addresses included)',
    },
    ...[dumpJob, filesJob, b.verifyJob].map((job): CastFlow => ({
      from: [job], to: objectStorage, ports: tcp(objectStoragePort), why: 'restic repositories in the object storage',
    })),
  ];
}

/** The production environment with some of its configuration changed. */
function productionWith(overrides: object): Environment {
  const prod = resolved.find((e) => e.production)!;
  const def = environments.find((d) => d.name === prod.name)!;
  return resolveEnvironment({ ...def, config: mergeConfig(structuredClone(def.config), overrides) }, process.cwd());
}

/**
 * Production with object storage on its own addresses and port (an on-premises MinIO, say): every
 * flow to it must follow the configuration, not a built-in "public internet on 443".
 */
const onPremisesStorage = productionWith({ objectStorage: { endpointURL: 'https://objects.university.example:9000', cidrs: ['203.0.113.0/24'] } });

/**
 * Production behind an on-premises load balancer (MetalLB) on a private range: the smoke test's
 * requests to it must go to that range only, not to the public internet nor to the rest of the
 * private addresses (pods, Services, the API server).
 */
const onPremisesLoadBalancer = productionWith({ gateway: { loadBalancerCidrs: ['10.20.30.0/28'] } });

const cases = [
  ...resolved.map((env, i) => [env.name, env, resolved[(i + 1) % resolved.length]] as const),
  ['production with on-premises object storage', onPremisesStorage, resolved[0]] as const,
  ['production with an on-premises load balancer', onPremisesLoadBalancer, resolved[0]] as const,
];

test('the environments are the two of the reference application, so the cases above cover each', () => {
  expect(resolved.map((e) => e.name).sort()).toEqual(['production', 'staging']);
});

describe.each(cases)('%s', (_name, env, otherEnv) => {
  const synthesized = synthObjects(env);
  const c = networkCast(env, otherEnv, synthesized.map((o) => o.object));
  const reference = referenceContract(env, c);
  const derived = modelContract(buildModel(env).network, c);

  test('the cast has every pod the environment runs, and the operator\'s labels select as the model says', () => {
    expect(uncastWorkloads(c)).toEqual([]);
    expect(c.objects.filter((o) => o.kind === 'Cluster')).toHaveLength(1);
    // Every policy sits in the namespace whose pods are the cast's own, under security/.
    expect([...new Set(c.policies.map((p) => p.metadata.namespace))]).toEqual([env.app.namespace]);
    const pg = dataEndpoints(env).postgres!;
    for (const pod of [PRIMARY, STANDBY, INITDB_JOB, JOIN_JOB]) {
      expect({ pod, selected: selectorMatches(pg.instancePodSelector, c.pod(pod).labels) }).toEqual({ pod, selected: true });
    }
    expect(selectorMatches(pg.instancePodSelector, c.pod(pg.pooler).labels)).toBe(false);
    expect(c.pod(pg.pooler).labels).toMatchObject(pg.poolerPodLabels);
  });

  test('every NetworkPolicy is written under dist/<env>/security/, and nothing else is', () => {
    const files = synthesized.map((o) => ({ file: fileName(o), kind: o.object.kind }));
    expect(files.filter((f) => f.kind === 'NetworkPolicy').map((f) => f.file).sort())
      .toEqual(c.policies.map((p) => `security/networkpolicy-${p.metadata.name}.yaml`).sort());
    expect(files.filter((f) => f.file.startsWith('security/') && f.kind !== 'NetworkPolicy')).toEqual([]);
  });

  test('no peer is a catch-all: wide reach is by address (ipBlock) only, where the contract says so', () => {
    // The contracts' "any address" flows cannot tell a pod reached by address from one reached by a
    // selector; this keeps a selector that matches every pod or namespace from hiding behind them.
    expect(catchAllPeers(c.policies)).toEqual([]);
  });

  test('every policy states its policyTypes and each type has its rules written out', () => {
    expect(unstatedPolicyTypes(c.policies)).toEqual([]);
  });

  test('each side of every connection equals the hand-written contract: our senders\' egress, our receivers\' ingress', () => {
    expect(differencesReport(contractDifferences(c, reference))).toBe('');
  });

  test('each side of every connection equals the model\'s flows table', () => {
    expect(differencesReport(contractDifferences(c, derived))).toBe('');
  });

  test('the model\'s table states the same connections as the hand-written contract', () => {
    // Also implied by the two tests above; this one says which contract moved without the policies.
    expect(connections(derived, c)).toEqual(connections(reference, c));
  });

  test('the api\'s migration reaches the instances on 5432 and nothing else but DNS; nothing reaches it', () => {
    // Also implied by the contracts; this one says what the migration's pods may do, in one place.
    const job = migrationJobName('api');
    // What it sends, what it receives, and the receivers' side of what it sends (the instances'
    // API-server flow reaches any address, the job's included, and is judged at the sender only).
    const lines = connections(derived, c).filter((l) => l.includes(` ${job} →`) || (l.startsWith('ingress ') && l.includes(`→ ${job}:`)));
    expect(lines).toEqual([
      ...[INITDB_JOB, JOIN_JOB, PRIMARY, STANDBY].map((pod) => `egress ${job} → ${pod}:${POSTGRES_PORT}/TCP`),
      `egress ${job} → kube-dns:${DNS_PORT}/TCP`, `egress ${job} → kube-dns:${DNS_PORT}/UDP`,
      ...[INITDB_JOB, JOIN_JOB, PRIMARY, STANDBY].map((pod) => `ingress ${job} → ${pod}:${POSTGRES_PORT}/TCP`),
    ].sort());
    // The migration's Deployment-less pods are cast from the synthesized Job, and a copy of their
    // labels in another namespace gets nowhere.
    expect(c.pod(job).labels['app.kubernetes.io/component']).toBe('migration');
    expect(differencesReport(contractDifferences(c, derived).filter((d) => d.includes(job)))).toBe('');
  });

  test('the smoke test sends to the Gateway\'s proxies, DNS and the load balancer only: its configured ranges, else public addresses', () => {
    // Also implied by the contracts; this one says what the smoke test may reach, in one place.
    const balancer = env.gateway.loadBalancerCidrs ? ['load-balancer'] : ['internet', 'object-storage'];
    expect(connections(derived, c).filter((l) => l.startsWith('egress smoke-test →'))).toEqual([
      ...balancer.flatMap((to) => [80, 443].map((port) => `egress smoke-test → ${to}:${port}/TCP`)),
      'egress smoke-test → gateway-proxy:10080/TCP', 'egress smoke-test → gateway-proxy:10443/TCP',
      `egress smoke-test → kube-dns:${DNS_PORT}/TCP`, `egress smoke-test → kube-dns:${DNS_PORT}/UDP`,
    ].sort());
    expect(differencesReport(contractDifferences(c, derived).filter((d) => d.includes('smoke-test')))).toBe('');
  });

  test('the load test, where configured, sends to the Gateway\'s proxies on 10443, DNS and the load balancer on 443 only', () => {
    const lines = connections(derived, c).filter((l) => l.startsWith('egress load-test →'));
    if (!env.loadTest) {
      expect(lines).toEqual([]);
      return;
    }
    const balancer = env.gateway.loadBalancerCidrs ? ['load-balancer'] : ['internet', 'object-storage'];
    expect(lines).toEqual([
      ...balancer.map((to) => `egress load-test → ${to}:443/TCP`),
      'egress load-test → gateway-proxy:10443/TCP',
      `egress load-test → kube-dns:${DNS_PORT}/TCP`, `egress load-test → kube-dns:${DNS_PORT}/UDP`,
    ].sort());
    expect(differencesReport(contractDifferences(c, derived).filter((d) => d.includes('load-test')))).toBe('');
  });

  test('the api has no flow of its own to the instances: PostgreSQL only through PgBouncer', () => {
    const pg = dataEndpoints(env).postgres!;
    const lines = connections(derived, c).filter((l) => l.includes('api →'));
    expect(lines.filter((l) => l.includes(' → postgresql '))).toEqual([]);
    expect(lines).toContain(`egress api → ${pg.pooler}:${POSTGRES_PORT}/TCP`);
  });
});
