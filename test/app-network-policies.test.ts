/**
 * AppNetworkPolicies, judged by what they allow: a small evaluator applies NetworkPolicy semantics
 * (a pod selected by any policy of a type is isolated for that type; a flow passes if one of those
 * policies has a rule matching the peer and port) to concrete pods, so each test states a flow.
 */
import { Chart, Testing } from 'cdk8s';
import { recommendedLabels } from '../charts/common/labels';
import { selectorLabels } from '../environments/model/identity';
import { dataEndpoints } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { ACME_SOLVER_POD_LABELS, NON_PUBLIC_RANGES } from '../environments/model/network';
import { gatewayProxyPodLabels } from '../environments/model/gateway';
import { AppNetworkPolicies } from '../charts/security/app-network-policies';
import { environments } from '../environments/index';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';
import { networkCast, PRIMARY } from './support/network-endpoints';
import { allowed, sideAllows, type Endpoint, type Pod } from './support/network-policy-evaluator';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);

function variant(base: EnvironmentDefinition, overrides: object): Environment {
  return resolveEnvironment({ ...base, config: mergeConfig(structuredClone(base.config), overrides) }, root);
}

/** Nothing is written, so the App's outdir is never created. */
function policiesOf(env: Environment): K8sObject[] {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new AppNetworkPolicies(chart, 'network-policies', { env });
  return Testing.synth(chart);
}

/**
 * The pods of the environment as they run (labels from the synthesized workloads and what the
 * operators add: test/support/network-endpoints.ts), under the short names these tests use.
 */
function cast(env: Environment) {
  const c = networkCast(env, env === stagingEnv ? productionEnv : stagingEnv);
  const data = dataEndpoints(env);
  return {
    web: c.pod('web'),
    api: c.pod('api'),
    gateway: c.pod('gateway-proxy'),
    gatewayController: c.pod('envoy-gateway-controller'),
    prometheus: c.pod('prometheus'),
    grafana: c.pod('grafana'),
    pooler: c.pod(data.postgres.pooler),
    postgres: c.pod(PRIMARY),
    redis: c.pod(data.redis.name),
    dns: c.pod('kube-dns'),
    otherKubeSystem: c.pod('metrics-server'),
    solver: c.pod('acme-solver'),
    stranger: c.pod('impostor of web'),
    internet: c.endpoint('internet'),
    metadata: c.endpoint('metadata-endpoint'),
  } satisfies Record<string, Endpoint>;
}

