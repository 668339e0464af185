/**
 * PublicRoutes: every host and path reaches its service over HTTPS with the security headers, and
 * plain HTTP only ever redirects.
 */
import { hstsValue, PublicRoutes, securityHeaders } from '../charts/app/public-routes';
import { SERVICE_PORT } from '../charts/app/web-service';
import { HTTP_LISTENER } from '../charts/platform/public-gateway';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes } from '../environments/model/gateway';
import { appIdentity } from '../environments/model/identity';
import { gatewayName, httpsListenerName } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { shop, variant } from './support/fixtures';
import { synthConstruct } from './support/synth-construct';

const [stagingEnv, productionEnv] = resolveEnvironments(environments, process.cwd());

/** The routes of an environment, as its app chart makes them. */
function synth(env: Environment): K8sObject[] {
  return synthConstruct((scope) => new PublicRoutes(scope, 'routes', {
    identity: appIdentity(env), gatewayName: gatewayName(env), hosts: hostRoutes(env), hsts: env.hsts,
  }));
}

const shopEnv = variant(shop);
const twoHosts = variant(shop, {
  hosts: [
    { hostname: 'shop.test', routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }] },
    { hostname: 'api.shop.test', routes: [{ path: '/', service: 'api' }] },
  ],
});

const byName = (objects: K8sObject[], name: string) => objects.find((o) => o.metadata.name === name)!;
const sections = (route: K8sObject) => route.spec.parentRefs.map((p: K8sObject) => p.sectionName);
const httpsRoutes = (objects: K8sObject[]) => objects.filter((r) => r.metadata.name !== 'https-redirect');

