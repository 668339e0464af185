/**
 * NetworkPolicies (charts/security/network-policies.ts), judged by what they allow: the construct
 * alone, built from a fixture's flows table, and the evaluator (test/support/network-policy-evaluator.ts)
 * applying NetworkPolicy semantics to the pods the fixture runs (labels from its synthesized
 * workloads and what the operators add: test/support/network-endpoints.ts), so each test states a
 * flow. The shop fixture has web, an api with metrics, PostgreSQL behind PgBouncer, Redis and
 * backups; every port and name asserted is the fixture's own.
 */
import { recommendedLabels } from '../charts/common/labels';
import { NetworkPolicies } from '../charts/security/network-policies';
import type { Flow } from '../environments/model/flows';
import { selectorLabels } from '../environments/model/identity';
import { buildModel, type Model } from '../environments/model/model';
import { instancePodSelector, migrationJobName } from '../environments/model/names';
import {
  DNS_PORT, INSTANCE_MANAGER_PORT, NON_PUBLIC_RANGES, PGBOUNCER_METRICS_PORT, POSTGRES_METRICS_PORT, POSTGRES_PORT, REDIS_EXPORTER_PORT, REDIS_PORT,
  SENTINEL_PORT,
} from '../environments/model/network';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { boxDesigner, shop, variant } from './support/fixtures';
import { INITDB_JOB, JOIN_JOB, networkCast, PRIMARY, STANDBY, UNLABELLED_HERE } from './support/network-endpoints';
import { allowed, policiesSelecting, sideAllows, type Endpoint, type Pod } from './support/network-policy-evaluator';
import { only, synthConstruct } from './support/synth-construct';

/** The construct with the props the security chart gives it from the model. */
function policiesOf(model: Model): K8sObject[] {
  const { identity, network } = model;
  return synthConstruct((s) => new NetworkPolicies(s, 'network-policies', { identity, flows: network.flows, subjects: network.subjects }));
}

/** Another application's Gateway in the same proxy namespace: its proxies must never pass for ours. */
const neighbour = variant(boxDesigner);

/** The fixture's pods as they run, under the short names these tests use. */
function cast(env: Environment) {
  const c = networkCast(env, neighbour);
  const data = buildModel(env).data;
  const pg = data.postgres!;
  const b = data.backups!;
  return {
    web: c.pod('web'),
    api: c.pod('api'),
    gateway: c.pod('gateway-proxy'),
    otherGateway: c.pod('other gateway\'s proxy'),
    gatewayController: c.pod('envoy-gateway-controller'),
    prometheus: c.pod('prometheus'),
    grafana: c.pod('grafana'),
    operator: c.pod('cnpg-operator'),
    pooler: c.pod(pg.pooler),
    primary: c.pod(PRIMARY),
    standby: c.pod(STANDBY),
    joinJob: c.pod(JOIN_JOB),
    initdbJob: c.pod(INITDB_JOB),
    redis: c.pod(data.redis!.name),
    dumpJob: c.pod(b.database!.job),
    filesJob: c.pod(b.uploads!.job),
    verifyJob: c.pod(b.verifyJob),
    dns: c.pod('kube-dns'),
    otherKubeSystem: c.pod('metrics-server'),
    elsewhere: c.pod('unlabelled pod elsewhere'),
    smokeTest: c.pod('smoke-test'),
    solver: c.pod('acme-solver'),
    unlabelled: c.pod(UNLABELLED_HERE),
    fakeWeb: c.pod('impostor of web'),
    fakeApi: c.pod('impostor of api'),
    fakePooler: c.pod(`impostor of ${pg.pooler}`),
    internet: c.endpoint('internet'),
    objectStore: c.endpoint('object-storage'),
    apiServer: c.endpoint('api-server'),
    metadata: c.endpoint('metadata-endpoint'),
  } satisfies Record<string, Endpoint>;
}

const env = variant(shop);
const model = buildModel(env);
const policies = policiesOf(model);
const p = cast(env);
const pg = model.data.postgres!;
const webPort = env.services.web.port;
const apiPort = env.services.api.port;
const byName = (name: string, from: readonly K8sObject[] = policies) => only(from, 'NetworkPolicy', name);

