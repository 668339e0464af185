/**
 * The staging load test's Job (charts/app/load-test-job.ts, wired in charts/app/app-chart.ts): an
 * Argo CD PostSync hook on the k6 image, after the smoke test, its thresholds derived from the SLO,
 * on the `shop` fixture with a load test (SLO 0.99 / 0.95 / 1 s) so every value asserted is one the
 * test set. k6 itself cannot run here: the script is parsed as an ES module, not executed.
 */
import vm from 'node:vm';
import {
  LOAD_TEST_CONFIG_FILE, LOAD_TEST_CONTAINER, LOAD_TEST_MOUNT_PATH, LOAD_TEST_SCRIPT, loadTestDeadlineSeconds, LoadTestJob, loadTestResources,
  loadTestSettings, loadTestThresholds,
} from '../charts/app/load-test-job';
import { POST_SYNC_HOOK } from '../charts/app/smoke-test-job';
import { K6_IMAGE, K6_IMAGE_UID } from '../charts/common/images';
import { recommendedLabels } from '../charts/common/labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../charts/common/pod-security';
import { readScript } from '../charts/common/shipped-files';
import { LOAD_TEST_WAVE, SYNC_WAVES } from '../charts/common/sync-waves';
import { ConfigError, resolveEnvironment } from '../environments/load';
import { gatewayProxyPodLabels } from '../environments/model/gateway';
import { buildModel } from '../environments/model/model';
import { FIXED_NAMES, reservedNames } from '../environments/model/names';
import { production } from '../environments/production';
import type { Environment } from '../environments/schema';
import { staging } from '../environments/staging';
import type { K8sObject } from '../pipeline/k8s-object';
import { checkPolicy, parseImage } from '../pipeline/policy';
import { synthesizeEnvironment, synthObjects } from '../pipeline/synth';
import { AS_PRODUCTION, shop, variant } from './support/fixtures';
import { only, synthConstruct } from './support/synth-construct';

const NAME = FIXED_NAMES.loadTest;
const LOAD = { requestsPerSecond: 15, virtualUsers: 10, duration: '2m' };
const env = variant(shop, { loadTest: LOAD });
const model = buildModel(env);
const objectsOf = (e: Environment): K8sObject[] => synthObjects(e).map((o) => o.object);
const objects = objectsOf(env);
const job = only(objects, 'Job', NAME);
const spec = job.spec.template.spec;
const container = only(spec.containers.map((c: K8sObject) => ({ ...c, kind: 'Container', metadata: { name: c.name } })), 'Container', LOAD_TEST_CONTAINER);
const configMap = only(objects, 'ConfigMap', NAME);
const settings = JSON.parse(configMap.data[LOAD_TEST_CONFIG_FILE] as string);
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

describe('thresholds from the SLO', () => {
  test('the fixture\'s 0.99 / 0.95 / 1 s: under 1 % failed, p(95) under 1000 ms', () => {
    expect(shop.config.slo).toEqual({ availability: 0.99, latency: 0.95, latencyThresholdSeconds: 1 });
    expect(loadTestThresholds(env.slo)).toEqual({
      http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '1m' }],
      http_req_duration: [{ threshold: 'p(95)<1000' }],
    });
    expect(settings.thresholds).toEqual(loadTestThresholds(env.slo));
  });

  test('written as a person would, without the floating point\'s tails (1 - 0.999 is 0.0010000000000000009)', () => {
    expect(loadTestThresholds({ availability: 0.999, latency: 0.99, latencyThresholdSeconds: 0.5 })).toEqual({
      http_req_failed: [{ threshold: 'rate<0.001', abortOnFail: true, delayAbortEval: '1m' }],
      http_req_duration: [{ threshold: 'p(99)<500' }],
    });
    const t = loadTestThresholds({ availability: 0.9995, latency: 0.999, latencyThresholdSeconds: 0.3 });
    expect([t.http_req_failed[0].threshold, t.http_req_duration[0].threshold]).toEqual(['rate<0.0005', 'p(99.9)<300']);
    expect(loadTestThresholds({ availability: 0.7, latency: 0.07, latencyThresholdSeconds: 0.1 + 0.2 }).http_req_duration[0].threshold).toBe('p(7)<300');
  });

  test('staging\'s own SLO is what its synthesized ConfigMap carries', () => {
    const real = resolveEnvironment(staging, process.cwd());
    const s = JSON.parse(only(objectsOf(real), 'ConfigMap', NAME).data[LOAD_TEST_CONFIG_FILE]);
    expect(s.thresholds).toEqual(loadTestThresholds(real.slo));
    // The shared SLO, 0.999 / 0.99 / 0.5 s, as the staging hook enforces it.
    expect(real.slo).toEqual({ availability: 0.999, latency: 0.99, latencyThresholdSeconds: 0.5 });
    expect([s.thresholds.http_req_failed[0].threshold, s.thresholds.http_req_duration[0].threshold]).toEqual(['rate<0.001', 'p(99)<500']);
  });
});

