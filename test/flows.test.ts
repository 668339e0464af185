/**
 * The flows table (environments/model/flows.ts, `networkModel`) per fixture: which parties and flows
 * each kind of application gets, and only for what it has. The policies rendered from the table are
 * judged in test/network-policies.test.ts and test/network-flows.test.ts; here, the table itself.
 */
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { type Flow, type NetworkModel, type Party } from '../environments/model/flows';
import { selectorLabels } from '../environments/model/identity';
import { buildModel } from '../environments/model/model';
import {
  ACME_SOLVER_PORT, BLACKBOX_EXPORTER_PORT, DNS_PORT, INSTANCE_MANAGER_PORT, NON_PUBLIC_RANGES, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT,
  REDIS_EXPORTER_PORT, REDIS_PORT, SENTINEL_PORT,
} from '../environments/model/network';
import type { Environment } from '../environments/schema';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, shop, variant } from './support/fixtures';
import { ipInBlock } from './support/network-policy-evaluator';

/** A flow as one line, `from → to ports`, with parties by name, for readable equality. */
const line = (f: Flow) => `${f.from.map((p) => p.name).join(', ')} → ${f.to.map((p) => p.name).join(', ')} ${f.ports.map((p) => `${p.port}/${p.protocol}`).join(',')}`;
const parties = (m: NetworkModel): Party[] => m.flows.flatMap((f) => [...f.from, ...f.to]);
const ports = (m: NetworkModel): number[] => [...new Set(m.flows.flatMap((f) => f.ports.map((p) => p.port)))];
const flowsOf = (env: Environment) => buildModel(env).network.flows.map(line);

const shopEnv = variant(shop);
const box = variant(boxDesigner);
const postgresOnly = boxDesignerPostgresOnly();
const noData = boxDesignerWithoutData();
const fixtures = [['shop', shopEnv], ['box designer', box], ['box designer, PostgreSQL only', postgresOnly], ['box designer without data', noData]] as const;

describe.each(fixtures)('%s', (_name, env) => {
  const model = buildModel(env).network;

  test('every flow says why it exists, and no two flows say the same', () => {
    for (const f of model.flows) expect({ flow: line(f), why: f.why.trim().length > 10 }).toEqual({ flow: line(f), why: true });
    const whys = model.flows.map((f) => f.why);
    expect(whys.filter((w, i) => whys.indexOf(w) !== i)).toEqual([]);
  });

  test('every flow has senders, receivers and ports', () => {
    for (const f of model.flows) {
      const flow = line(f);
      expect({ flow, from: f.from.length > 0, to: f.to.length > 0, ports: f.ports.length > 0 }).toEqual({ flow, from: true, to: true, ports: true });
    }
  });

  test('every pod of ours a flow names is the pods of a policy subject (or the construct refuses the table)', () => {
    const subjects = new Set(model.subjects.map((s) => s.pods));
    for (const p of parties(model).filter((x) => x.kind === 'own')) expect({ party: p.name, subject: subjects.has(p) }).toEqual({ party: p.name, subject: true });
  });

  test('every pod resolves names; the Gateway reaches the HTTP-01 solver and the routed services on their container ports', () => {
    const flows = flowsOf(env);
    expect(flows).toContain(`every pod of the namespace → cluster DNS ${DNS_PORT}/UDP,${DNS_PORT}/TCP`);
    expect(flows).toContain(`the Gateway's proxies → cert-manager's HTTP-01 solver ${ACME_SOLVER_PORT}/TCP`);
    for (const [name, s] of Object.entries(env.services)) expect(flows).toContain(`the Gateway's proxies → ${name} ${s.port}/TCP`);
  });
});

test('shop: Redis is a party, the api asks a sentinel then uses the master, the members talk, Prometheus scrapes the exporter', () => {
  const m = buildModel(shopEnv).network;
  const redis = `Redis (${buildModel(shopEnv).data.redis!.name})`;
  const flows = m.flows.map(line);
  expect(flows).toEqual(expect.arrayContaining([
    `api → ${redis} ${REDIS_PORT}/TCP,${SENTINEL_PORT}/TCP`,
    `${redis} → ${redis} ${REDIS_PORT}/TCP,${SENTINEL_PORT}/TCP`,
    `Prometheus → ${redis} ${REDIS_EXPORTER_PORT}/TCP`,
  ]));
  expect(flows.filter((f) => f.includes('Redis'))).toHaveLength(3);
  expect(m.subjects.find((s) => s.labelName === 'redis')?.pods.selector).toEqual({ matchLabels: selectorLabels(buildModel(shopEnv).identity, 'redis') });
});

