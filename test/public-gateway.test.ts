/**
 * PublicGateway: HTTPS per host with that host's certificate, one plain-HTTP listener for the
 * redirect, and only this namespace's HTTPRoutes attached.
 */
import { Chart, Testing } from 'cdk8s';
import { PublicRoutes } from '../charts/app/public-routes';
import { tlsSecretName } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { HostCertificate } from '../charts/platform/host-certificate';
import { HTTP_LISTENER, PublicGateway } from '../charts/platform/public-gateway';
import { gatewayProxyPodLabels } from '../environments/model/gateway';
import { environments } from '../environments/index';
import { mergeConfig } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);
const twoHosts = resolveEnvironment({
  ...production,
  config: mergeConfig(structuredClone(production.config), {
    hosts: [
      { hostname: 'portal.university.example', routes: [{ path: '/', service: 'web' }] },
      { hostname: 'api.university.example', routes: [{ path: '/', service: 'api' }] },
    ],
  }),
}, root);

/** Nothing is written, so the App's outdir is never created. */
function gateway(env: Environment): K8sObject {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new PublicGateway(chart, 'gateway', { env });
  const [gw] = Testing.synth(chart);
  return gw;
}

test('named after the application, in its namespace, of the configured class', () => {
  const gw = gateway(productionEnv);
  expect(gw.metadata).toMatchObject({ name: 'student-portal', namespace: 'student-portal' });
  expect(gw.spec.gatewayClassName).toBe('envoy-gateway');
  expect(gateway(stagingEnv).metadata.namespace).toBe('student-portal-staging');
});

test('one plain-HTTP listener on 80, for every host, without TLS', () => {
  const http = gateway(twoHosts).spec.listeners.filter((l: K8sObject) => l.protocol === 'HTTP');
  expect(http).toHaveLength(1);
  expect(http[0]).toMatchObject({ name: HTTP_LISTENER, port: 80 });
  expect(http[0]).not.toHaveProperty('hostname');
  expect(http[0]).not.toHaveProperty('tls');
});

test('two hosts: two HTTPS listeners on 443, each terminating with its own host\'s certificate', () => {
  const https = gateway(twoHosts).spec.listeners.filter((l: K8sObject) => l.protocol === 'HTTPS');
  expect(https.map((l: K8sObject) => [l.hostname, l.port, l.tls])).toEqual(['portal.university.example', 'api.university.example'].map((h) =>
    [h, 443, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecretName(h) }] }]));
  expect(new Set(https.map((l: K8sObject) => l.name)).size).toBe(2);
});

test('each HTTPS listener reads the Secret its host\'s Certificate writes', () => {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  for (const h of twoHosts.hosts) new HostCertificate(chart, h.hostname, { env: twoHosts, hostname: h.hostname });
  const written = Testing.synth(chart).map((c: K8sObject) => c.spec.secretName).sort();
  const read = gateway(twoHosts).spec.listeners.flatMap((l: K8sObject) => l.tls?.certificateRefs.map((r: K8sObject) => r.name) ?? []).sort();
  expect(read).toEqual(written);
});

test('every listener takes only HTTPRoutes, only from the application\'s namespace', () => {
  for (const l of gateway(twoHosts).spec.listeners) {
    expect(l.allowedRoutes).toEqual({ namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] });
  }
});

test('every sectionName the routes use is a listener of the Gateway', () => {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new PublicRoutes(chart, 'routes', { env: twoHosts });
  const listeners = new Set(gateway(twoHosts).spec.listeners.map((l: K8sObject) => l.name));
  for (const route of Testing.synth(chart)) {
    for (const ref of route.spec.parentRefs) {
      expect(ref.name).toBe('student-portal');
      expect(listeners).toContain(ref.sectionName);
    }
  }
});

test('the proxy pod labels name this environment\'s Gateway, not any other', () => {
  expect(gatewayProxyPodLabels(productionEnv)).toEqual({
    'app.kubernetes.io/name': 'envoy',
    'app.kubernetes.io/component': 'proxy',
    'gateway.envoyproxy.io/owning-gateway-name': 'student-portal',
    'gateway.envoyproxy.io/owning-gateway-namespace': 'student-portal',
  });
  expect(gatewayProxyPodLabels(stagingEnv)['gateway.envoyproxy.io/owning-gateway-namespace']).toBe('student-portal-staging');
});
