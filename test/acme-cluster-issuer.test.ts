/** AcmeClusterIssuer: Let's Encrypt staging and production, HTTP-01 through the environment's Gateway. */
import { Chart, Testing } from 'cdk8s';
import type { K8sObject } from '../pipeline/k8s-object';
import { ACME_DIRECTORIES, AcmeClusterIssuer, type AcmeIssuerName } from '../charts/platform/acme-cluster-issuer';
import { PlatformChart } from '../charts/platform/platform-chart';
import { PublicGateway } from '../charts/platform/public-gateway';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import type { Environment } from '../environments/schema';

const [stagingEnv, productionEnv] = resolveEnvironments(environments, process.cwd());

/** Nothing is written, so the App's outdir is never created. */
function issuer(env: Environment, name: AcmeIssuerName): K8sObject {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new AcmeClusterIssuer(chart, name, { env, issuer: name });
  return Testing.synth(chart)[0];
}

test('each issuer talks to its own Let\'s Encrypt directory and keeps its own account key', () => {
  const stagingIssuer = issuer(productionEnv, 'letsencrypt-staging');
  const productionIssuer = issuer(productionEnv, 'letsencrypt-production');
  expect(stagingIssuer.spec.acme.server).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
  expect(productionIssuer.spec.acme.server).toBe('https://acme-v02.api.letsencrypt.org/directory');
  expect(stagingIssuer.spec.acme.privateKeySecretRef.name).not.toBe(productionIssuer.spec.acme.privateKeySecretRef.name);
  expect(productionIssuer.spec.acme.email).toBe(productionEnv.tls.acmeEmail);
  expect(productionIssuer.metadata).not.toHaveProperty('namespace');
});

test('HTTP-01 answers through the plain-HTTP listener of the Gateway in the certificate\'s own namespace', () => {
  const [solver] = issuer(productionEnv, 'letsencrypt-production').spec.acme.solvers;
  expect(solver.http01.gatewayHTTPRoute.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'student-portal', sectionName: 'http' }]);
  // With a namespace here, challenges from any other namespace would attach to a listener that
  // admits only routes from its own namespace, and never be answered.
  expect(solver.http01.gatewayHTTPRoute.parentRefs[0]).not.toHaveProperty('namespace');
  expect(solver.http01.gatewayHTTPRoute.serviceType).toBe('ClusterIP');
});

test('the solver\'s parentRef names a real HTTP listener of the environment\'s Gateway', () => {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new PublicGateway(chart, 'gateway', { env: stagingEnv });
  const [gw] = Testing.synth(chart);
  const [ref] = issuer(stagingEnv, 'letsencrypt-staging').spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs;
  expect(ref.name).toBe(gw.metadata.name);
  expect(gw.spec.listeners.find((l: K8sObject) => l.name === ref.sectionName)).toMatchObject({ protocol: 'HTTP', port: 80 });
});

test('both issuers exist in every environment, and the configured one is among them', () => {
  for (const env of [stagingEnv, productionEnv]) {
    const names = Testing.synth(new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { env }))
      .filter((o: K8sObject) => o.kind === 'ClusterIssuer').map((o: K8sObject) => o.metadata.name);
    expect(names).toEqual(Object.keys(ACME_DIRECTORIES));
    expect(names).toContain(env.tls.issuer);
  }
});

test('cluster-scoped, so one cluster can hold both environments: the spec is the same in each', () => {
  for (const name of Object.keys(ACME_DIRECTORIES) as AcmeIssuerName[]) {
    expect(issuer(stagingEnv, name).spec).toEqual(issuer(productionEnv, name).spec);
  }
});