test('shop: web calls api, the api (with metrics) is scraped, PostgreSQL only through PgBouncer', () => {
  const flows = flowsOf(shopEnv);
  const pg = buildModel(shopEnv).data.postgres!;
  expect(flows).toContain(`web → api ${shopEnv.services.api.port}/TCP`);
  expect(flows).toContain(`Prometheus → api ${shopEnv.services.api.port}/TCP`);
  expect(flows).toContain(`api → PgBouncer (${pg.pooler}) ${POSTGRES_PORT}/TCP`);
  expect(flows.filter((f) => f.startsWith('api → PostgreSQL'))).toEqual([]);
  // web has no metrics and uses nothing.
  expect(flows.filter((f) => f.startsWith('web →') || f.startsWith('Prometheus → web'))).toEqual([`web → api ${shopEnv.services.api.port}/TCP`]);
});

test('the box designer (no Redis): no Redis party, flow, port or policy subject', () => {
  expect(box.data.redis).toBeUndefined();
  for (const env of [box, postgresOnly, noData]) {
    const m = buildModel(env).network;
    expect(parties(m).filter((p) => /redis/i.test(p.name))).toEqual([]);
    expect(m.flows.filter((f) => /redis|sentinel/i.test(f.why))).toEqual([]);
    expect(ports(m).filter((p) => [REDIS_PORT, SENTINEL_PORT, REDIS_EXPORTER_PORT].includes(p))).toEqual([]);
    expect(m.subjects.filter((s) => s.labelName === 'redis')).toEqual([]);
  }
});

test('the box designer: its api uses PostgreSQL through PgBouncer; the data tier\'s flows and every backup job are there', () => {
  const m = buildModel(box).network;
  const pg = buildModel(box).data.postgres!;
  const flows = m.flows.map(line);
  const [pooler, instances] = [`PgBouncer (${pg.pooler})`, `PostgreSQL (${pg.cluster})`];
  expect(flows).toEqual(expect.arrayContaining([
    `api → ${pooler} ${POSTGRES_PORT}/TCP`,
    `${pooler} → ${instances} ${POSTGRES_PORT}/TCP`,
    `${instances} → ${instances} ${POSTGRES_PORT}/TCP`,
    `${instances} → ${instances} ${INSTANCE_MANAGER_PORT}/TCP`,
    `backup-database → ${instances} ${POSTGRES_PORT}/TCP`,
    `the CloudNativePG operator → ${instances}, ${pooler} ${INSTANCE_MANAGER_PORT}/TCP`,
    `Prometheus → ${instances} ${POSTGRES_METRICS_PORT}/TCP`,
    `Prometheus → ${pooler} ${PGBOUNCER_METRICS_PORT}/TCP`,
    `${instances} → the object storage, at any public address 443/TCP`,
    `${instances}, ${pooler} → the Kubernetes API server, at any address 443/TCP,6443/TCP`,
    'backup-database → the object storage, at any public address 443/TCP',
    'backup-files → the object storage, at any public address 443/TCP',
    'backup-verify → the object storage, at any public address 443/TCP',
  ]));
  // The box designer's api has no metrics: Prometheus scrapes only the data tier.
  expect(flows.filter((f) => f.startsWith('Prometheus → api'))).toEqual([]);
  expect(m.subjects.map((s) => s.name).sort())
    .toEqual(['allow-acme-http01-solver', 'allow-dns', 'api', 'backup-database', 'backup-files', 'backup-verify', 'blackbox-exporter', pg.cluster, pg.pooler, 'smoke-test'].sort());
});

