/**
 * PublicRoutes: every host and path reaches its service over HTTPS with the security headers, and
 * plain HTTP only ever redirects.
 */
import { Chart, Testing } from 'cdk8s';
import { hstsValue, PublicRoutes, securityHeaders } from '../charts/app/public-routes';
import { SERVICE_PORT } from '../charts/app/web-service';
import { httpsListenerName } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { HTTP_LISTENER } from '../charts/platform/public-gateway';
import { synthObjects } from '../pipeline/synth';
import { environments } from '../environments/index';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { resolveEnvironment, resolveEnvironments } from '../environments/load';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';

const root = process.cwd();
const [stagingEnv, productionEnv] = resolveEnvironments(environments, root);

function variant(base: EnvironmentDefinition, overrides: object): Environment {
  return resolveEnvironment({ ...base, config: mergeConfig(structuredClone(base.config), overrides) }, root);
}

/** Nothing is written, so the App's outdir is never created. */
function synth(env: Environment): K8sObject[] {
  const chart = new Chart(Testing.app({ outdir: 'unused' }), 'test', { disableResourceNameHashes: true });
  new PublicRoutes(chart, 'routes', { env });
  return Testing.synth(chart);
}

const twoHosts = variant(production, {
  hosts: [
    { hostname: 'portal.university.example', routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }] },
    { hostname: 'api.university.example', routes: [{ path: '/', service: 'api' }] },
  ],
});

const byName = (objects: K8sObject[], name: string) => objects.find((o) => o.metadata.name === name)!;
const sections = (route: K8sObject) => route.spec.parentRefs.map((p: K8sObject) => p.sectionName);

describe('plain HTTP', () => {
  test('one redirect route covers every host and sends it to HTTPS with a permanent redirect', () => {
    const redirect = byName(synth(twoHosts), 'https-redirect');
    expect(redirect.spec.hostnames).toEqual(['portal.university.example', 'api.university.example']);
    expect(redirect.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'student-portal', sectionName: HTTP_LISTENER }]);
    expect(redirect.spec.rules).toEqual([{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }]);
  });

  test('the redirect matches every path but nothing exactly, so the ACME solver\'s Exact route wins for its token', () => {
    // Gateway API precedence across routes of the same hostname: Exact path, then the longest prefix.
    const redirect = byName(synth(productionEnv), 'https-redirect');
    const matches = redirect.spec.rules.flatMap((r: K8sObject) => r.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }]);
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
  test('one route per host, attached only to that host\'s HTTPS listener', () => {
    const routes = synth(twoHosts).filter((r) => r.metadata.name !== 'https-redirect');
    expect(routes.map((r) => [r.metadata.name, r.spec.hostnames, sections(r)])).toEqual([
      ['portal-university-example', ['portal.university.example'], [httpsListenerName('portal.university.example')]],
      ['api-university-example', ['api.university.example'], [httpsListenerName('api.university.example')]],
    ]);
  });

  test('each path goes to its service\'s port, longest prefix first', () => {
    const route = byName(synth(productionEnv), 'portal-university-example');
    expect(route.spec.rules.map((r: K8sObject) => [r.matches, r.backendRefs])).toEqual([
      [[{ path: { type: 'PathPrefix', value: '/api' } }], [{ group: '', kind: 'Service', name: 'api', port: SERVICE_PORT }]],
      [[{ path: { type: 'PathPrefix', value: '/' } }], [{ group: '', kind: 'Service', name: 'web', port: SERVICE_PORT }]],
    ]);
  });

  test('every HTTPS rule carries the security headers', () => {
    for (const route of synth(twoHosts).filter((r) => r.metadata.name !== 'https-redirect')) {
      for (const rule of route.spec.rules) expect(rule.filters).toEqual([securityHeaders(twoHosts)]);
    }
  });
});

describe('security headers', () => {
  const header = (env: Environment, name: string) => {
    const m = securityHeaders(env).responseHeaderModifier!;
    return [...(m.set ?? []), ...(m.add ?? [])].find((h) => h.name === name)?.value;
  };

  test('production HSTS is two years, subdomains, preload: what the preload list accepts', () => {
    expect(header(productionEnv, 'Strict-Transport-Security')).toBe('max-age=63072000; includeSubDomains; preload');
    expect(productionEnv.hsts.maxAgeSeconds).toBeGreaterThanOrEqual(31536000);
  });

  test('staging HSTS is short and never preloaded', () => {
    const hsts = header(stagingEnv, 'Strict-Transport-Security');
    expect(hsts).toBe('max-age=86400');
    expect(hsts).not.toContain('preload');
  });

  test('no MIME sniffing, no framing (both the old header and CSP), a strict referrer policy', () => {
    expect(header(productionEnv, 'X-Content-Type-Options')).toBe('nosniff');
    expect(header(productionEnv, 'X-Frame-Options')).toBe('DENY');
    expect(header(productionEnv, 'Content-Security-Policy')).toBe("frame-ancestors 'none'");
    expect(header(productionEnv, 'Referrer-Policy')).toBe('strict-origin-when-cross-origin');
  });

  test('the CSP is added, not set, so the application\'s own policy survives', () => {
    const m = securityHeaders(productionEnv).responseHeaderModifier!;
    expect(m.add?.map((h) => h.name)).toEqual(['Content-Security-Policy']);
    expect(m.set?.map((h) => h.name)).not.toContain('Content-Security-Policy');
  });

  test('hstsValue writes only the directives that are on', () => {
    expect(hstsValue({ maxAgeSeconds: 300, includeSubDomains: false, preload: false })).toBe('max-age=300');
    expect(hstsValue({ maxAgeSeconds: 300, includeSubDomains: true, preload: false })).toBe('max-age=300; includeSubDomains');
  });
});