describe('default deny', () => {
  test('one policy selects every pod for both directions and allows nothing', () => {
    expect(byName('default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  test('a pod nobody declared a flow for can neither send nor receive, DNS aside', () => {
    const unknown: Pod = { namespace: env.app.namespace, labels: { 'app.kubernetes.io/name': 'debug' } };
    expect(allowed(policies, unknown, p.api, apiPort)).toBe(false);
    expect(allowed(policies, p.web, unknown, apiPort)).toBe(false);
    expect(allowed(policies, unknown, p.internet, 443)).toBe(false);
    expect(allowed(policies, unknown, p.dns, 53, 'UDP')).toBe(true);
  });
});

describe('the services\' flows', () => {
  test('gateway proxies reach web and api on their container ports (not the Service port)', () => {
    expect(webPort).not.toBe(apiPort);
    expect(allowed(policies, p.gateway, p.web, webPort)).toBe(true);
    expect(allowed(policies, p.gateway, p.api, apiPort)).toBe(true);
    expect(allowed(policies, p.gateway, p.web, 80)).toBe(false);
    expect(allowed(policies, p.gateway, p.web, apiPort)).toBe(false);
  });

  test('only this environment\'s gateway proxies: not the controller, not another Gateway\'s proxies in the same namespace', () => {
    expect(neighbour.gateway.proxyNamespace).toBe(env.gateway.proxyNamespace);
    expect(allowed(policies, p.gatewayController, p.web, webPort)).toBe(false);
    expect(allowed(policies, p.otherGateway, p.web, webPort)).toBe(false);
    expect(allowed(policies, p.fakeWeb, p.web, webPort)).toBe(false);
  });

  test('web and api themselves refuse every pod no flow names, whatever that pod\'s egress says', () => {
    for (const sender of [p.unlabelled, p.solver, p.pooler, p.primary, p.redis, p.fakeWeb, p.fakeApi, p.gatewayController, p.grafana, p.dumpJob, p.internet]) {
      expect(sideAllows(policies, 'Ingress', p.web, sender, webPort)).toBe(false);
      expect(sideAllows(policies, 'Ingress', p.api, sender, apiPort)).toBe(false);
    }
    expect(sideAllows(policies, 'Ingress', p.api, p.web, apiPort)).toBe(true);
    expect(sideAllows(policies, 'Ingress', p.web, p.gateway, webPort)).toBe(true);
  });

  test('web calls api (the fixture says so); api does not call web', () => {
    expect(env.services.web.calls).toEqual(['api']);
    expect(allowed(policies, p.web, p.api, apiPort)).toBe(true);
    expect(allowed(policies, p.api, p.web, webPort)).toBe(false);
  });

  test('api sends to PgBouncer and Redis (with Sentinel), never to the PostgreSQL instances; web to none of them', () => {
    // Only the sender's side: the data tier's own policies decide what its pods accept.
    const egress = (from: Endpoint, to: Endpoint, port: number) => sideAllows(policies, 'Egress', from, to, port);
    expect(egress(p.api, p.pooler, POSTGRES_PORT)).toBe(true);
    expect(egress(p.api, p.redis, REDIS_PORT)).toBe(true);
    expect(egress(p.api, p.redis, SENTINEL_PORT)).toBe(true);
    expect(egress(p.api, p.primary, POSTGRES_PORT)).toBe(false);
    expect(egress(p.api, p.standby, POSTGRES_PORT)).toBe(false);
    expect(egress(p.api, p.pooler, REDIS_PORT)).toBe(false);
    expect(egress(p.web, p.pooler, POSTGRES_PORT)).toBe(false);
    expect(egress(p.web, p.redis, REDIS_PORT)).toBe(false);
  });

  test('every pod resolves names through cluster DNS, over UDP and TCP, and nothing else in kube-system', () => {
    for (const pod of [p.web, p.api, p.solver, p.primary, p.pooler, p.redis, p.dumpJob, p.unlabelled]) {
      expect(sideAllows(policies, 'Egress', pod, p.dns, 53, 'UDP')).toBe(true);
      expect(sideAllows(policies, 'Egress', pod, p.dns, 53, 'TCP')).toBe(true);
      expect(sideAllows(policies, 'Egress', pod, p.dns, 54, 'UDP')).toBe(false);
      expect(sideAllows(policies, 'Egress', pod, p.otherKubeSystem, 53, 'UDP')).toBe(false);
    }
    // The instances and PgBouncer reach any address on the API server's ports (it has no stable one).
    for (const pod of [p.web, p.api, p.solver, p.redis, p.dumpJob, p.unlabelled]) {
      expect(sideAllows(policies, 'Egress', pod, p.otherKubeSystem, 443)).toBe(false);
    }
  });

  test('Prometheus scrapes the service that has metrics; nothing else in its namespace gets in', () => {
    expect(env.services.api.metrics).toBeDefined();
    expect(env.services.web.metrics).toBeUndefined();
    expect(allowed(policies, p.prometheus, p.api, apiPort)).toBe(true);
    expect(allowed(policies, p.grafana, p.api, apiPort)).toBe(false);
    expect(allowed(policies, p.prometheus, p.web, webPort)).toBe(false);
  });

  test('the gateway reaches cert-manager\'s HTTP-01 solver, so certificates can be issued and renewed', () => {
    expect(allowed(policies, p.gateway, p.solver, 8089)).toBe(true);
    expect(allowed(policies, p.web, p.solver, 8089)).toBe(false);
    expect(allowed(policies, p.gatewayController, p.solver, 8089)).toBe(false);
    expect(allowed(policies, p.otherGateway, p.solver, 8089)).toBe(false);
  });

  test('no service reaches the internet unless it declares so', () => {
    expect(env.services.api.internetEgressPorts).toEqual([]);
    expect(allowed(policies, p.web, p.internet, 443)).toBe(false);
    expect(allowed(policies, p.api, p.internet, 443)).toBe(false);
    expect(JSON.stringify([byName('web'), byName('api')])).not.toContain('ipBlock');
  });
});

describe('internet egress where a service declares it', () => {
  const declared = variant(shop, { services: { api: { internetEgressPorts: [587, 443] } } });
  const local = policiesOf(buildModel(declared));

  test('an ipBlock rule for the declared ports (sorted), with every non-public range excepted', () => {
    const rule = byName('api', local).spec.egress.find((r: K8sObject) => r.to.some((peer: K8sObject) => peer.ipBlock));
    expect(rule.to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES } }]);
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 587 }]);
    expect(NON_PUBLIC_RANGES).toEqual(expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']));
  });

  test('public addresses on declared ports only; never the metadata endpoint or private addresses', () => {
    expect(allowed(local, p.api, p.internet, 443)).toBe(true);
    expect(allowed(local, p.api, p.internet, 587)).toBe(true);
    expect(allowed(local, p.api, p.internet, 80)).toBe(false);
    expect(allowed(local, p.api, p.metadata, 80)).toBe(false);
    expect(allowed(local, p.api, p.metadata, 443)).toBe(false);
    for (const ip of ['10.96.0.1', '172.20.0.5', '192.168.1.1', '100.64.3.3']) {
      expect({ ip, allowed: allowed(local, p.api, { ip }, 443) }).toEqual({ ip, allowed: false });
    }
    expect(allowed(local, p.web, p.internet, 443)).toBe(false);
  });
});