test('a migration: one flow from its Job\'s pods to the instances on 5432, one subject, both directions; only for the service that has one', () => {
  const env = variant(boxDesigner, { services: { api: { migration: { command: ['migrate'] } } } });
  const model = buildModel(env);
  const pg = model.data.postgres!;
  const m = model.network;
  const migrationFlows = m.flows.filter((f) => f.from.some((p) => p.name === 'api-migrate') || f.to.some((p) => p.name === 'api-migrate'));
  expect(migrationFlows.map(line)).toEqual([`api-migrate → PostgreSQL (${pg.cluster}) ${POSTGRES_PORT}/TCP`]);
  // The receiving end is the instances (the -rw Service's endpoints), never PgBouncer.
  expect(migrationFlows[0].to[0]).toMatchObject({ kind: 'own', selector: pg.instancePodSelector });
  const subject = m.subjects.find((s) => s.name === 'api-migrate');
  expect(subject).toEqual({ name: 'api-migrate', labelName: 'api-migrate', pods: migrationFlows[0].from[0], types: ['Ingress', 'Egress'] });
  expect(subject!.pods.selector).toEqual({ matchLabels: selectorLabels(model.identity, 'api-migrate') });
  // Without one, nothing of it.
  for (const other of [box, shopEnv, postgresOnly, noData]) {
    const n = buildModel(other).network;
    expect(parties(n).filter((p) => /migrat/.test(p.name))).toEqual([]);
    expect(n.subjects.filter((s) => /migrat/.test(s.name))).toEqual([]);
  }
});

test('PostgreSQL only: no uploads or file-backup party, flow or subject; the database and its backups stay', () => {
  const m = buildModel(postgresOnly).network;
  expect(parties(m).filter((p) => /backup-files|uploads/.test(p.name))).toEqual([]);
  expect(m.flows.filter((f) => /backup-files|uploads/.test(f.why))).toEqual([]);
  expect(m.subjects.map((s) => s.name)).not.toContain('backup-files');
  expect(m.subjects.map((s) => s.name)).toEqual(expect.arrayContaining(['backup-database', 'backup-verify']));
  expect(m.flows.map(line)).toContain('backup-database → the object storage, at any public address 443/TCP');
});

test('without data: no data flows at all, only name resolution, the Gateway to the api and the solver, and the smoke test to the hosts', () => {
  const m = buildModel(noData).network;
  expect(m.flows.map(line)).toEqual([
    `every pod of the namespace → cluster DNS ${DNS_PORT}/UDP,${DNS_PORT}/TCP`,
    `the Gateway's proxies → cert-manager's HTTP-01 solver ${ACME_SOLVER_PORT}/TCP`,
    `the Gateway's proxies → api ${noData.services.api.port}/TCP`,
    'smoke-test → the Gateway\'s proxies 10080/TCP,10443/TCP',
    'smoke-test → the public hosts\' load balancer, at any public address 80/TCP,443/TCP',
    `Prometheus → the blackbox exporter's probers (blackbox-exporter-0, blackbox-exporter-1) ${BLACKBOX_EXPORTER_PORT}/TCP`,
    'the blackbox exporter\'s probers (blackbox-exporter-0, blackbox-exporter-1) → the Gateway\'s proxies 10443/TCP',
    'the blackbox exporter\'s probers (blackbox-exporter-0, blackbox-exporter-1) → the public hosts\' load balancer, at any public address 443/TCP',
  ]);
  expect(m.subjects.map((s) => s.name)).toEqual(['allow-dns', 'allow-acme-http01-solver', 'api', 'smoke-test', 'blackbox-exporter']);
  // The smoke test's and the probers' way to the hosts: one kind of address, public.
  expect([...new Set(parties(m).filter((p) => p.kind === 'addresses').map((p) => p.name))]).toEqual(['the public hosts\' load balancer, at any public address']);
});

