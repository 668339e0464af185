/**
 * The network contract of each environment, judged on both sides of every connection. A hand-written
 * table (`contract`) says which flows the application needs and why; every NetworkPolicy the
 * environment synthesizes (all charts) is then evaluated for every sender, receiver, port and
 * protocol, and each side must equal the table on its own:
 *   - egress: what a pod of ours may send is exactly what a declared flow lets it send;
 *   - ingress: what a pod of ours accepts is exactly what a declared flow sends to it.
 * A receiver that accepts more than its declared senders fails here even when every sender's egress
 * is tight, which neither a sender-side check nor "both sides agree" can see. The pods are those of
 * test/support/network-endpoints.ts: every pod kind the environment runs, platform neighbours,
 * addresses outside the cluster, and strangers.
 */
import { dataEndpoints } from '../environments/model/names';
import { ACME_SOLVER_PORT, DNS_PORT, INSTANCE_MANAGER_PORT, objectStoragePort, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT, REDIS_EXPORTER_PORT, REDIS_PORT, SENTINEL_PORT } from '../environments/model/network';
import { podTemplate, selectorMatches } from '../pipeline/policy';
import { environments } from '../environments/index';
import { mergeConfig, resolveEnvironment, resolveEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';
import { JOIN_JOB, networkCast, PRIMARY, STANDBY, type Cast } from './support/network-endpoints';
import { isPod, judgePeer, judgePort, type Protocol } from './support/network-policy-evaluator';

const resolved = resolveEnvironments(environments, process.cwd());

type Side = 'egress' | 'ingress';
interface PortSpec { readonly port: number; readonly protocol: Protocol }

/**
 * A destination only known at run time (the Kubernetes API server's real address differs per
 * cluster): the sender may reach any address on those ports. It says what the sender may send, not
 * what any pod of ours accepts, so the ingress check does not count it.
 */
const ANY_ADDRESS: unique symbol = Symbol('any address');
type Group = readonly string[] | typeof ANY_ADDRESS;
interface Flow { readonly from: Group; readonly to: Group; readonly ports: readonly PortSpec[]; readonly why: string }

const tcp = (...ports: number[]): PortSpec[] => ports.map((port) => ({ port, protocol: 'TCP' }));

/** The flows the application needs, written from what each policy is for (README, code comments). */
function contract(env: Environment, c: Cast): Flow[] {
  const data = dataEndpoints(env);
  const b = data.backups;
  const web = env.services.web.port;
  const api = env.services.api.port;
  // The operator's Job pods (a join clones the primary) share the instances' policy and flows.
  const instances = [PRIMARY, STANDBY, JOIN_JOB];
  const pooler = data.postgres.pooler;
  const redis = data.redis.name;
  // PUBLIC_INTERNET, unless the object storage's address ranges are configured.
  const objectStorage = env.objectStorage.cidrs ? ['object-storage'] : ['object-storage', 'internet'];
  return [
    { from: c.own, to: ['kube-dns'], ports: [{ port: DNS_PORT, protocol: 'UDP' }, { port: DNS_PORT, protocol: 'TCP' }], why: 'every pod resolves names through cluster DNS (allow-dns)' },
    { from: ['gateway-proxy'], to: ['web'], ports: tcp(web), why: 'the Gateway routes / to web, on its container port' },
    { from: ['gateway-proxy'], to: ['api'], ports: tcp(api), why: 'the Gateway routes /api to api' },
    { from: ['gateway-proxy'], to: ['acme-solver'], ports: tcp(ACME_SOLVER_PORT), why: 'HTTP-01 challenges reach cert-manager\'s solver through the Gateway' },
    { from: ['web'], to: ['api'], ports: tcp(api), why: 'web calls api server-side (API_INTERNAL_URL)' },
    { from: ['prometheus'], to: ['api'], ports: tcp(api), why: 'api serves its metrics on its own port' },
    { from: ['api'], to: [pooler], ports: tcp(POSTGRES_PORT), why: 'api uses PostgreSQL through PgBouncer' },
    { from: ['api'], to: instances, ports: tcp(POSTGRES_PORT), why: 'api may use the instances directly (session features)' },
    { from: ['api'], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'api uses Redis through Sentinel' },
    { from: [redis], to: [redis], ports: tcp(REDIS_PORT, SENTINEL_PORT), why: 'replication, and sentinels watching every member and each other' },
    { from: ['prometheus'], to: [redis], ports: tcp(REDIS_EXPORTER_PORT), why: 'redis_exporter' },
    { from: [pooler], to: instances, ports: tcp(POSTGRES_PORT), why: 'PgBouncer forwards to the instances' },
    { from: instances, to: instances, ports: tcp(POSTGRES_PORT), why: 'streaming replication' },
    {
      from: instances, to: instances, ports: tcp(INSTANCE_MANAGER_PORT),
      why: 'the primary\'s liveness isolation check calls the other instances\' status endpoint (CloudNativePG, on by default)',
    },
    { from: [b.databaseBackupJob], to: instances, ports: tcp(POSTGRES_PORT), why: 'the nightly dump reads an instance (a standby when there is one)' },
    { from: ['cnpg-operator'], to: [...instances, pooler], ports: tcp(INSTANCE_MANAGER_PORT), why: 'the operator polls the instance managers' },
    { from: ['prometheus'], to: instances, ports: tcp(POSTGRES_METRICS_PORT), why: 'the instances\' exporter' },
    { from: ['prometheus'], to: [pooler], ports: tcp(PGBOUNCER_METRICS_PORT), why: 'PgBouncer\'s exporter' },
    {
      from: instances, to: objectStorage, ports: tcp(objectStoragePort(env.objectStorage)),
      why: 'WAL archive and base backups (Barman Cloud), to the same object storage as the backup jobs',
    },
    {
      from: [...instances, pooler], to: ANY_ADDRESS, ports: tcp(443, 6443),
      why: 'the instance manager talks to the Kubernetes API, whose address is per cluster (any address, pod addresses included)',
    },
    ...[b.databaseBackupJob, b.filesBackupJob, b.verifyJob].map((job): Flow => ({
      from: [job], to: objectStorage, ports: tcp(objectStoragePort(env.objectStorage)), why: 'restic repositories in the object storage',
    })),
  ];
}

// ---- judging ------------------------------------------------------------------------------------

const portKey = (p: PortSpec) => `${p.port}/${p.protocol}`;
const pairKey = (side: Side, from: string, to: string) => `${side} ${from} → ${to}`;

/** For each (side, sender, receiver), the ports a flow declares and why; ANY_ADDRESS is every endpoint, for egress only. */
function declaredPorts(flows: readonly Flow[], c: Cast): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const all = [...c.endpoints.keys()];
  const members = (g: Group) => (g === ANY_ADDRESS ? all : g);
  const add = (k: string, f: Flow) => {
    const ports = out.get(k) ?? new Map<string, string>();
    for (const p of f.ports) ports.set(portKey(p), f.why);
    out.set(k, ports);
  };
  for (const f of flows) {
    for (const from of members(f.from)) {
      for (const to of members(f.to)) {
        add(pairKey('egress', from, to), f);
        if (f.to !== ANY_ADDRESS) add(pairKey('ingress', from, to), f);
      }
    }
  }
  return out;
}