describe('the smoke test (a PostSync hook Job) asks the hosts through the Gateway', () => {
  const [http, https] = [80, 443];
  /** The cluster's own private addresses a 443 rule must not reach: the kubernetes Service (AKS, kubeadm), a Service, a node. */
  const privateOnes = ['10.0.0.1', '10.96.0.1', '172.20.0.5', '192.168.1.1'];

  test('the Gateway\'s proxies at their container ports, as kube-proxy or the CNI hands the load balancer\'s address to them', () => {
    expect(allowed(policies, p.smokeTest, p.gateway, 10443)).toBe(true);
    expect(allowed(policies, p.smokeTest, p.gateway, 10080)).toBe(true);
    expect(allowed(policies, p.smokeTest, p.otherGateway, 10443)).toBe(false);
    expect(allowed(policies, p.smokeTest, p.gatewayController, 10443)).toBe(false);
  });

  test('without gateway.loadBalancerCidrs: a public address on 80 and 443 only, none of the cluster\'s private ones', () => {
    expect(env.gateway.loadBalancerCidrs).toBeUndefined();
    expect(allowed(policies, p.smokeTest, p.internet, https)).toBe(true);
    expect(allowed(policies, p.smokeTest, p.internet, http)).toBe(true);
    expect(allowed(policies, p.smokeTest, p.internet, 8443)).toBe(false);
    for (const ip of privateOnes) expect({ ip, allowed: allowed(policies, p.smokeTest, { ip }, https) }).toEqual({ ip, allowed: false });
    // The API server on both of its ports (managed clusters serve it on 443).
    expect(allowed(policies, p.smokeTest, p.apiServer, https)).toBe(false);
    expect(allowed(policies, p.smokeTest, p.apiServer, 6443)).toBe(false);
    expect(allowed(policies, p.smokeTest, p.metadata, http)).toBe(false);
    // Pods of other namespaces (reached by address too, with CNIs that match ipBlocks against pods), and ours.
    for (const pod of [p.otherKubeSystem, p.elsewhere, p.grafana, p.prometheus, p.gateway, p.api, p.web, p.primary]) {
      for (const port of [http, https]) expect(sideAllows(policies, 'Egress', p.smokeTest, pod, port)).toBe(false);
    }
  });

  test('the ipBlock rule is the public internet\'s, every non-public range excepted', () => {
    const rules = byName('smoke-test').spec.egress.filter((r: K8sObject) => r.to.some((peer: K8sObject) => peer.ipBlock));
    expect(rules).toEqual([{
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES } }],
      ports: [{ protocol: 'TCP', port: http }, { protocol: 'TCP', port: https }],
    }]);
  });

  describe('with gateway.loadBalancerCidrs (an on-premises load balancer)', () => {
    const onPremises = variant(shop, { gateway: { loadBalancerCidrs: ['10.20.30.0/28', '2001:db8:30::/64'] } });
    const local = policiesOf(buildModel(onPremises));

    test('those ranges on 80 and 443, IPv4 and IPv6', () => {
      for (const ip of ['10.20.30.5', '10.20.30.15', '2001:db8:30::5']) {
        for (const port of [http, https]) expect({ ip, port, allowed: allowed(local, p.smokeTest, { ip }, port) }).toEqual({ ip, port, allowed: true });
        expect(allowed(local, p.smokeTest, { ip }, 8443)).toBe(false);
      }
    });

    test('nothing next to them, nothing public, and still none of the cluster\'s private addresses', () => {
      for (const ip of ['10.20.31.5', '10.20.30.16', '2001:db8:31::5', ...privateOnes]) {
        expect({ ip, allowed: allowed(local, p.smokeTest, { ip }, https) }).toEqual({ ip, allowed: false });
      }
      expect(allowed(local, p.smokeTest, p.internet, https)).toBe(false);
      expect(allowed(local, p.smokeTest, p.apiServer, https)).toBe(false);
      expect(allowed(local, p.smokeTest, p.otherKubeSystem, https)).toBe(false);
      expect(allowed(local, p.smokeTest, p.gateway, 10443)).toBe(true);
    });

    test('the rule names exactly the configured ranges', () => {
      const rules = byName('smoke-test', local).spec.egress.filter((r: K8sObject) => r.to.some((peer: K8sObject) => peer.ipBlock));
      expect(rules).toEqual([{
        to: [{ ipBlock: { cidr: '10.20.30.0/28' } }, { ipBlock: { cidr: '2001:db8:30::/64' } }],
        ports: [{ protocol: 'TCP', port: http }, { protocol: 'TCP', port: https }],
      }]);
    });
  });
});

