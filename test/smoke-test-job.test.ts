/**
 * The smoke test's Job (charts/app/smoke-test-job.ts, wired in charts/app/app-chart.ts): an Argo CD
 * PostSync hook on the curl image, its check list generated from the hosts and the routes' own
 * header filter, on the small fixtures so every value asserted is one the test set. What the
 * script does with the list: test/smoke-test.test.ts.
 */
import { securityHeaders } from '../charts/app/public-routes';
import {
  checkList, CHECKS_FILE, expectedHeaders, POST_SYNC_HOOK, SMOKE_TEST_CONTAINER, SMOKE_TEST_MOUNT_PATH, SMOKE_TEST_RETRIES, SMOKE_TEST_SCRIPT,
  smokeTestDeadlineSeconds, SmokeTestJob,
} from '../charts/app/smoke-test-job';
import { CURL_IMAGE, CURL_IMAGE_UID } from '../charts/common/images';
import { recommendedLabels } from '../charts/common/labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../charts/common/pod-security';
import { readScript } from '../charts/common/shipped-files';
import { ConfigError } from '../environments/load';
import { gatewayProxyPodLabels } from '../environments/model/gateway';
import { buildModel } from '../environments/model/model';
import { FIXED_NAMES, reservedNames } from '../environments/model/names';
import { PUBLICLY_TRUSTED_ISSUER } from '../environments/model/tls';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { checkPolicy, parseImage } from '../pipeline/policy';
import { synthesizeEnvironment, synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, boxDesigner, shop, variant } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const NAME = FIXED_NAMES.smokeTest;
const env = variant(shop);
const model = buildModel(env);
const objectsOf = (e: Environment): K8sObject[] => synthObjects(e).map((o) => o.object);
const objects = objectsOf(env);
const job = only(objects, 'Job', NAME);
const spec = job.spec.template.spec;
const container = only(spec.containers.map((c: K8sObject) => ({ ...c, kind: 'Container', metadata: { name: c.name } })), 'Container', SMOKE_TEST_CONTAINER);
const configMap = only(objects, 'ConfigMap', NAME);