describe('plain HTTP', () => {
  test('one redirect route covers every host and sends it to HTTPS with a permanent redirect', () => {
    const redirect = byName(synth(twoHosts), 'https-redirect');
    expect(redirect.spec.hostnames).toEqual(['shop.test', 'api.shop.test']);
    // The Gateway is the application's (app.name `shop`).
    expect(redirect.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop', sectionName: HTTP_LISTENER }]);
    expect(redirect.spec.rules).toEqual([{
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }],
    }]);
  });

  test('the redirect matches every path but nothing exactly, so the ACME solver\'s Exact route wins for its token', () => {
    // Gateway API precedence across routes of the same hostname: Exact path, then the longest prefix.
    const redirect = byName(synth(shopEnv), 'https-redirect');
    const matches = redirect.spec.rules.flatMap((r: K8sObject) => r.matches);
    expect(matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  test('only the redirect attaches to the HTTP listener, and it sends nothing to a backend', () => {
    const routes = synth(twoHosts);
    for (const route of routes) {
      // A parentRef without a sectionName would attach to every listener, the HTTP one included.
      for (const ref of route.spec.parentRefs) expect(ref.sectionName).toBeDefined();
    }
    const onHttp = routes.filter((r) => sections(r).includes(HTTP_LISTENER));
    expect(onHttp.map((r) => r.metadata.name)).toEqual(['https-redirect']);
    for (const rule of onHttp[0].spec.rules) {
      expect(rule.backendRefs).toBeUndefined();
      expect(rule.filters.map((f: K8sObject) => f.type)).toEqual(['RequestRedirect']);
    }
  });
});

test.each([stagingEnv, productionEnv].map((env) => [env.name, env] as const))(
  'in the whole %s output, every HTTPRoute names its listener and none but redirects use plain HTTP', (_, env) => {
    const routes = synthObjects(env).map((o) => o.object).filter((o) => o.kind === 'HTTPRoute');
    expect(routes.length).toBeGreaterThan(1);
    for (const route of routes) {
      for (const ref of route.spec.parentRefs) expect([route.metadata.name, ref.sectionName]).toEqual([route.metadata.name, expect.any(String)]);
      if (!sections(route).includes(HTTP_LISTENER)) continue;
      for (const rule of route.spec.rules) {
        expect([route.metadata.name, rule.backendRefs, rule.filters.map((f: K8sObject) => f.type)])
          .toEqual([route.metadata.name, undefined, ['RequestRedirect']]);
      }
    }
  });

describe('HTTPS', () => {
  test('one route per host, attached only to that host\'s HTTPS listener, in the application\'s namespace', () => {
    const routes = httpsRoutes(synth(twoHosts));
    expect(routes.map((r) => [r.metadata.name, r.metadata.namespace, r.spec.hostnames, sections(r)])).toEqual([
      ['shop-test', 'shop-test', ['shop.test'], [httpsListenerName('shop.test')]],
      ['api-shop-test', 'shop-test', ['api.shop.test'], [httpsListenerName('api.shop.test')]],
    ]);
  });

  test('each path goes to its service\'s port, longest prefix first', () => {
    // The fixture lists `/` before `/api`: the order written is not the order the gateway decides in.
    expect(shopEnv.hosts[0].routes.map((r) => r.path)).toEqual(['/', '/api']);
    const route = byName(synth(shopEnv), 'shop-test');
    expect(route.spec.rules.map((r: K8sObject) => [r.matches, r.backendRefs])).toEqual([
      [[{ path: { type: 'PathPrefix', value: '/api' } }], [{ group: '', kind: 'Service', name: 'api', port: SERVICE_PORT, weight: 1 }]],
      [[{ path: { type: 'PathPrefix', value: '/' } }], [{ group: '', kind: 'Service', name: 'web', port: SERVICE_PORT, weight: 1 }]],
    ]);
  });

  test('every HTTPS rule carries the security headers', () => {
    const routes = httpsRoutes(synth(twoHosts));
    expect(routes.flatMap((r) => r.spec.rules)).toHaveLength(3);
    for (const route of routes) {
      for (const rule of route.spec.rules) expect(rule.filters).toEqual([securityHeaders(twoHosts.hsts)]);
    }
  });
});

describe('security headers', () => {
  /** A response header every HTTPS rule of these routes sets or adds; fails unless all agree. */
  const header = (routes: K8sObject[], name: string): string | undefined => {
    const values = new Set(routes.filter((r) => !sections(r).includes(HTTP_LISTENER)).flatMap((r) => r.spec.rules).map((rule: K8sObject) => {
      const m = rule.filters.find((f: K8sObject) => f.type === 'ResponseHeaderModifier').responseHeaderModifier;
      return [...(m.set ?? []), ...(m.add ?? [])].find((h: K8sObject) => h.name === name)?.value as string | undefined;
    }));
    expect(values.size).toBe(1);
    return [...values][0];
  };
  const wholeOutput = (env: Environment) => synthObjects(env).map((o) => o.object).filter((o) => o.kind === 'HTTPRoute');

  test('HSTS is written as configured', () => {
    const preloaded = variant(shop, { hsts: { maxAgeSeconds: 31536000, includeSubDomains: true, preload: true } });
    expect(header(synth(preloaded), 'Strict-Transport-Security')).toBe('max-age=31536000; includeSubDomains; preload');
    const short = variant(shop, { hsts: { maxAgeSeconds: 600, includeSubDomains: false, preload: false } });
    expect(header(synth(short), 'Strict-Transport-Security')).toBe('max-age=600');
  });

  test('production\'s HSTS is what the browsers\' preload list accepts: a year or more, subdomains, preload', () => {
    const hsts = header(wholeOutput(productionEnv), 'Strict-Transport-Security')!;
    const directives = hsts.split('; ');
    expect(directives).toEqual(expect.arrayContaining(['includeSubDomains', 'preload']));
    expect(Number(/^max-age=(\d+)$/.exec(directives[0])![1])).toBeGreaterThanOrEqual(31536000);
  });

  test('staging\'s HSTS is short and never preloaded: a staging mistake must not pin browsers for long', () => {
    const hsts = header(wholeOutput(stagingEnv), 'Strict-Transport-Security')!;
    expect(hsts).not.toContain('preload');
    expect(Number(/^max-age=(\d+)/.exec(hsts)![1])).toBeLessThanOrEqual(86400);
  });

  test('no MIME sniffing, no framing (both the old header and CSP), a strict referrer policy', () => {
    const routes = synth(twoHosts);
    expect(header(routes, 'X-Content-Type-Options')).toBe('nosniff');
    expect(header(routes, 'X-Frame-Options')).toBe('DENY');
    expect(header(routes, 'Content-Security-Policy')).toBe("frame-ancestors 'none'");
    expect(header(routes, 'Referrer-Policy')).toBe('strict-origin-when-cross-origin');
  });

  test('the CSP is added, not set, so the application\'s own policy survives', () => {
    const m = securityHeaders(shopEnv.hsts).responseHeaderModifier!;
    expect(m.add?.map((h) => h.name)).toEqual(['Content-Security-Policy']);
    expect(m.set?.map((h) => h.name)).not.toContain('Content-Security-Policy');
  });

  test('hstsValue writes only the directives that are on', () => {
    expect(hstsValue({ maxAgeSeconds: 300, includeSubDomains: false, preload: false })).toBe('max-age=300');
    expect(hstsValue({ maxAgeSeconds: 300, includeSubDomains: true, preload: false })).toBe('max-age=300; includeSubDomains');
    expect(hstsValue({ maxAgeSeconds: 300, includeSubDomains: false, preload: true })).toBe('max-age=300; preload');
  });
});