describe('an Argo CD PostSync hook after the smoke test', () => {
  test('a PostSync hook deleted only when the next is created', () => {
    expect(job.metadata.annotations).toMatchObject(POST_SYNC_HOOK);
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });

  test('in a later wave than the smoke test\'s Job: hooks of one phase run wave by wave', () => {
    const smoke = only(objects, 'Job', FIXED_NAMES.smokeTest);
    expect(wave(smoke)).toBe(SYNC_WAVES.Job);
    expect(wave(job)).toBe(LOAD_TEST_WAVE);
    expect(wave(job)).toBeGreaterThan(wave(smoke));
    // Its ConfigMap and ServiceAccount are plain objects, in their kinds' waves.
    expect(wave(configMap)).toBe(SYNC_WAVES.ConfigMap);
    expect(wave(only(objects, 'ServiceAccount', NAME))).toBe(SYNC_WAVES.ServiceAccount);
  });

  test('one pod, a deadline of the run, k6\'s grace and the start', () => {
    expect(job.spec.backoffLimit).toBe(0);
    expect(spec.restartPolicy).toBe('Never');
    expect(job.spec.activeDeadlineSeconds).toBe(120 + 30 + 90);
    expect(loadTestDeadlineSeconds('1h')).toBe(3600 + 120);
  });

  test('named load-test and labelled as the load test of the application', () => {
    const labels = recommendedLabels(model.identity, NAME, 'load-test');
    for (const o of [job, configMap, only(objects, 'ServiceAccount', NAME)]) expect(o.metadata).toMatchObject({ name: NAME, namespace: env.app.namespace, labels });
    expect(job.spec.template.metadata.labels).toEqual(labels);
    expect(reservedNames(env)).toContain(NAME);
  });
});