/** Every port any policy names (and its neighbours), every container port, and a few nobody should open, on each protocol. */
function portsToTry(c: Cast): PortSpec[] {
  const numbers = new Set([1, 22, 80, 443, 8443, 9090, 65535]);
  for (const p of c.policies) {
    for (const rule of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port !== 'number') continue;
        numbers.add(port.port - 1).add(port.port).add(port.port + 1);
        if (port.endPort) numbers.add(port.endPort).add(port.endPort + 1);
      }
    }
  }
  for (const e of c.endpoints.values()) if (isPod(e)) for (const p of e.ports ?? []) numbers.add(p.containerPort);
  return [...numbers].filter((n) => n >= 1 && n <= 65535).sort((a, b) => a - b)
    .flatMap((port) => (['TCP', 'UDP', 'SCTP'] as const).map((protocol) => ({ port, protocol })));
}

interface Mismatch { readonly key: string; readonly why?: string; readonly rules: readonly string[] }

/** Each side on its own: our senders' egress to everyone, our receivers' ingress from everyone. */
function mismatches(c: Cast, declared: ReadonlyMap<string, ReadonlyMap<string, string>>): Mismatch[] {
  const out: Mismatch[] = [];
  const ports = portsToTry(c);
  const none = new Map<string, string>();
  for (const self of c.own) {
    for (const other of c.endpoints.keys()) {
      for (const [side, from, to] of [['egress', self, other], ['ingress', other, self]] as const) {
        const direction = side === 'egress' ? 'Egress' : 'Ingress';
        const [me, peer] = [c.endpoint(self), c.endpoint(other)];
        // The peer half of the verdict does not depend on the port: once per pair.
        const peerVerdict = judgePeer(c.policies, direction, me, peer);
        const expectedPorts = declared.get(pairKey(side, from, to)) ?? none;
        for (const p of ports) {
          const verdict = judgePort(peerVerdict, direction, me, peer, p.port, p.protocol);
          const why = expectedPorts.get(portKey(p));
          if (verdict.allowed !== (why !== undefined)) out.push({ key: `${pairKey(side, from, to)}:${portKey(p)}`, why, rules: verdict.rules });
        }
      }
    }
  }
  return out;
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

describe.each(cases)('%s', (_name, env, otherEnv) => {
  const c = networkCast(env, otherEnv);
  const flows = contract(env, c);

  test('the cast has every pod the environment runs, and the contract names only members of it', () => {
    const workloads = c.objects.filter((o) => podTemplate(o) || o.kind === 'Pooler').map((o) => o.metadata.name);
    expect(workloads.filter((n) => !c.endpoints.has(n))).toEqual([]);
    expect(c.objects.filter((o) => o.kind === 'Cluster')).toHaveLength(1);
    // Every policy sits in the namespace whose pods are the cast's own.
    expect([...new Set(c.policies.map((p) => p.metadata.namespace))]).toEqual([env.app.namespace]);
    // names.ts states the operator's labels; they must be on the operator's pods as modelled.
    const data = dataEndpoints(env);
    expect(selectorMatches(data.postgres.instancePodSelector, c.pod(PRIMARY).labels)).toBe(true);
    expect(selectorMatches(data.postgres.instancePodSelector, c.pod(JOIN_JOB).labels)).toBe(true);
    expect(selectorMatches(data.postgres.instancePodSelector, c.pod(data.postgres.pooler).labels)).toBe(false);
    expect(c.pod(data.postgres.pooler).labels).toMatchObject(data.postgres.poolerPodLabels);
    const groups = flows.flatMap((f): Group[] => [f.from, f.to]);
    const named = groups.flatMap((g) => (g === ANY_ADDRESS ? [] : g));
    expect(named.filter((n) => !c.endpoints.has(n))).toEqual([]);
  });

  test('no peer is a catch-all: wide reach is by address (ipBlock) only, where the contract says so', () => {
    // The contract's "any address" flows cannot tell a pod reached by address from one reached by a
    // selector; this keeps a selector that matches every pod or namespace from hiding behind them.
    for (const p of c.policies) {
      for (const [side, rules] of [['ingress', p.spec.ingress ?? []], ['egress', p.spec.egress ?? []]] as const) {
        for (const [i, rule] of (rules as { from?: Record<string, unknown>[]; to?: Record<string, unknown>[] }[]).entries()) {
          const peers = (side === 'ingress' ? rule.from : rule.to) ?? [];
          const at = `${p.metadata.name} ${side}[${i}]`;
          expect({ at, peers: peers.length > 0 }).toEqual({ at, peers: true });
          for (const peer of peers) {
            const wide = Object.keys(peer).length === 0
              || (peer.namespaceSelector !== undefined && JSON.stringify(peer.namespaceSelector) === '{}')
              || (peer.namespaceSelector === undefined && peer.podSelector !== undefined && JSON.stringify(peer.podSelector) === '{}');
            expect({ at, peer, wide }).toEqual({ at, peer, wide: false });
          }
        }
      }
    }
  });

  test('every policy states its policyTypes and each type has its rules written out', () => {
    // The API server defaults an empty or absent policyTypes (Ingress, plus Egress when there are
    // egress rules): the same verdicts, but a live object that differs from dist/ forever in Argo CD.
    for (const p of c.policies) {
      const types: string[] = p.spec.policyTypes ?? [];
      expect({ policy: p.metadata.name, types: types.length > 0 }).toEqual({ policy: p.metadata.name, types: true });
      const expected = [...(p.spec.ingress !== undefined ? ['Ingress'] : []), ...(p.spec.egress !== undefined ? ['Egress'] : [])];
      // default-deny has both types and no rules at all.
      if (expected.length > 0) expect({ policy: p.metadata.name, types }).toEqual({ policy: p.metadata.name, types: expected });
    }
  });

  test('each side of every connection equals the contract: our senders\' egress, our receivers\' ingress', () => {
    const found = mismatches(c, declaredPorts(flows, c))
      .map((m) => `${m.key}: ${m.why !== undefined ? `declared (${m.why}), but the policies deny it` : `not declared, but allowed by ${m.rules.join(', ')}`}`);
    expect(found.length > 0 ? [`${found.length} connection(s) differ from the contract (side sender → receiver:port/protocol):`, ...found].join('\n') : '').toBe('');
  });
});