test('a service no route or service points at accepts nothing but what else names it (here Prometheus)', () => {
  const unrouted = variant(shop, { hosts: [{ hostname: 'shop.test', routes: [{ path: '/', service: 'web' }] }], services: { web: { calls: [] } } });
  const local = policiesOf(buildModel(unrouted));
  expect(byName('api', local).spec.ingress).toHaveLength(1);
  expect(allowed(local, p.prometheus, p.api, apiPort)).toBe(true);
  expect(allowed(local, p.gateway, p.api, apiPort)).toBe(false);
  expect(allowed(local, p.web, p.api, apiPort)).toBe(false);
});

test('one policy per group of pods: default deny, DNS, the solver, each service, the database, the pooler, Redis, each backup job, the smoke test, the uptime prober', () => {
  const b = model.data.backups!;
  expect(policies.map((x) => x.metadata.name).sort()).toEqual([
    'allow-acme-http01-solver', 'allow-dns', 'api', b.database!.job, b.uploads!.job, b.verifyJob, 'default-deny',
    pg.cluster, pg.pooler, model.data.redis!.name, 'web', 'smoke-test', 'blackbox-exporter',
  ].sort());
  expect(new Set(policies.map((x) => x.metadata.namespace))).toEqual(new Set([env.app.namespace]));
});