describe('its pod', () => {
  test('Grafana\'s k6 image, pinned by a 1.x tag and a digest', () => {
    expect(container.image).toBe(K6_IMAGE);
    const { repository, tag, digest } = parseImage(K6_IMAGE);
    expect(repository).toBe('docker.io/grafana/k6');
    expect(tag).toMatch(/^1\.\d+\.\d+$/);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('restricted, as the image\'s k6 user, read-only root with a small /tmp', () => {
    expect(K6_IMAGE_UID).toBe(12345);
    expect(spec.securityContext).toEqual(restrictedPodSecurityContext(K6_IMAGE_UID));
    expect(container.securityContext).toEqual(restrictedContainerSecurityContext());
    expect(spec.volumes).toEqual([{ name: 'load-test', configMap: { name: NAME, defaultMode: 0o444 } }, { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'load-test', mountPath: LOAD_TEST_MOUNT_PATH, readOnly: true }, { name: 'tmp', mountPath: '/tmp' }]);
  });

  test('no token, batch priority, resources sized from the VUs', () => {
    expect(spec).toMatchObject({
      serviceAccountName: NAME, automountServiceAccountToken: false, enableServiceLinks: false, priorityClassName: model.priorityClasses.batch,
    });
    expect(container.resources).toEqual({ requests: { cpu: '200m', memory: '104Mi' }, limits: { cpu: '400m', memory: '104Mi' } });
    expect(loadTestResources(200)).toEqual({ requests: { cpu: '2100m', memory: '864Mi' }, limits: { cpu: '4200m', memory: '864Mi' } });
  });

  test('runs the shipped script with k6, no usage report', () => {
    expect(container.command).toEqual(['k6', 'run', '--no-usage-report', `${LOAD_TEST_MOUNT_PATH}/${LOAD_TEST_SCRIPT}`]);
    expect(container.env).toEqual([{ name: 'LOAD_TEST_CONFIG', value: `${LOAD_TEST_MOUNT_PATH}/${LOAD_TEST_CONFIG_FILE}` }]);
  });
});

describe('its ConfigMap', () => {
  test('the script byte for byte, and the settings: the routed paths at the configured rate', () => {
    expect(Object.keys(configMap.data).sort()).toEqual([LOAD_TEST_CONFIG_FILE, LOAD_TEST_SCRIPT]);
    expect(configMap.data[LOAD_TEST_SCRIPT]).toBe(readScript('charts/app/scripts', LOAD_TEST_SCRIPT));
    expect(settings).toMatchObject({
      targets: ['https://shop.test/', 'https://shop.test/api'], requestsPerSecond: 15, virtualUsers: 10, duration: '120s', gracefulStop: '30s', requestTimeout: '20s',
    });
  });

  test('configured paths replace the routed ones, on every host', () => {
    const other = variant(shop, { loadTest: { ...LOAD, paths: ['/api/health'] } });
    expect(JSON.parse(only(objectsOf(other), 'ConfigMap', NAME).data[LOAD_TEST_CONFIG_FILE]).targets).toEqual(['https://shop.test/api/health']);
    expect(() => loadTestSettings([], LOAD, env.slo)).toThrow('a load test of no target');
  });

  test('the script is an ES module k6 can load: it parses, imports k6\'s modules, reads the settings file', () => {
    const source = readScript('charts/app/scripts', LOAD_TEST_SCRIPT);
    // Parsing only: linking would need k6's modules, which exist in k6 alone.
    expect(() => new vm.SourceTextModule(source)).not.toThrow();
    expect(() => new vm.SourceTextModule(`${source}\n}`)).toThrow(/Unexpected token/);
    expect(source).toMatch(/^import http from 'k6\/http';$/m);
    expect(source).toMatch(/^import \{ check \} from 'k6';$/m);
    expect(source).toContain("executor: 'constant-arrival-rate'");
    expect(source).toContain('thresholds: config.thresholds');
    expect(source).toContain('__ENV.LOAD_TEST_CONFIG');
  });
});

describe('configuration', () => {
  test('no loadTest, no objects and no NetworkPolicy', () => {
    const plain = objectsOf(variant(shop));
    expect(plain.filter((o) => o.metadata.name === NAME)).toEqual([]);
  });

  test('production refuses it; staging has one and production does not', () => {
    expect(() => variant(shop, { ...AS_PRODUCTION, loadTest: LOAD })).toThrow(ConfigError);
    expect(() => variant(shop, { ...AS_PRODUCTION, loadTest: LOAD })).toThrow(/^shop: loadTest is refused in production/m);
    expect(staging.config.loadTest).toBeDefined();
    expect((production.config as { loadTest?: unknown }).loadTest).toBeUndefined();
  });

  test('a duration outside 1m–1h, or a path some host does not route, is refused', () => {
    expect(() => variant(shop, { loadTest: { ...LOAD, duration: '59s' } })).toThrow(/loadTest.duration \("59s"\) must be between 1m/);
    expect(() => variant(shop, { loadTest: { ...LOAD, duration: '1h1s' } })).toThrow(/loadTest.duration \("1h1s"\) must be between/);
    expect(() => variant(shop, { loadTest: { ...LOAD, duration: '1h' } })).not.toThrow();
    const apiOnly = { hosts: [{ hostname: 'shop.test', routes: [{ path: '/api', service: 'api' }] }] };
    expect(() => variant(shop, { ...apiOnly, loadTest: { ...LOAD, paths: ['/apix'] } })).toThrow(/loadTest.paths\[0\] \("\/apix"\) is not routed on shop.test/);
    expect(() => variant(shop, { ...apiOnly, loadTest: { ...LOAD, paths: ['/api/x'] } })).not.toThrow();
  });

  test('the construct alone: ConfigMap, ServiceAccount, Job, no priority unless given', () => {
    const made = synthConstruct((s) => new LoadTestJob(s, 'load', {
      identity: model.identity, name: 'x-load', hosts: [{ hostname: 'a.test', paths: ['/'] }], load: LOAD, slo: env.slo,
    }));
    expect(made.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(['ConfigMap x-load', 'ServiceAccount x-load', 'Job x-load']);
    expect(only(made, 'Job').spec.template.spec).not.toHaveProperty('priorityClassName');
  });
});

describe('its network', () => {
  const policy = only(objects, 'NetworkPolicy', NAME);

  test('HTTPS only: the Gateway\'s proxies at 10443 and public addresses on 443; nothing reaches it', () => {
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': model.identity.instance, 'app.kubernetes.io/name': NAME } });
    expect(policy.spec.ingress).toEqual([]);
    expect(policy.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': env.gateway.proxyNamespace } }, podSelector: { matchLabels: gatewayProxyPodLabels(env) } }],
        ports: [{ protocol: 'TCP', port: 10443 }],
      },
      {
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      },
    ]);
  });

  test('with gateway.loadBalancerCidrs, those ranges on 443, as the smoke test', () => {
    const onPremises = variant(shop, { loadTest: LOAD, gateway: { loadBalancerCidrs: ['10.20.30.0/28'] } });
    expect(only(objectsOf(onPremises), 'NetworkPolicy', NAME).spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '10.20.30.0/28' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });

  test('without its NetworkPolicy, coverage fails', () => {
    const without = objects.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === NAME));
    expect(checkPolicy(without, { production: false }).map((v) => `${v.rule} ${v.object}`)).toEqual([`network-policy-coverage Job ${env.app.namespace}/${NAME}`]);
  });
});

test('the whole environment passes the schema and every policy rule', async () => {
  expect((await synthesizeEnvironment(env)).problems).toEqual([]);
});