test('the smoke test\'s load balancer: the configured gateway.loadBalancerCidrs on 80 and 443, else public addresses only', () => {
  const toBalancer = (env: Environment) => buildModel(env).network.flows
    .filter((f) => f.from[0].name === 'smoke-test' && f.to[0].kind === 'addresses');
  const [unset] = toBalancer(shopEnv);
  expect(toBalancer(shopEnv)).toHaveLength(1);
  expect(unset.to).toEqual([
    { kind: 'addresses', name: 'the public hosts\' load balancer, at any public address', blocks: [{ cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES }] },
  ]);
  expect(unset.ports).toEqual([{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }]);
  expect(unset.why).toContain('gateway.loadBalancerCidrs');
  const onPremises = variant(shop, { gateway: { loadBalancerCidrs: ['10.20.30.0/28', '2001:db8:30::/64'] } });
  const [set, ...more] = toBalancer(onPremises);
  expect(more).toEqual([]);
  expect(set.to).toEqual([{ kind: 'addresses', name: 'the public hosts\' load balancer', blocks: [{ cidr: '10.20.30.0/28' }, { cidr: '2001:db8:30::/64' }] }]);
  expect(set.ports).toEqual(unset.ports);
  // The flow to the Gateway's proxies stays, whatever the setting.
  for (const env of [shopEnv, onPremises]) expect(flowsOf(env)).toContain('smoke-test → the Gateway\'s proxies 10080/TCP,10443/TCP');
  // By address, only the flow to the API server reaches the cluster's private addresses on 443 (10.0.0.1: the kubernetes Service on AKS).
  for (const env of [shopEnv, onPremises, box, noData]) {
    const inCluster = (p: Party) => p.kind === 'addresses' && p.blocks.some((b) => ipInBlock('10.0.0.1', { cidr: b.cidr, except: b.except && [...b.except] }));
    const reaching = buildModel(env).network.flows.filter((f) => f.ports.some((x) => x.port === 443) && f.to.some(inCluster)).map(line);
    expect(reaching.filter((l) => !l.includes('→ the Kubernetes API server, at any address'))).toEqual([]);
  }
});

test('internet egress: once per declared port, sorted, to public addresses only', () => {
  const env = variant(shop, { services: { web: { internetEgressPorts: [8443, 443] } } });
  const f = buildModel(env).network.flows.find((x) => x.from[0].name === 'web' && x.to[0].kind === 'addresses')!;
  expect(f.ports).toEqual([{ port: 443, protocol: 'TCP' }, { port: 8443, protocol: 'TCP' }]);
  expect(f.to).toEqual([{ kind: 'addresses', name: 'the public internet', blocks: [{ cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES }] }]);
  expect(buildModel(shopEnv).network.flows.filter((x) => x.from.some((p) => p.name === 'web') && x.to.some((p) => p.kind === 'addresses'))).toEqual([]);
});

test('the object storage: its configured ranges and URL port when given, any public address on 443 otherwise', () => {
  const onPremises = variant(shop, { objectStorage: { endpointURL: 'https://minio.shop.test:9000', cidrs: ['10.20.0.0/16', '10.30.0.0/16'] } });
  const toStorage = (env: Environment) => buildModel(env).network.flows.filter((f) => f.to.some((p) => p.name.startsWith('the object storage')));
  // WAL archiving plus the three backup jobs.
  expect(toStorage(onPremises)).toHaveLength(4);
  for (const f of toStorage(onPremises)) {
    expect(f.to).toEqual([{ kind: 'addresses', name: 'the object storage', blocks: [{ cidr: '10.20.0.0/16' }, { cidr: '10.30.0.0/16' }] }]);
    expect(f.ports).toEqual([{ port: 9000, protocol: 'TCP' }]);
  }
  for (const f of toStorage(shopEnv)) {
    expect(f.to).toEqual([{ kind: 'addresses', name: 'the object storage, at any public address', blocks: [{ cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES }] }]);
    expect(f.ports).toEqual([{ port: 443, protocol: 'TCP' }]);
  }
});

test('a service nothing routes to or calls gets no Gateway or caller flow', () => {
  const unrouted = variant(shop, { hosts: [{ hostname: 'shop.test', routes: [{ path: '/', service: 'web' }] }], services: { web: { calls: [] } } });
  const toApi = buildModel(unrouted).network.flows.filter((f) => f.to.some((p) => p.name === 'api')).map(line);
  expect(toApi).toEqual([`Prometheus → api ${unrouted.services.api.port}/TCP`]);
});

test('the real environments: every flow says why', () => {
  for (const env of resolveEnvironments(environments, process.cwd())) {
    for (const f of buildModel(env).network.flows) {
      expect({ env: env.name, flow: line(f), why: f.why.trim().length > 10 }).toEqual({ env: env.name, flow: line(f), why: true });
    }
  }
});