test('each service\'s policy selects its pods by the stable labels, in both directions', () => {
  for (const name of Object.keys(env.services)) {
    expect(byName(name).spec.podSelector).toEqual({ matchLabels: selectorLabels(model.identity, name) });
    expect(byName(name).spec.policyTypes).toEqual(['Ingress', 'Egress']);
  }
});

test('each policy is labelled as a network policy of what it guards, so `kubectl get -l` finds it', () => {
  const b = model.data.backups!;
  const guards: Record<string, string> = {
    'default-deny': 'default-deny', 'allow-dns': 'allow-dns', 'allow-acme-http01-solver': 'acme-http01-solver', api: 'api', web: 'web',
    [pg.cluster]: 'postgresql', [pg.pooler]: 'pgbouncer', [model.data.redis!.name]: 'redis',
    [b.database!.job]: b.database!.job, [b.uploads!.job]: b.uploads!.job, [b.verifyJob]: b.verifyJob, 'smoke-test': 'smoke-test',
    'blackbox-exporter': 'blackbox-exporter',
  };
  expect(Object.keys(guards).sort()).toEqual(policies.map((x) => x.metadata.name).sort());
  for (const [policy, name] of Object.entries(guards)) {
    expect({ policy, labels: byName(policy).metadata.labels }).toEqual({ policy, labels: recommendedLabels(model.identity, name, 'network-policy') });
  }
});

test('the same ports from several flows make one rule, each peer once: the instances\' status port', () => {
  // The operator (another namespace) and the other instances both reach 8000: one rule, two peers.
  const statusRules = byName(pg.cluster).spec.ingress.filter((r: K8sObject) => r.ports.some((x: K8sObject) => x.port === INSTANCE_MANAGER_PORT));
  expect(statusRules).toHaveLength(1);
  expect(statusRules[0].from).toEqual([
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.data.postgres!.operatorNamespace } } },
    { podSelector: pg.instancePodSelector },
  ]);
  for (const policy of policies) {
    for (const side of ['ingress', 'egress'] as const) {
      const portSets = (policy.spec[side] ?? []).map((r: K8sObject) => JSON.stringify(r.ports));
      expect({ policy: policy.metadata.name, side, portSets }).toEqual({ policy: policy.metadata.name, side, portSets: [...new Set(portSets)] });
    }
  }
});

test('a flow naming pods no policy selects is refused: half of it would go unenforced', () => {
  const stray: Flow = { from: [{ kind: 'own', name: 'a debug pod', selector: { matchLabels: { app: 'debug' } } }], to: [], ports: [], why: 'debugging' };
  expect(() => synthConstruct((s) => new NetworkPolicies(s, 'np', {
    identity: model.identity, flows: [...model.network.flows, stray], subjects: model.network.subjects,
  }))).toThrow('the flow "debugging" names a debug pod, which no NetworkPolicy selects');
});

