/**
 * PublicGateway: HTTPS per host with that host's certificate, one plain-HTTP listener for the
 * redirect, and only this namespace's HTTPRoutes attached.
 */
import { Testing } from 'cdk8s';
import { PublicRoutes } from '../charts/app/public-routes';
import { HostCertificate } from '../charts/platform/host-certificate';
import { PlatformChart } from '../charts/platform/platform-chart';
import { HTTP_LISTENER, PublicGateway } from '../charts/platform/public-gateway';
import { hostRoutes, gatewayProxyPodLabels } from '../environments/model/gateway';
import { appIdentity } from '../environments/model/identity';
import { gatewayName, tlsSecretName } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { boxDesigner, shop, variant, variantModel } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const twoHosts = variant(shop, {
  hosts: [
    { hostname: 'shop.test', routes: [{ path: '/', service: 'web' }] },
    { hostname: 'api.shop.test', routes: [{ path: '/', service: 'api' }] },
  ],
});

/** The Gateway as the platform chart asks for it. */
function gateway(env: Environment): K8sObject {
  return only(synthConstruct((scope) => new PublicGateway(scope, 'gateway', {
    identity: appIdentity(env), name: gatewayName(env), className: env.gateway.className, hostnames: env.hosts.map((h) => h.hostname),
  })), 'Gateway');
}

test('the construct: given name and class, in the application\'s namespace', () => {
  const env = variant(shop);
  const gw = only(synthConstruct((scope) => new PublicGateway(scope, 'gateway', {
    identity: appIdentity(env), name: 'edge', className: 'some-class', hostnames: ['shop.test'],
  })), 'Gateway');
  expect(gw.metadata).toMatchObject({ name: 'edge', namespace: 'shop-test' });
  expect(gw.spec.gatewayClassName).toBe('some-class');
});

test('the platform chart names it after the application, in its namespace, of the configured class', () => {
  const chart = new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { model: variantModel(shop, { gateway: { className: 'edge-class' } }) });
  const gw = only(Testing.synth(chart), 'Gateway');
  expect(gw.metadata).toMatchObject({ name: 'shop', namespace: 'shop-test' });
  expect(gw.spec.gatewayClassName).toBe('edge-class');
  const other = only(Testing.synth(new PlatformChart(Testing.app({ outdir: 'unused' }), 'platform', { model: variantModel(boxDesigner) })), 'Gateway');
  expect(other.metadata).toMatchObject({ name: 'box-designer', namespace: 'box-designer' });
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
  expect(https.map((l: K8sObject) => [l.hostname, l.port, l.tls])).toEqual(['shop.test', 'api.shop.test'].map((h) =>
    [h, 443, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecretName(h) }] }]));
  expect(new Set(https.map((l: K8sObject) => l.name)).size).toBe(2);
});

test('each HTTPS listener reads the Secret its host\'s Certificate writes', () => {
  const certificates = synthConstruct((scope) => {
    for (const h of twoHosts.hosts) {
      const { issuer, renewBefore } = twoHosts.tls;
      new HostCertificate(scope, h.hostname, { identity: appIdentity(twoHosts), hostname: h.hostname, issuer, renewBefore });
    }
  });
  const written = certificates.map((c) => c.spec.secretName).sort();
  const read = gateway(twoHosts).spec.listeners.flatMap((l: K8sObject) => l.tls?.certificateRefs.map((r: K8sObject) => r.name) ?? []).sort();
  expect(written).toHaveLength(2);
  expect(read).toEqual(written);
});

test('every listener takes only HTTPRoutes, only from the application\'s namespace', () => {
  for (const l of gateway(twoHosts).spec.listeners) {
    expect(l.allowedRoutes).toEqual({ namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] });
  }
});

test('every sectionName the routes use is a listener of the Gateway', () => {
  const routes = synthConstruct((scope) => new PublicRoutes(scope, 'routes', {
    identity: appIdentity(twoHosts), gatewayName: gatewayName(twoHosts), hosts: hostRoutes(twoHosts), hsts: twoHosts.hsts,
  }));
  const gw = gateway(twoHosts);
  const listeners = new Set(gw.spec.listeners.map((l: K8sObject) => l.name));
  expect(routes).toHaveLength(3);
  for (const route of routes) {
    for (const ref of route.spec.parentRefs) {
      expect(ref.name).toBe(gw.metadata.name);
      expect(listeners).toContain(ref.sectionName);
    }
  }
});

test('the proxy pod labels name this environment\'s Gateway, not any other', () => {
  expect(gatewayProxyPodLabels(variant(shop))).toEqual({
    'app.kubernetes.io/name': 'envoy',
    'app.kubernetes.io/component': 'proxy',
    'gateway.envoyproxy.io/owning-gateway-name': 'shop',
    'gateway.envoyproxy.io/owning-gateway-namespace': 'shop-test',
  });
  // The same application in another namespace: another Gateway, whose proxies are not these.
  const elsewhere = gatewayProxyPodLabels(variant(shop, { app: { namespace: 'shop-other' } }));
  expect(elsewhere['gateway.envoyproxy.io/owning-gateway-namespace']).toBe('shop-other');
  expect(gatewayProxyPodLabels(variant(boxDesigner))['gateway.envoyproxy.io/owning-gateway-name']).toBe('box-designer');
});
