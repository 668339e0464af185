/** AcmeClusterIssuer: Let's Encrypt staging and production, HTTP-01 through the environment's Gateway. */
import { Testing } from 'cdk8s';
import { ACME_DIRECTORIES, AcmeClusterIssuer, type AcmeIssuerName } from '../charts/platform/acme-cluster-issuer';
import { PlatformChart } from '../charts/platform/platform-chart';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { appIdentity } from '../environments/model/identity';
import type { Model } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, shop, variant, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const shopEnv = variant(shop);

function issuer(name: AcmeIssuerName, email = 'acme@shop.test', gatewayName = 'shop-edge'): K8sObject {
  return only(synthConstruct((scope) => new AcmeClusterIssuer(scope, name, { identity: appIdentity(shopEnv), issuer: name, email, gatewayName })), 'ClusterIssuer');
}

const platformObjects = (model: Model) => Testing.synth(new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { model })) as K8sObject[];

test('each issuer talks to its own Let\'s Encrypt directory and keeps its own account key', () => {
  const stagingIssuer = issuer('letsencrypt-staging');
  const productionIssuer = issuer('letsencrypt-production');
  expect(stagingIssuer.spec.acme.server).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
  expect(productionIssuer.spec.acme.server).toBe('https://acme-v02.api.letsencrypt.org/directory');
  expect(stagingIssuer.spec.acme.privateKeySecretRef.name).not.toBe(productionIssuer.spec.acme.privateKeySecretRef.name);
  expect(productionIssuer.spec.acme.email).toBe('acme@shop.test');
  expect(productionIssuer.metadata).not.toHaveProperty('namespace');
});

test('the platform chart gives them the configured contact address', () => {
  const issuers = platformObjects(variantModel(shop, { tls: { acmeEmail: 'certs@shop.test' } })).filter((o) => o.kind === 'ClusterIssuer');
  expect(issuers.map((o) => o.spec.acme.email)).toEqual(['certs@shop.test', 'certs@shop.test']);
});

test('HTTP-01 answers through the plain-HTTP listener of the Gateway in the certificate\'s own namespace', () => {
  const [solver] = issuer('letsencrypt-production').spec.acme.solvers;
  expect(solver.http01.gatewayHTTPRoute.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop-edge', sectionName: 'http' }]);
  // With a namespace here, challenges from any other namespace would attach to a listener that
  // admits only routes from its own namespace, and never be answered.
  expect(solver.http01.gatewayHTTPRoute.parentRefs[0]).not.toHaveProperty('namespace');
  expect(solver.http01.gatewayHTTPRoute.serviceType).toBe('ClusterIP');
});

test('the solver\'s parentRef names a real HTTP listener of the environment\'s Gateway', () => {
  const objects = platformObjects(variantModel(shop));
  const gw = only(objects, 'Gateway');
  const issuers = objects.filter((o) => o.kind === 'ClusterIssuer');
  expect(issuers).toHaveLength(2);
  for (const i of issuers) {
    const [ref] = i.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs;
    expect(ref.name).toBe(gw.metadata.name);
    expect(gw.spec.listeners.find((l: K8sObject) => l.name === ref.sectionName)).toMatchObject({ protocol: 'HTTP', port: 80 });
  }
});

test('both issuers exist in every environment, and the configured one is among them', () => {
  for (const model of [variantModel(shop), variantModel(shop, AS_PRODUCTION)]) {
    const names = platformObjects(model).filter((o) => o.kind === 'ClusterIssuer').map((o) => o.metadata.name);
    expect(names).toEqual(Object.keys(ACME_DIRECTORIES));
    expect(names).toContain(model.env.tls.issuer);
  }
});

describe('cluster-scoped, so one cluster can hold both environments of an application: the spec is the same in each', () => {
  const specs = (objects: K8sObject[]) => new Map(objects.filter((o) => o.kind === 'ClusterIssuer').map((o) => [o.metadata.name, o.spec]));

  test('two environments of the shop, in their own namespaces, one of them production', () => {
    const other = specs(platformObjects(variantModel(shop)));
    const production = specs(platformObjects(variantModel(shop, { ...AS_PRODUCTION, app: { namespace: 'shop-production' } })));
    expect(other.size).toBe(2);
    expect(production).toEqual(other);
  });

  test('the real staging and production', () => {
    const [staging, production] = resolveEnvironments(environments, process.cwd()).map((env) => specs(synthObjects(env).map((o) => o.object)));
    expect(staging.size).toBe(2);
    expect(production).toEqual(staging);
  });
});