describe('PostgreSQL (CloudNativePG) and PgBouncer', () => {
  test('the api reaches PgBouncer on 5432, and nothing of PostgreSQL directly; web reaches neither', () => {
    expect(allowed(policies, p.api, p.pooler, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.api, p.primary, POSTGRES_PORT)).toBe(false);
    expect(allowed(policies, p.api, p.standby, POSTGRES_PORT)).toBe(false);
    expect(allowed(policies, p.web, p.pooler, POSTGRES_PORT)).toBe(false);
    expect(allowed(policies, p.web, p.primary, POSTGRES_PORT)).toBe(false);
  });

  test('the database side itself refuses undeclared senders, whatever their egress says', () => {
    for (const receiver of [p.primary, p.standby, p.pooler]) {
      for (const sender of [p.web, p.unlabelled, p.fakeApi, p.fakePooler, p.redis]) {
        expect(sideAllows(policies, 'Ingress', receiver, sender, POSTGRES_PORT)).toBe(false);
      }
    }
    expect(sideAllows(policies, 'Ingress', p.pooler, p.api, POSTGRES_PORT)).toBe(true);
    // The instances' side on its own: the api is no longer among their senders.
    expect(sideAllows(policies, 'Ingress', p.primary, p.api, POSTGRES_PORT)).toBe(false);
    expect(sideAllows(policies, 'Ingress', p.primary, p.pooler, POSTGRES_PORT)).toBe(true);
  });

  test('PgBouncer reaches the instances; the instances replicate among themselves', () => {
    expect(allowed(policies, p.pooler, p.primary, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.pooler, p.standby, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.standby, p.primary, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.primary, p.standby, POSTGRES_PORT)).toBe(true);
  });

  test('the instances accept the status port (8000) from each other, for the primary\'s isolation check', () => {
    expect(allowed(policies, p.primary, p.standby, INSTANCE_MANAGER_PORT)).toBe(true);
    expect(allowed(policies, p.standby, p.primary, INSTANCE_MANAGER_PORT)).toBe(true);
    expect(allowed(policies, p.pooler, p.primary, INSTANCE_MANAGER_PORT)).toBe(false);
    expect(allowed(policies, p.api, p.primary, INSTANCE_MANAGER_PORT)).toBe(false);
  });

  test('the instances\' selector: cnpg.io/cluster, and cnpg.io/podRole NotIn [pooler]', () => {
    expect(byName(pg.cluster).spec.podSelector).toEqual({
      matchLabels: { 'cnpg.io/cluster': pg.cluster },
      matchExpressions: [{ key: 'cnpg.io/podRole', operator: 'NotIn', values: ['pooler'] }],
    });
    expect(pg.instancePodSelector).toEqual(instancePodSelector(pg.cluster));
    expect(byName(pg.pooler).spec.podSelector).toEqual({ matchLabels: { 'cnpg.io/poolerName': pg.pooler } });
  });

  test('PgBouncer is not an instance: the instances\' policy does not select it although CloudNativePG labels it cnpg.io/cluster', () => {
    expect(p.pooler.labels['cnpg.io/cluster']).toBe(pg.cluster);
    expect(policiesSelecting(policies, p.pooler, 'Ingress').map((x) => x.metadata.name).sort()).toEqual(['default-deny', pg.pooler].sort());
    expect(sideAllows(policies, 'Ingress', p.pooler, p.dumpJob, POSTGRES_PORT)).toBe(false);
    expect(sideAllows(policies, 'Ingress', p.pooler, p.prometheus, POSTGRES_METRICS_PORT)).toBe(false);
    expect(sideAllows(policies, 'Egress', p.pooler, p.standby, INSTANCE_MANAGER_PORT)).toBe(false);
  });

  test('the operator\'s initdb and join Job pods (no podRole) are kept: they get the instances\' policy and flows', () => {
    for (const job of [p.initdbJob, p.joinJob]) {
      expect(job.labels['cnpg.io/podRole']).toBeUndefined();
      expect(policiesSelecting(policies, job, 'Egress').map((x) => x.metadata.name).sort()).toEqual(['allow-dns', 'default-deny', pg.cluster].sort());
    }
    // A join streams the primary's data directory; initdb archives its first WAL.
    expect(allowed(policies, p.joinJob, p.primary, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.initdbJob, p.objectStore, 443)).toBe(true);
    expect(allowed(policies, p.initdbJob, p.apiServer, 6443)).toBe(true);
  });

  test('only the dump job reaches the instances: it reads a standby; the other backup jobs do not, nor does it reach PgBouncer', () => {
    expect(allowed(policies, p.dumpJob, p.standby, POSTGRES_PORT)).toBe(true);
    expect(allowed(policies, p.dumpJob, p.primary, INSTANCE_MANAGER_PORT)).toBe(false);
    expect(allowed(policies, p.dumpJob, p.pooler, POSTGRES_PORT)).toBe(false);
    for (const job of [p.filesJob, p.verifyJob]) {
      expect(sideAllows(policies, 'Ingress', p.primary, job, POSTGRES_PORT)).toBe(false);
      expect(sideAllows(policies, 'Egress', job, p.primary, POSTGRES_PORT)).toBe(false);
    }
  });

  test('the operator reaches the instance manager; Prometheus the exporters; nothing else from outside', () => {
    expect(allowed(policies, p.operator, p.primary, INSTANCE_MANAGER_PORT)).toBe(true);
    expect(allowed(policies, p.operator, p.pooler, INSTANCE_MANAGER_PORT)).toBe(true);
    expect(allowed(policies, p.operator, p.primary, POSTGRES_PORT)).toBe(false);
    expect(allowed(policies, p.prometheus, p.primary, POSTGRES_METRICS_PORT)).toBe(true);
    expect(allowed(policies, p.prometheus, p.pooler, PGBOUNCER_METRICS_PORT)).toBe(true);
    expect(allowed(policies, p.grafana, p.primary, POSTGRES_METRICS_PORT)).toBe(false);
    expect(allowed(policies, p.prometheus, p.primary, POSTGRES_PORT)).toBe(false);
    expect(allowed(policies, p.fakePooler, p.pooler, POSTGRES_PORT)).toBe(false);
  });

  test('the instances archive WAL to the object storage and talk to the API server; not to the metadata endpoint', () => {
    expect(allowed(policies, p.primary, p.objectStore, 443)).toBe(true);
    expect(allowed(policies, p.standby, p.objectStore, 443)).toBe(true);
    expect(allowed(policies, p.primary, p.apiServer, 6443)).toBe(true);
    expect(allowed(policies, p.primary, p.apiServer, 443)).toBe(true);
    expect(allowed(policies, p.primary, p.metadata, 80)).toBe(false);
    expect(allowed(policies, p.primary, p.objectStore, 80)).toBe(false);
    expect(allowed(policies, p.primary, p.internet, 80)).toBe(false);
  });

  test('WAL archiving follows the configured object storage: its address ranges, its URL\'s port', () => {
    const onPremises = variant(shop, { objectStorage: { endpointURL: 'https://minio.storage.internal:9000', cidrs: ['10.20.0.0/16'] } });
    const local = policiesOf(buildModel(onPremises));
    for (const instance of [p.primary, p.standby]) {
      expect(allowed(local, instance, { ip: '10.20.3.4' }, 9000)).toBe(true);
      expect(allowed(local, instance, { ip: '203.0.113.10' }, 9000)).toBe(false);
      expect(allowed(local, instance, { ip: '10.21.0.1' }, 9000)).toBe(false);
    }
    // 443 is open to any address anyway (the API server); the archive's own rule has only the URL's port.
    const archive = byName(pg.cluster, local).spec.egress.filter((r: K8sObject) => JSON.stringify(r.to).includes('10.20.0.0/16'));
    expect(archive).toEqual([{ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ protocol: 'TCP', port: 9000 }] }]);
  });

  test('PgBouncer goes nowhere but the instances and the API server', () => {
    expect(allowed(policies, p.pooler, p.apiServer, 443)).toBe(true);
    expect(allowed(policies, p.pooler, p.web, webPort)).toBe(false);
    expect(allowed(policies, p.pooler, p.redis, REDIS_PORT)).toBe(false);
    expect(allowed(policies, p.pooler, p.objectStore, 80)).toBe(false);
    expect(allowed(policies, p.pooler, p.internet, 5432)).toBe(false);
  });

  test('with no service using PostgreSQL, PgBouncer admits nobody on 5432 (an empty peer list would admit everyone)', () => {
    // Settings that refer to the variables `uses: postgres` injects go with it.
    const unused = variant(shop, { services: { api: { uses: ['redis', 'uploads'] } } }, (c) => { delete c.services.api.env.DB_URL; });
    const local = policiesOf(buildModel(unused));
    for (const sender of [p.api, p.web, p.unlabelled]) {
      expect(sideAllows(local, 'Ingress', p.pooler, sender, POSTGRES_PORT)).toBe(false);
    }
    const ingress: { from?: unknown[] }[] = byName(pg.pooler, local).spec.ingress;
    expect(ingress.length).toBeGreaterThan(0);
    expect(ingress.every((rule) => (rule.from ?? []).length > 0)).toBe(true);
  });
});