describe('default deny', () => {
  const policies = policiesOf(productionEnv);

  test('one policy selects every pod for both directions and allows nothing', () => {
    const deny = policies.find((p) => p.metadata.name === 'default-deny')!;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  test('a pod nobody declared a flow for can neither send nor receive, DNS aside', () => {
    const p = cast(productionEnv);
    const unknown: Pod = { namespace: productionEnv.app.namespace, labels: { 'app.kubernetes.io/name': 'debug' } };
    expect(allowed(policies, unknown, p.api, 8080)).toBe(false);
    expect(allowed(policies, p.web, unknown, 8080)).toBe(false);
    expect(allowed(policies, unknown, p.internet, 443)).toBe(false);
    expect(allowed(policies, unknown, p.dns, 53, 'UDP')).toBe(true);
  });
});

describe('the flows the application needs', () => {
  const policies = policiesOf(productionEnv);
  const p = cast(productionEnv);

  test('gateway proxies reach web and api on their container ports (not the Service port)', () => {
    expect(allowed(policies, p.gateway, p.web, 3000)).toBe(true);
    expect(allowed(policies, p.gateway, p.api, 8080)).toBe(true);
    expect(allowed(policies, p.gateway, p.web, 80)).toBe(false);
    expect(allowed(policies, p.gateway, p.web, 8080)).toBe(false);
  });

  test('only this environment\'s gateway proxies: not the controller, not another environment\'s gateway', () => {
    expect(allowed(policies, p.gatewayController, p.web, 3000)).toBe(false);
    expect(allowed(policies, cast(stagingEnv).gateway, p.web, 3000)).toBe(false);
    expect(allowed(policies, p.stranger, p.web, 3000)).toBe(false);
  });

  test('web and api themselves refuse every pod no flow names, whatever that pod\'s egress says', () => {
    const unlabelled: Pod = { namespace: productionEnv.app.namespace, labels: {} };
    for (const sender of [unlabelled, p.solver, p.pooler, p.postgres, p.redis, p.stranger, p.gatewayController, p.grafana, p.internet]) {
      expect(sideAllows(policies, 'Ingress', p.web, sender, 3000)).toBe(false);
      expect(sideAllows(policies, 'Ingress', p.api, sender, 8080)).toBe(false);
    }
    expect(sideAllows(policies, 'Ingress', p.api, p.web, 8080)).toBe(true);
    expect(sideAllows(policies, 'Ingress', p.web, p.gateway, 3000)).toBe(true);
  });

  test('web calls api; api does not call web', () => {
    expect(allowed(policies, p.web, p.api, 8080)).toBe(true);
    expect(allowed(policies, p.api, p.web, 3000)).toBe(false);
  });

  test('api sends to PgBouncer, PostgreSQL and Redis (with Sentinel); web to none of them', () => {
    // Only the sender's side: the data tier's own policies decide what its pods accept.
    const egress = (from: Endpoint, to: Endpoint, port: number) => sideAllows(policies, 'Egress', from, to, port);
    expect(egress(p.api, p.pooler, 5432)).toBe(true);
    expect(egress(p.api, p.postgres, 5432)).toBe(true);
    expect(egress(p.api, p.redis, 6379)).toBe(true);
    expect(egress(p.api, p.redis, 26379)).toBe(true);
    expect(egress(p.api, p.postgres, 6379)).toBe(false);
    expect(egress(p.web, p.pooler, 5432)).toBe(false);
    expect(egress(p.web, p.redis, 6379)).toBe(false);
  });

  test('every pod resolves names through cluster DNS, over UDP and TCP, and nothing else in kube-system', () => {
    for (const pod of [p.web, p.api, p.solver]) {
      expect(sideAllows(policies, 'Egress', pod, p.dns, 53, 'UDP')).toBe(true);
      expect(sideAllows(policies, 'Egress', pod, p.dns, 53, 'TCP')).toBe(true);
      expect(sideAllows(policies, 'Egress', pod, p.otherKubeSystem, 53, 'UDP')).toBe(false);
      expect(sideAllows(policies, 'Egress', pod, p.otherKubeSystem, 443)).toBe(false);
    }
  });

  test('Prometheus scrapes the service that has metrics; nothing else in its namespace gets in', () => {
    expect(allowed(policies, p.prometheus, p.api, 8080)).toBe(true);
    expect(allowed(policies, p.grafana, p.api, 8080)).toBe(false);
    expect(allowed(policies, p.prometheus, p.web, 3000)).toBe(false);
  });

  test('the gateway reaches cert-manager\'s HTTP-01 solver, so certificates can be issued and renewed', () => {
    expect(allowed(policies, p.gateway, p.solver, 8089)).toBe(true);
    expect(allowed(policies, p.web, p.solver, 8089)).toBe(false);
    expect(allowed(policies, p.gatewayController, p.solver, 8089)).toBe(false);
  });

  test('no service reaches the internet unless it declares so', () => {
    expect(allowed(policies, p.web, p.internet, 443)).toBe(false);
    expect(allowed(policies, p.api, p.internet, 443)).toBe(false);
    expect(JSON.stringify(policies)).not.toContain('ipBlock');
  });
});

describe('internet egress where a service declares it', () => {
  const env = variant(production, { services: { api: { internetEgressPorts: [587, 443] } } });
  const policies = policiesOf(env);
  const p = cast(env);

  test('an ipBlock rule for the declared ports, with every non-public range excepted', () => {
    const api = policies.find((x) => x.metadata.name === 'api')!;
    const rule = api.spec.egress.find((r: K8sObject) => r.to.some((peer: K8sObject) => peer.ipBlock));
    expect(rule.to).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES } }]);
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 587 }]);
    expect(NON_PUBLIC_RANGES).toEqual(expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']));
  });

  test('public addresses on declared ports only; never the metadata endpoint or private addresses', () => {
    expect(allowed(policies, p.api, p.internet, 443)).toBe(true);
    expect(allowed(policies, p.api, p.internet, 587)).toBe(true);
    expect(allowed(policies, p.api, p.internet, 80)).toBe(false);
    expect(allowed(policies, p.api, p.metadata, 80)).toBe(false);
    for (const ip of ['10.96.0.1', '172.20.0.5', '192.168.1.1', '100.64.3.3']) {
      expect(allowed(policies, p.api, { ip }, 443)).toBe(false);
    }
    expect(allowed(policies, p.web, p.internet, 443)).toBe(false);
  });
});

test('a service no route or service points at accepts nothing', () => {
  const env = variant(production, {
    hosts: [{ hostname: 'portal.university.example', routes: [{ path: '/', service: 'web' }] }],
    services: { web: { calls: [] } },
  });
  const api = policiesOf(env).find((x) => x.metadata.name === 'api')!;
  // Prometheus alone, because api has metrics.
  expect(api.spec.ingress).toHaveLength(1);
  const p = cast(env);
  expect(allowed(policiesOf(env), p.gateway, p.api, 8080)).toBe(false);
  expect(allowed(policiesOf(env), p.web, p.api, 8080)).toBe(false);
});

test('one policy per service, selecting its pods by the stable labels', () => {
  const policies = policiesOf(productionEnv);
  for (const name of Object.keys(productionEnv.services)) {
    const policy = policies.find((x) => x.metadata.name === name)!;
    expect(policy.spec.podSelector).toEqual({ matchLabels: selectorLabels(productionEnv, name) });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  }
  expect(policies.map((x) => x.metadata.name).sort()).toEqual(['allow-acme-http01-solver', 'allow-dns', 'api', 'default-deny', 'web']);
});

test('each policy is labelled as a network policy of what it guards, so `kubectl get -l` finds it', () => {
  const labels = Object.fromEntries(policiesOf(productionEnv).map((x) => [x.metadata.name, x.metadata.labels]));
  const guards = { 'default-deny': 'default-deny', 'allow-dns': 'allow-dns', 'allow-acme-http01-solver': 'acme-http01-solver', api: 'api', web: 'web' };
  for (const [policy, name] of Object.entries(guards)) {
    expect({ policy, labels: labels[policy] }).toEqual({
      policy,
      labels: { ...recommendedLabels(productionEnv, name, 'network-policy') },
    });
  }
});