describe('an Argo CD PostSync hook', () => {
  test('the Job is a hook Argo CD deletes only when it creates the next: the last report stays for its log', () => {
    expect(POST_SYNC_HOOK).toEqual({ 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    // (Its sync wave, by kind, orders it among other PostSync hooks only: the phase runs after every wave.)
    expect(job.metadata.annotations).toMatchObject(POST_SYNC_HOOK);
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });

  test('its ConfigMap and ServiceAccount are plain objects of the sync, applied before any PostSync hook runs', () => {
    for (const o of [configMap, only(objects, 'ServiceAccount', NAME)]) {
      expect(Object.keys(o.metadata.annotations ?? {}).filter((k) => k.startsWith('argocd.argoproj.io/hook'))).toEqual([]);
    }
  });

  test('one pod, never retried by the Job: the script retries itself; a drained node starts it again', () => {
    expect(job.spec.backoffLimit).toBe(0);
    expect(spec.restartPolicy).toBe('Never');
    expect(job.spec.podFailurePolicy).toEqual({ rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
  });

  test('a deadline past the script\'s worst case (every request timing out, every pause, the pod\'s start), so it never cuts the report', () => {
    expect(SMOKE_TEST_RETRIES).toEqual({ attempts: 12, pauseSeconds: 10, requestTimeoutSeconds: 10 });
    // shop.test: two paths and the redirect, three requests an attempt.
    const worstCase = 12 * 3 * 10 + 11 * 10;
    expect(job.spec.activeDeadlineSeconds).toBe(530);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(worstCase);
    expect(job.spec.activeDeadlineSeconds).toBeLessThanOrEqual(worstCase + 60);
    const twoHosts = [{ hostname: 'a.test', paths: ['/'] }, { hostname: 'b.test', paths: ['/', '/api', '/static'] }];
    expect(smokeTestDeadlineSeconds(twoHosts)).toBe(12 * 6 * 10 + 11 * 10 + 60);
  });

  test('named smoke-test, labelled as the smoke test of the application, the ConfigMap and ServiceAccount too', () => {
    expect(NAME).toBe('smoke-test');
    const labels = recommendedLabels(model.identity, NAME, 'smoke-test');
    for (const o of [job, configMap, only(objects, 'ServiceAccount', NAME)]) {
      expect(o.metadata).toMatchObject({ name: NAME, namespace: env.app.namespace, labels });
    }
    expect(job.spec.template.metadata.labels).toEqual(labels);
  });
});

describe('its pod', () => {
  test('curl\'s official image, pinned by an 8.x tag and the digest of its index', () => {
    expect(container.image).toBe(CURL_IMAGE);
    const { repository, tag, digest } = parseImage(CURL_IMAGE);
    expect(repository).toBe('docker.io/curlimages/curl');
    expect(tag).toMatch(/^8\.\d+\.\d+$/);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  test('Pod Security restricted with a read-only root filesystem, as curl_user, and no scratch volume: the script writes no file', () => {
    expect(spec.securityContext).toEqual(restrictedPodSecurityContext(CURL_IMAGE_UID));
    expect(CURL_IMAGE_UID).toBe(100);
    expect(container.securityContext).toEqual(restrictedContainerSecurityContext());
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.volumes).toEqual([{ name: 'smoke-test', configMap: { name: NAME, defaultMode: 0o444 } }]);
    expect(container.volumeMounts).toEqual([{ name: 'smoke-test', mountPath: SMOKE_TEST_MOUNT_PATH, readOnly: true }]);
  });

  test('its own ServiceAccount without a token, no service links, at the batch priority, small', () => {
    expect(only(objects, 'ServiceAccount', NAME).automountServiceAccountToken).toBe(false);
    expect(spec).toMatchObject({
      serviceAccountName: NAME, automountServiceAccountToken: false, enableServiceLinks: false, priorityClassName: model.priorityClasses.batch,
    });
    expect(container.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } });
    expect(Object.keys(container).filter((k) => k.endsWith('Probe'))).toEqual([]);
    expect(container.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  test('runs the shipped script with the image\'s sh, the production settings, and no test hook', () => {
    expect(container.command).toEqual(['sh', `${SMOKE_TEST_MOUNT_PATH}/${SMOKE_TEST_SCRIPT}`]);
    expect(container).not.toHaveProperty('args');
    expect(container.env).toEqual([
      { name: 'SMOKE_TEST_CHECKS', value: `${SMOKE_TEST_MOUNT_PATH}/${CHECKS_FILE}` },
      { name: 'SMOKE_TEST_ATTEMPTS', value: '12' },
      { name: 'SMOKE_TEST_PAUSE_SECONDS', value: '10' },
      { name: 'SMOKE_TEST_TIMEOUT_SECONDS', value: '10' },
      // The fixture's issuer is Let's Encrypt's staging, whose roots no trust store holds.
      { name: 'SMOKE_TEST_VERIFY_CERTIFICATES', value: String(PUBLICLY_TRUSTED_ISSUER[model.env.tls.issuer]) },
    ]);
    expect(model.env.tls.issuer).toBe('letsencrypt-staging');
    // Production connects to the real hosts and trusts the image's CA bundle.
    const names = (container.env as K8sObject[]).map((e) => e.name);
    expect(names).not.toContain('SMOKE_TEST_CONNECT_TO');
    expect(names).not.toContain('CURL_CA_BUNDLE');
  });
});

describe('its ConfigMap', () => {
  test('the script, byte for byte, and the check list', () => {
    expect(Object.keys(configMap.data).sort()).toEqual([CHECKS_FILE, SMOKE_TEST_SCRIPT]);
    expect(configMap.data[SMOKE_TEST_SCRIPT]).toBe(readScript('charts/app/scripts', SMOKE_TEST_SCRIPT));
  });

  test('the check list: every host\'s paths over HTTPS, its redirect, and the headers the routes set and add, as the routes say them', () => {
    expect(configMap.data[CHECKS_FILE]).toBe([
      '# What the smoke test checks, generated from the configuration (charts/app/smoke-test-job.ts).',
      'https shop.test /',
      'https shop.test /api',
      'http shop.test',
      'header-equals Strict-Transport-Security max-age=63072000; includeSubDomains',
      'header-equals X-Content-Type-Options nosniff',
      'header-equals X-Frame-Options DENY',
      'header-equals Referrer-Policy strict-origin-when-cross-origin',
      'header-includes Content-Security-Policy frame-ancestors \'none\'',
      '',
    ].join('\n'));
    // The routes' filter is the one statement: every rule of every synthesized HTTPS route carries exactly what the list expects.
    const expected = expectedHeaders(securityHeaders(env.hsts));
    for (const route of objects.filter((o) => o.kind === 'HTTPRoute' && o.metadata.name !== 'https-redirect')) {
      for (const rule of route.spec.rules) expect(expectedHeaders(rule.filters[0])).toEqual(expected);
    }
  });

  test('follows the configuration: HSTS preload and a shorter max-age, a second host with its own paths', () => {
    const other = variant(shop, {
      hsts: { maxAgeSeconds: 31536000, includeSubDomains: true, preload: true },
      hosts: [...shop.config.hosts!, { hostname: 'admin.shop.test', routes: [{ path: '/admin', service: 'api' }] }],
    });
    const checks = only(objectsOf(other), 'ConfigMap', NAME).data[CHECKS_FILE] as string;
    expect(checks).toContain('\nhttps shop.test /\nhttps shop.test /api\nhttp shop.test\nhttps admin.shop.test /admin\nhttp admin.shop.test\n');
    expect(checks).toContain('\nheader-equals Strict-Transport-Security max-age=31536000; includeSubDomains; preload\n');
    expect(only(objectsOf(other), 'Job', NAME).spec.activeDeadlineSeconds).toBe(12 * 5 * 10 + 11 * 10 + 60);
  });

  test('a list the script would misread, or one that checks nothing, is a construction error', () => {
    const headers = expectedHeaders(securityHeaders(env.hsts));
    expect(() => checkList([], headers)).toThrow('a smoke test of no host checks nothing');
    expect(() => checkList([{ hostname: 'a.test', paths: ['/a b'] }], headers)).toThrow('"/a b" cannot be a word');
    expect(() => checkList([{ hostname: 'a.test', paths: ['/'] }], { equals: [], includes: [{ name: 'Content-Security-Policy', value: 'a, b' }] }))
      .toThrow('cannot hold a comma');
    expect(() => expectedHeaders({ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } })).toThrow('a RequestRedirect filter sets no response header');
  });

  test('an environment always has a host, so always a smoke test: the schema refuses none', () => {
    expect(() => variant(shop, { hosts: [] })).toThrow(ConfigError);
    expect(() => variant(shop, { hosts: [] })).toThrow(/^shop: hosts /m);
    for (const e of [env, variant(boxDesigner)]) expect(objectsOf(e).filter((o) => o.kind === 'Job' && o.metadata.name === NAME)).toHaveLength(1);
  });

  test('its name is reserved: no service may take it (its objects and its pods\' labels would be the smoke test\'s)', () => {
    expect(reservedNames(env)).toContain(NAME);
  });

  test('the construct alone makes exactly a ConfigMap, a ServiceAccount and a Job, without a priority unless given', () => {
    const made = synthConstruct((s) => new SmokeTestJob(s, 'smoke', {
      identity: model.identity, name: 'x-smoke', hosts: [{ hostname: 'a.test', paths: ['/'] }], headers: { equals: [], includes: [] }, verifyCertificates: true,
    }));
    expect(made.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(['ConfigMap x-smoke', 'ServiceAccount x-smoke', 'Job x-smoke']);
    expect(only(made, 'Job').spec.template.spec).not.toHaveProperty('priorityClassName');
  });
});

describe('its network', () => {
  const policy = only(objects, 'NetworkPolicy', NAME);

  test('its pods reach the Gateway\'s proxies at their container ports, and public addresses on 80 and 443; nothing reaches them', () => {
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': model.identity.instance, 'app.kubernetes.io/name': NAME } });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    expect(policy.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.gateway.proxyNamespace } }, podSelector: { matchLabels: gatewayProxyPodLabels(env) } }],
        ports: [{ protocol: 'TCP', port: 10080 }, { protocol: 'TCP', port: 10443 }],
      },
      // Without gateway.loadBalancerCidrs, no private range: on 443 those hold the API server and every pod and Service.
      {
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] } }],
        ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }],
      },
    ]);
  });

  test('with gateway.loadBalancerCidrs, the load balancer\'s ranges instead of the public internet; the proxies\' rule stays', () => {
    const onPremises = variant(shop, { gateway: { loadBalancerCidrs: ['10.20.30.0/28'] } });
    const egress = only(objectsOf(onPremises), 'NetworkPolicy', NAME).spec.egress;
    expect(egress).toEqual([
      policy.spec.egress[0],
      { to: [{ ipBlock: { cidr: '10.20.30.0/28' } }], ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 443 }] },
    ]);
  });

  test('the policy rules see the Job: without its NetworkPolicy, coverage fails', () => {
    const without = objects.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === NAME));
    expect(checkPolicy(without, { production: false }).map((v) => `${v.rule} ${v.object}`)).toEqual([`network-policy-coverage Job ${env.app.namespace}/${NAME}`]);
  });
});

test('the whole environment passes the schema and every policy rule, in production too (the image\'s digest among them)', async () => {
  for (const e of [env, variant(shop, AS_PRODUCTION)]) expect((await synthesizeEnvironment(e)).problems).toEqual([]);
});
