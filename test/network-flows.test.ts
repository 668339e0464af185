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
import { dataEndpoints } from '../environments/model/names';
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
 * The flows the reference application (web, api, PostgreSQL through PgBouncer, Redis with
 * Sentinel, uploaded files and their backups) needs, and why. Names are the data tier's; who talks
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
  return [
    { from: c.own, to: ['kube-dns'], ports: [{ port: DNS_PORT, protocol: 'UDP' }, { port: DNS_PORT, protocol: 'TCP' }], why: 'every pod resolves names through cluster DNS' },
    { from: ['gateway-proxy'], to: ['web'], ports: tcp(web), why: 'the Gateway routes / to web, on its container port' },
    { from: ['gateway-proxy'], to: ['api'], ports: tcp(api), why: 'the Gateway routes /api to api' },
    { from: ['gateway-proxy'], to: ['acme-solver'], ports: tcp(ACME_SOLVER_PORT), why: 'HTTP-01 challenges reach cert-manager\'s solver through the Gateway' },
    { from: ['web'], to: ['api'], ports: tcp(api), why: 'web calls api server-side (API_INTERNAL_URL)' },
    { from: ['prometheus'], to: ['api'], ports: tcp(api), why: 'api serves its metrics on its own port' },
    { from: ['api'], to: [pooler], ports: tcp(POSTGRES_PORT), why: 'api uses PostgreSQL through PgBouncer, and only through it' },
    { from: ['api'], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'api uses Redis through Sentinel' },
    { from: [redis], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'replication, and sentinels watching every member and each other' },
    { from: ['prometheus'], to: [redis], ports: tcp(REDIS_EXPORTER_PORT), why: 'redis_exporter' },
    { from: [pooler], to: instances, ports: tcp(POSTGRES_PORT), why: 'PgBouncer forwards to the instances' },
    { from: instances, to: instances, ports: tcp(POSTGRES_PORT), why: 'streaming replication' },
    {
      from: instances, to: instances, ports: tcp(INSTANCE_MANAGER_PORT),
      why: 'the primary\'s liveness isolation check calls the other instances\' status endpoint (CloudNativePG, on by default)',
    },
    { from: [dumpJob], to: instances, ports: tcp(POSTGRES_PORT), why: 'the nightly dump reads an instance (a standby when there is one)' },
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

/**
 * Production with object storage on its own addresses and port (an on-premises MinIO, say): every
 * flow to it must follow the configuration, not a built-in "public internet on 443".
 */
const onPremisesStorage = (() => {
  const prod = resolved.find((e) => e.production)!;
  const def = environments.find((d) => d.name === prod.name)!;
  return resolveEnvironment({
    ...def,
    config: mergeConfig(structuredClone(def.config), { objectStorage: { endpointURL: 'https://objects.university.example:9000', cidrs: ['203.0.113.0/24'] } }),
  }, process.cwd());
})();

const cases = [
  ...resolved.map((env, i) => [env.name, env, resolved[(i + 1) % resolved.length]] as const),
  ['production with on-premises object storage', onPremisesStorage, resolved[0]] as const,
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

  test('the api has no flow of its own to the instances: PostgreSQL only through PgBouncer', () => {
    const pg = dataEndpoints(env).postgres!;
    const lines = connections(derived, c).filter((l) => l.includes('api →'));
    expect(lines.filter((l) => l.includes(' → postgresql '))).toEqual([]);
    expect(lines).toContain(`egress api → ${pg.pooler}:${POSTGRES_PORT}/TCP`);
  });
});