describe('Redis', () => {
  test('the members replicate and the sentinels watch each other; Prometheus scrapes the exporter; nobody else gets in', () => {
    expect(allowed(policies, p.redis, p.redis, REDIS_PORT)).toBe(true);
    expect(allowed(policies, p.redis, p.redis, SENTINEL_PORT)).toBe(true);
    expect(allowed(policies, p.prometheus, p.redis, REDIS_EXPORTER_PORT)).toBe(true);
    expect(allowed(policies, p.prometheus, p.redis, REDIS_PORT)).toBe(false);
    for (const sender of [p.web, p.pooler, p.dumpJob, p.unlabelled, p.fakeApi]) {
      expect(sideAllows(policies, 'Ingress', p.redis, sender, REDIS_PORT)).toBe(false);
    }
    expect(allowed(policies, p.api, p.redis, SENTINEL_PORT)).toBe(true);
  });
});

describe('a service\'s migration (a Sync hook Job)', () => {
  const migrating = variant(shop, { services: { api: { migration: { command: ['migrate'] } } } });
  const local = policiesOf(buildModel(migrating));
  const name = migrationJobName('api');
  const c = networkCast(migrating, neighbour);
  const job = c.pod(name);
  const impostor = c.pod(`impostor of ${name}`);

  test('it reaches the PostgreSQL instances on 5432 (the primary, through its -rw Service) and resolves names', () => {
    for (const instance of [p.primary, p.standby]) expect(allowed(local, job, instance, POSTGRES_PORT)).toBe(true);
    expect(allowed(local, job, p.dns, DNS_PORT, 'UDP')).toBe(true);
    expect(allowed(local, job, p.dns, DNS_PORT, 'TCP')).toBe(true);
  });

  test('and nothing else: not PgBouncer, not Redis, not the services, not the instances\' other ports, not outside', () => {
    expect(allowed(local, job, p.pooler, POSTGRES_PORT)).toBe(false);
    expect(allowed(local, job, p.redis, REDIS_PORT)).toBe(false);
    expect(allowed(local, job, p.redis, SENTINEL_PORT)).toBe(false);
    expect(allowed(local, job, p.api, apiPort)).toBe(false);
    expect(allowed(local, job, p.web, webPort)).toBe(false);
    for (const port of [INSTANCE_MANAGER_PORT, POSTGRES_METRICS_PORT]) expect(allowed(local, job, p.primary, port)).toBe(false);
    for (const port of [80, 443, POSTGRES_PORT]) {
      expect(sideAllows(local, 'Egress', job, p.internet, port)).toBe(false);
      expect(sideAllows(local, 'Egress', job, p.objectStore, port)).toBe(false);
      expect(sideAllows(local, 'Egress', job, p.metadata, port)).toBe(false);
    }
    expect(sideAllows(local, 'Egress', job, p.apiServer, 443)).toBe(false);
    expect(sideAllows(local, 'Egress', job, p.apiServer, 6443)).toBe(false);
    expect(allowed(local, job, p.otherKubeSystem, DNS_PORT, 'UDP')).toBe(false);
  });

  test('nothing reaches it', () => {
    for (const sender of [p.api, p.web, p.gateway, p.prometheus, p.primary, p.pooler, p.unlabelled]) {
      for (const port of [80, 8080, apiPort, POSTGRES_PORT]) expect(sideAllows(local, 'Ingress', job, sender, port)).toBe(false);
    }
  });

  test('what only the migration may do, nobody else may: the instances refuse the api, the other jobs and a copy of its labels elsewhere', () => {
    for (const sender of [p.api, p.web, p.filesJob, p.verifyJob, p.redis, p.unlabelled, impostor]) {
      expect(sideAllows(local, 'Ingress', p.primary, sender, POSTGRES_PORT)).toBe(false);
    }
    // The api's own egress still goes to PgBouncer only, migration or not.
    expect(sideAllows(local, 'Egress', p.api, p.primary, POSTGRES_PORT)).toBe(false);
    expect(sideAllows(local, 'Ingress', p.primary, job, POSTGRES_PORT)).toBe(true);
    expect(sideAllows(local, 'Ingress', p.primary, job, INSTANCE_MANAGER_PORT)).toBe(false);
  });

  test('without a migration, no policy names it: a pod wearing its labels gets nowhere', () => {
    expect(policies.map((x) => x.metadata.name)).not.toContain(name);
    expect(sideAllows(policies, 'Ingress', p.primary, job, POSTGRES_PORT)).toBe(false);
    expect(sideAllows(policies, 'Egress', job, p.primary, POSTGRES_PORT)).toBe(false);
  });

  test('its policy selects the Job\'s pods by the stable labels, in both directions, and is labelled as what it guards', () => {
    const policy = byName(name, local);
    expect(policy.spec.podSelector).toEqual({ matchLabels: selectorLabels(model.identity, name) });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    expect(policy.metadata.labels).toEqual(recommendedLabels(model.identity, name, 'network-policy'));
    expect(policiesSelecting(local, job, 'Egress').map((x) => x.metadata.name).sort()).toEqual(['allow-dns', 'default-deny', name].sort());
  });
});
