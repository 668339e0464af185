/**
 * The health checks shipped in argocd-cm (charts/gitops/health/), run by the real Lua 5.1
 * interpreter in the environment Argo CD gives argocd-cm scripts (test/support/lua.ts), against
 * objects in each state they must tell apart. What the states mean for a sync (gitops-engine
 * pkg/sync/sync_context.go): Healthy ends a wave's wait, Degraded fails the sync, anything else
 * keeps the wave waiting. So a transient state must never read Degraded, and a state nobody will
 * leave on their own should not read Progressing.
 *
 * Argo CD's built-in checks and their test samples (minimized) are in
 * test/fixtures/argocd-health/, from argoproj/argo-cd 37ee0097 (unchanged since v3.5.1): run
 * against upstream's own expectations, they show the harness reproduces Argo CD, and run against
 * the states this project ships overrides for, they show why.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import {
  HEALTH_CHECKS, HEALTH_FOLDER, healthCustomizations, healthKey, healthScriptName, RESOURCE_TRACKING, type HealthCheck,
} from '../charts/gitops/health-checks';
import { runHealthScript, toLuaLiteral, type HealthResult } from './support/lua';

const ROOT = repositoryRoot();
const UPSTREAM = join(ROOT, 'test', 'fixtures', 'argocd-health');

type Obj = Record<string, unknown>;

const check = (group: string, kind: string): HealthCheck => {
  const found = HEALTH_CHECKS.find((c) => c.group === group && c.kind === kind);
  if (!found) throw new Error(`no health check for ${group}/${kind}`);
  return found;
};
const APPLICATION = check('argoproj.io', 'Application');
const CLUSTER = check('postgresql.cnpg.io', 'Cluster');
const CERTIFICATE = check('cert-manager.io', 'Certificate');
const GATEWAY = check('gateway.networking.k8s.io', 'Gateway');

const SHIPPED = healthCustomizations();

/** Runs the script as shipped: the argocd-cm value, not the file, so the test sees what Argo CD gets. */
function health(c: HealthCheck, obj: Obj): HealthResult {
  return runHealthScript(SHIPPED[healthKey(c)], obj, { name: healthScriptName(c) });
}

/** Argo CD's built-in check of a kind, as it runs (built-ins get every Lua library). */
function builtIn(c: HealthCheck, obj: Obj): HealthResult {
  return runHealthScript(readFileSync(join(UPSTREAM, c.group, c.kind, 'health.lua'), 'utf8'), obj, { name: `built-in ${c.kind}`, openLibs: true });
}

const result = (status: HealthResult['status'], message = ''): HealthResult => ({ status, message });

// ---------------------------------------------------------------------------------------------
// Sample objects, shaped as the controllers write them.

const condition = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, observedGeneration = 1) =>
  ({ type, status, reason, message, observedGeneration, lastTransitionTime: '2026-09-01T10:00:00Z' });

function application(extra: { operation?: Obj; status?: Obj } = {}): Obj {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'shop-production', namespace: 'argocd', generation: 3 },
    spec: {
      project: 'shop',
      source: { repoURL: 'https://git.example.com/shop.git', targetRevision: 'main', path: 'dist/production' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'shop' },
    },
    ...extra,
  };
}

const SYNCED = { status: 'Synced', revision: '4f1c2e0' };
const OUT_OF_SYNC = { status: 'OutOfSync', revision: '4f1c2e0' };
const syncOperation = { sync: { revision: '4f1c2e0' }, initiatedBy: { automated: true }, retry: { limit: 5 } };
const operationState = (phase: string, message: string) =>
  ({ operation: syncOperation, phase, message, startedAt: '2026-09-01T10:00:00Z' });

function cluster(status: Obj | undefined, options: { instances?: number; annotations?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: 'shop-postgres', namespace: 'shop', generation: 2, annotations: options.annotations },
    spec: { instances: options.instances ?? 3, postgresql: { parameters: { archive_timeout: '60s' } } },
    status,
  };
}

const clusterReady = (ready: boolean) => ready
  ? condition('Ready', 'True', 'ClusterIsReady', 'Cluster is Ready')
  : condition('Ready', 'False', 'ClusterIsNotReady', 'Cluster Is Not Ready');

/** A Cluster in a phase, with what the operator reports beside it (`more` replaces any of it). */
const inPhase = (phase: string, phaseReason?: string, readyInstances?: number, more: Obj = {}) => cluster({
  phase, phaseReason, instances: 3, readyInstances, currentPrimary: 'shop-postgres-1',
  conditions: [clusterReady(phase === 'Cluster in healthy state')], ...more,
});

function certificate(conditions: Obj[] | undefined, generation = 1): Obj {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'shop-example-com', namespace: 'shop', generation },
    spec: { secretName: 'shop-example-com-tls', dnsNames: ['shop.example.com'], issuerRef: { kind: 'ClusterIssuer', name: 'letsencrypt-production' } },
    status: conditions === undefined ? undefined : { conditions },
  };
}

// Conditions cert-manager v1.21.1 writes (pkg/controller/certificates/{readiness,trigger,issuing}).
const NO_SECRET = 'Issuing certificate as Secret does not exist';
const readyFalse = condition('Ready', 'False', 'DoesNotExist', NO_SECRET);
const readyTrue = condition('Ready', 'True', 'Ready', 'Certificate is up to date and has not expired');
const issuingNew = condition('Issuing', 'True', 'DoesNotExist', NO_SECRET);
const RENEWING = 'Renewing certificate as renewal was scheduled at 2026-09-01 10:00:00 +0000 UTC';
const issuingRenewal = condition('Issuing', 'True', 'Renewing', RENEWING);
const FAILED = 'The certificate request has failed to complete and will be retried: Failed to wait for order resource "shop-example-com-1-2771" to become ready: order is in "invalid" state';
const issuingFailed = condition('Issuing', 'False', 'Failed', FAILED);
const issuingDone = condition('Issuing', 'False', 'Issued', 'The certificate has been successfully issued');

function gateway(status: Obj | undefined, generation = 1): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'shop', namespace: 'shop', generation },
    spec: {
      gatewayClassName: 'envoy-gateway',
      listeners: [
        { name: 'http', protocol: 'HTTP', port: 80 },
        { name: 'https-shop-example-com', protocol: 'HTTPS', port: 443, hostname: 'shop.example.com',
          tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'shop-example-com-tls' }] } },
      ],
    },
    status,
  };
}

// Statuses as Envoy Gateway v1.9.0 writes them (internal/gatewayapi/validate.go, status/gateway.go).
const gatewayProgrammed = [
  condition('Accepted', 'True', 'Accepted', 'The Gateway has been scheduled by Envoy Gateway'),
  condition('Programmed', 'True', 'Programmed', 'Address assigned to the Gateway, 1/1 envoy replicas available'),
];
const gatewayNoAddress = [
  condition('Accepted', 'True', 'Accepted', 'The Gateway has been scheduled by Envoy Gateway'),
  condition('Programmed', 'False', 'AddressNotAssigned', 'No addresses have been assigned to the Gateway'),
];
const listenerOk = (name: string) => ({
  name, attachedRoutes: 1, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
  conditions: [
    condition('Programmed', 'True', 'Programmed', 'Sending translated listener configuration to the data plane'),
    condition('Accepted', 'True', 'Accepted', 'Listener has been successfully translated'),
    condition('ResolvedRefs', 'True', 'ResolvedRefs', 'Listener references have been resolved'),
  ],
});
const NO_CERT = 'No valid secrets exist: certificate refs 0: Secret shop/shop-example-com-tls does not exist.';
const listenerNoCert = {
  ...listenerOk('https-shop-example-com'),
  conditions: [
    condition('ResolvedRefs', 'False', 'InvalidCertificateRef', NO_CERT),
    condition('Accepted', 'True', 'Accepted', 'Listener has been successfully translated'),
    condition('Programmed', 'False', 'Invalid', 'Listener is invalid, see other Conditions for details.'),
  ],
};
const NOT_PERMITTED = 'No valid secrets exist: certificate refs 0: Certificate ref to secret other/shop-tls not permitted by any ReferenceGrant.';
const listenerRefNotPermitted = {
  ...listenerNoCert,
  conditions: [condition('ResolvedRefs', 'False', 'RefNotPermitted', NOT_PERMITTED), ...listenerNoCert.conditions.slice(1)],
};
const listenerNotAccepted = {
  ...listenerOk('http'),
  conditions: [
    condition('Accepted', 'False', 'UnsupportedProtocol', 'Protocol UDP is unsupported, must be HTTP, HTTPS, TCP or TLS.'),
    condition('Programmed', 'False', 'Invalid', 'Listener is invalid, see other Conditions for details.'),
  ],
};

/** A sample of the check's kind, as applied and not yet seen by its controller. */
function unstarted(c: HealthCheck): Obj {
  const samples: Record<string, Obj> = {
    Application: application(), Cluster: cluster(undefined), Certificate: certificate(undefined), Gateway: gateway(undefined),
  };
  if (!(c.kind in samples)) throw new Error(`no sample of ${c.kind}: add one with the check`);
  return samples[c.kind];
}

// ---------------------------------------------------------------------------------------------

describe('what argocd-cm gets', () => {
  const shipped = SHIPPED;

  test('one entry per check, keyed as Argo CD documents, in file name order', () => {
    expect(Object.keys(shipped)).toEqual([
      'resource.customizations.health.argoproj.io_Application',
      'resource.customizations.health.cert-manager.io_Certificate',
      'resource.customizations.health.gateway.networking.k8s.io_Gateway',
      'resource.customizations.health.postgresql.cnpg.io_Cluster',
    ]);
  });

  test('every .lua file of the folder is shipped, and every entry is a file, byte for byte', () => {
    const files = readdirSync(join(ROOT, HEALTH_FOLDER)).sort();
    expect(files).toEqual(HEALTH_CHECKS.map(healthScriptName).sort());
    for (const c of HEALTH_CHECKS) expect(shipped[healthKey(c)]).toBe(readFileSync(join(ROOT, HEALTH_FOLDER, healthScriptName(c)), 'utf8'));
  });

  test('each key names, as Argo CD parses it, the group and kind of the objects its script is tested on', () => {
    // util/settings/settings.go: strings.SplitN(key, ".", 4), then convertToOverrideKey splits
    // the rest at "_" into exactly group and kind; util/lua/lua.go GetConfigMapKey gives an
    // object's group/kind to look the override up by.
    const overrideKey = (key: string) => {
      const parts = key.split('.');
      const [prefix, rest] = [parts.slice(0, 3).join('.'), parts.slice(3).join('.')];
      const groupKind = rest.split('_');
      return { prefix, key: groupKind.length === 2 ? `${groupKind[0]}/${groupKind[1]}` : undefined };
    };
    const configMapKey = (o: Obj) => `${String(o.apiVersion).split('/')[0]}/${String(o.kind)}`;
    for (const c of HEALTH_CHECKS) {
      expect(overrideKey(healthKey(c))).toEqual({ prefix: 'resource.customizations.health', key: configMapKey(unstarted(c)) });
    }
  });

  test("each script's header names the key it is shipped under", () => {
    for (const c of HEALTH_CHECKS) {
      const lines = shipped[healthKey(c)].split('\n');
      const header = lines.slice(0, lines.findIndex((line) => !line.startsWith('--')));
      expect(header.map((line) => line.replace(/^--\s*/, '')).join(' ')).toContain(`argocd-cm key ${healthKey(c)}`);
    }
  });

  test('the scripts are read from the repository root it is given', () => {
    const root = mkdtempSync(join(tmpdir(), 'shipshape-health-'));
    try {
      cpSync(join(ROOT, HEALTH_FOLDER), join(root, HEALTH_FOLDER), { recursive: true });
      writeFileSync(join(root, HEALTH_FOLDER, healthScriptName(CLUSTER)), 'return { status = "Healthy" }\n');
      expect(healthCustomizations(root)[healthKey(CLUSTER)]).toBe('return { status = "Healthy" }\n');
      expect(healthCustomizations(root)[healthKey(GATEWAY)]).toBe(shipped[healthKey(GATEWAY)]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('resources are tracked by annotation', () => {
    expect(RESOURCE_TRACKING).toEqual({ 'application.resourceTrackingMethod': 'annotation' });
  });

  test.each(HEALTH_CHECKS.map((c) => [healthScriptName(c), c] as const))('%s answers Progressing for an object without status, and copes with no metadata', (_, c) => {
    expect(health(c, unstarted(c)).status).toBe('Progressing');
    expect(health(c, { apiVersion: 'x/v1', kind: c.kind }).status).toBe('Progressing');
  });
});

describe('the harness runs scripts as Argo CD does', () => {
  test('argocd-cm scripts get neither the string library nor string methods nor os.getenv; built-ins get them', () => {
    for (const script of ['return { status = string.upper("x") }', 'return { status = ("x"):upper() }', 'return { status = os.getenv("HOME") }']) {
      expect(() => runHealthScript(script, {})).toThrow(/lua5.1 exited 3/);
    }
    expect(runHealthScript('return { status = "Healthy", message = ("x"):rep(2) .. string.rep("y", 2) }', {}, { openLibs: true }))
      .toEqual(result('Healthy', 'xxyy'));
    expect(runHealthScript('return { status = "Healthy", message = type(os.time()) .. type(table.concat) }', {})).toEqual(result('Healthy', 'numberfunction'));
  });

  test('a status Argo CD does not know, a non-table answer, a non-string message and an error are failures', () => {
    expect(() => runHealthScript('return { status = "Ready" }', {})).toThrow(/not one of/);
    expect(() => runHealthScript('return { message = "no status" }', {})).toThrow(/not one of/);
    expect(() => runHealthScript('return "Healthy"', {})).toThrow(/not a table/);
    expect(() => runHealthScript('return { status = "Healthy", message = 3 }', {})).toThrow(/message is a number/);
    expect(() => runHealthScript('return obj.status.phase', {})).toThrow(/attempt to index/);
    expect(() => runHealthScript('return {', {})).toThrow(/lua5.1 exited 2/);
    expect(runHealthScript('return { status = "Missing" }', {})).toEqual(result('Missing'));
  });

  test('obj reaches the script intact: strings of any bytes, numbers, booleans, sequences, and null members absent', () => {
    const s = 'quote " backslash \\ newline \n cr \r tab \t nul \0 bell \x07 del \x7f then 1 2 ]] ]=] ü € 😀 \x012';
    const obj = { s, n: 3, f: 0.5, b: true, no: false, list: ['a', 'b'], nested: { gone: null, empty: {} } };
    const script = `-- a long string must survive ]] and ]=] in the script
      local ok = obj.n + 1 == 4 and obj.f * 2 == 1 and obj.b == true and obj.no == false and #obj.list == 2 and obj.list[1] == "a"
        and obj.nested.gone == nil and next(obj.nested.empty) == nil
      return { status = ok and "Healthy" or "Degraded", message = obj.s }`;
    expect(runHealthScript(script, obj)).toEqual(result('Healthy', s));
    expect(() => toLuaLiteral({ list: [null] })).toThrow(/obj.list\[0\]/);
    expect(() => toLuaLiteral({ n: Number.NaN })).toThrow(/obj.n/);
  });

  const upstreamKinds = [CLUSTER, CERTIFICATE, GATEWAY];
  test.each(upstreamKinds.map((c) => [`${c.group}/${c.kind}`, c] as const))("Argo CD's built-in %s check gives what Argo CD's own test expects on its samples", (_, c) => {
    const dir = join(UPSTREAM, c.group, c.kind);
    const tests = (parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as { tests: { healthStatus: { status: string; message?: string }; inputPath: string }[] }).tests;
    expect(tests.length).toBeGreaterThanOrEqual(5);
    for (const t of tests) {
      const sample = parse(readFileSync(join(dir, t.inputPath), 'utf8')) as Obj;
      expect({ input: t.inputPath, ...builtIn(c, sample) }).toEqual({ input: t.inputPath, status: t.healthStatus.status, message: t.healthStatus.message ?? '' });
    }
  });
});

describe('argoproj.io/Application (a child of the app of apps)', () => {
  test.each<[string, Obj, HealthResult]>([
    ['no status yet', application(), result('Progressing', "Waiting for the Application's first health assessment")],
    ['a status without health yet', application({ status: { sync: OUT_OF_SYNC } }), result('Progressing', "Waiting for the Application's first health assessment")],
    ['Healthy', application({ status: { sync: SYNCED, health: { status: 'Healthy' } } }), result('Healthy')],
    ['Progressing, with its message',
      application({ status: { sync: SYNCED, health: { status: 'Progressing', message: 'Waiting for rollout to finish: 1 of 2 updated replicas are available...' } } }),
      result('Progressing', 'Waiting for rollout to finish: 1 of 2 updated replicas are available...')],
    ['Degraded', application({ status: { sync: SYNCED, health: { status: 'Degraded', message: 'Deployment exceeded its progress deadline' } } }),
      result('Degraded', 'Deployment exceeded its progress deadline')],
    ['Missing (nothing applied yet)', application({ status: { sync: OUT_OF_SYNC, health: { status: 'Missing' } } }), result('Missing')],
    ['Suspended', application({ status: { sync: SYNCED, health: { status: 'Suspended' } } }), result('Suspended')],
    ['a finished, successful sync', application({ status: { sync: SYNCED, health: { status: 'Healthy' }, operationState: operationState('Succeeded', 'successfully synced (all tasks run)') } }),
      result('Healthy')],
  ])('%s', (_, obj, expected) => expect(health(APPLICATION, obj)).toEqual(expected));

  test.each<[string, Obj, HealthResult]>([
    // What the parent would otherwise see: the health of what ran before the sync.
    ['a sync running while the old resources are still Healthy',
      application({ operation: syncOperation, status: { sync: OUT_OF_SYNC, health: { status: 'Healthy' }, operationState: operationState('Running', 'waiting for healthy state of apps/Deployment/web') } }),
      result('Progressing', 'Sync in progress: waiting for healthy state of apps/Deployment/web')],
    ['a sync requested and not started yet', application({ operation: syncOperation, status: { sync: OUT_OF_SYNC, health: { status: 'Healthy' } } }),
      result('Progressing', 'Sync in progress')],
    ['a sync waiting to retry after a failed attempt, while Degraded',
      application({ operation: syncOperation, status: { sync: OUT_OF_SYNC, health: { status: 'Degraded' }, operationState: operationState('Running', 'one or more objects failed to apply. Retrying attempt #1 at 10:01AM.') } }),
      result('Progressing', 'Sync in progress: one or more objects failed to apply. Retrying attempt #1 at 10:01AM.')],
    ['a sync being terminated', application({ operation: syncOperation, status: { sync: OUT_OF_SYNC, health: { status: 'Healthy' }, operationState: operationState('Terminating', 'operation is terminating') } }),
      result('Progressing', 'Sync in progress: operation is terminating')],
    ['a sync held by a sync window', application({ operation: syncOperation, status: { sync: OUT_OF_SYNC, health: { status: 'Healthy' }, operationState: operationState('Running', 'Sync operation blocked by sync window') } }),
      result('Progressing', 'Sync in progress: Sync operation blocked by sync window')],
  ])('an operation in progress: %s', (_, obj, expected) => expect(health(APPLICATION, obj)).toEqual(expected));

  test.each<[string, Obj, HealthResult]>([
    ['failed after its retries, still out of sync and Missing: the parent fails instead of waiting for ever',
      application({ status: { sync: OUT_OF_SYNC, health: { status: 'Missing' }, operationState: operationState('Failed', 'one or more objects failed to apply (retried 5 times).') } }),
      result('Degraded', 'Last sync failed: one or more objects failed to apply (retried 5 times).')],
    ['ended in error, Healthy on the old revision',
      application({ status: { sync: OUT_OF_SYNC, health: { status: 'Healthy' }, operationState: operationState('Error', 'ComparisonError: rpc error') } }),
      result('Degraded', 'Last sync failed: ComparisonError: rpc error')],
    ['failed, but Synced and Healthy since: the failure no longer counts',
      application({ status: { sync: SYNCED, health: { status: 'Healthy' }, operationState: operationState('Failed', 'one or more synchronization tasks completed unsuccessfully') } }),
      result('Healthy')],
  ])('the last sync %s', (_, obj, expected) => expect(health(APPLICATION, obj)).toEqual(expected));
});

describe('postgresql.cnpg.io/Cluster (CloudNativePG)', () => {
  // Every phase constant of CloudNativePG v1.30.0 (api/v1/cluster_types.go, commit 4b5e244a).
  const TRANSIENT = [
    'Setting up primary', 'Creating a new replica', 'Upgrading cluster', 'Upgrading Postgres major version', 'Cluster upgrade delayed',
    'Primary instance is being restarted in-place', 'Primary instance is being restarted without a switchover',
    'Waiting for the instances to become active', 'Online upgrade in progress', 'Applying configuration', 'Promoting to primary cluster',
    'Switchover in progress', 'Failing over',
  ];
  const BAD = [
    'Cluster is unrecoverable and needs manual intervention', 'Unable to create required cluster objects',
    'Cluster cannot proceed to reconciliation due to an unknown plugin being required',
    'Cluster cannot proceed to reconciliation due to an error while interacting with plugins',
    'Cluster has incomplete or invalid image catalog', 'Cluster cannot execute instance online upgrade due to missing architecture binary',
    'Invalid cluster definition',
  ];
  const HEALTHY = 'Cluster in healthy state';
  const WAITING_FOR_USER = 'Waiting for user action';

  test('the phases below are all 22 of the operator, each in one class', () => {
    const all = [...TRANSIENT, ...BAD, HEALTHY, WAITING_FOR_USER];
    expect(new Set(all).size).toBe(22);
  });

  test.each(TRANSIENT)('%s: Progressing, with the reason the operator gives', (phase) => {
    expect(health(CLUSTER, inPhase(phase, `operator says: ${phase}`, 2))).toEqual(result('Progressing', `operator says: ${phase}`));
    expect(health(CLUSTER, inPhase(phase, undefined, 3))).toEqual(result('Progressing', phase));
  });

  test.each(BAD)('%s: Degraded, with the reason the operator gives', (phase) => {
    expect(health(CLUSTER, inPhase(phase, `operator says: ${phase}`, 0))).toEqual(result('Degraded', `operator says: ${phase}`));
    expect(health(CLUSTER, inPhase(phase, undefined, 3))).toEqual(result('Degraded', phase));
  });

  test('the reasons the operator actually writes, for the states of a rollout and of a failure', () => {
    // internal/controller and internal/management/controller of CloudNativePG v1.30.0.
    expect(health(CLUSTER, inPhase('Waiting for the instances to become active', 'Some instances are not yet active. Please wait.', 2)))
      .toEqual(result('Progressing', 'Some instances are not yet active. Please wait.'));
    expect(health(CLUSTER, inPhase('Cluster is unrecoverable and needs manual intervention', 'No pods are active, the cluster needs manual intervention ', 0)))
      .toEqual(result('Degraded', 'No pods are active, the cluster needs manual intervention '));
  });

  test.each<[string, Obj, HealthResult]>([
    ['every instance ready', inPhase(HEALTHY, undefined, 3), result('Healthy', HEALTHY)],
    ['one instance not ready', inPhase(HEALTHY, undefined, 2), result('Progressing', '2 of 3 instances ready')],
    ['no ready count yet', inPhase(HEALTHY, undefined, undefined), result('Progressing', '0 of 3 instances ready')],
    ['more instances wanted than the status counts (scaling up, not yet noticed)',
      cluster({ phase: HEALTHY, instances: 3, readyInstances: 3 }, { instances: 4 }), result('Progressing', '3 of 4 instances ready')],
    ['fewer instances wanted than are ready (scaling down)', cluster({ phase: HEALTHY, instances: 3, readyInstances: 3 }, { instances: 2 }),
      result('Progressing', '3 of 2 instances ready')],
  ])('healthy phase, %s', (_, obj, expected) => expect(health(CLUSTER, obj)).toEqual(expected));

  test.each<[string, Obj, HealthResult]>([
    ['no status', cluster(undefined), result('Progressing', "Waiting for the operator to report the cluster's phase")],
    ['a status without a phase', cluster({ conditions: [condition('Ready', 'False', 'ClusterIsNotReady', 'Cluster Is Not Ready')] }),
      result('Progressing', "Waiting for the operator to report the cluster's phase")],
    ['a supervised update waiting for a switchover', inPhase(WAITING_FOR_USER, 'User must issue a supervised switchover', 3),
      result('Suspended', 'User must issue a supervised switchover')],
    ['reconciliation switched off, whatever the phase',
      cluster({ phase: 'Cluster is unrecoverable and needs manual intervention' }, { annotations: { 'cnpg.io/reconciliationLoop': 'disabled' } }),
      result('Suspended', 'Cluster reconciliation is suspended')],
    ['hibernated', inPhase(HEALTHY, undefined, 0, { conditions: [clusterReady(true), condition('cnpg.io/hibernation', 'True', 'Hibernated', 'Cluster has been hibernated')] }),
      result('Suspended', 'Cluster has been hibernated')],
    ['hibernating (pods going)', inPhase(HEALTHY, undefined, 1, { conditions: [clusterReady(true), condition('cnpg.io/hibernation', 'False', 'DeletingPods', 'Hibernation is in progress')] }),
      result('Progressing', 'Hibernation is in progress')],
    ['asked to hibernate while broken: the failure shows',
      inPhase(BAD[0], 'No pods are active', 0, { conditions: [clusterReady(false), condition('cnpg.io/hibernation', 'False', 'WaitingForHealthy', 'Waiting for the cluster to be healthy')] }),
      result('Degraded', 'No pods are active')],
    ['a phase of a newer operator', inPhase('Doing something new', 'because', 3), result('Unknown', 'Unrecognised phase: Doing something new (because)')],
  ])('%s', (_, obj, expected) => expect(health(CLUSTER, obj)).toEqual(expected));

  test("the built-in check fails a sync on a parameter change, a switchover and a failover; this one waits", () => {
    for (const phase of ['Applying configuration', 'Switchover in progress', 'Failing over']) {
      expect({ phase, ...builtIn(CLUSTER, inPhase(phase, 'x', 2)) }).toEqual({ phase, ...result('Degraded', 'x') });
      expect({ phase, ...health(CLUSTER, inPhase(phase, 'x', 2)) }).toEqual({ phase, ...result('Progressing', 'x') });
    }
  });
});

describe('cert-manager.io/Certificate', () => {
  test.each<[string, Obj, HealthResult]>([
    ['no status', certificate(undefined), result('Progressing', 'Waiting for certificate')],
    ['no conditions', certificate([]), result('Progressing', 'Waiting for certificate')],
    ['issuing a new certificate', certificate([readyFalse, issuingNew]), result('Progressing', NO_SECRET)],
    ['issuing, conditions the other way round', certificate([issuingNew, readyFalse]), result('Progressing', NO_SECRET)],
    ['Ready=False before Issuing=True is written', certificate([readyFalse]), result('Progressing', NO_SECRET)],
    ['ready', certificate([readyTrue, issuingDone]), result('Healthy', 'Certificate is up to date and has not expired')],
    ['ready and renewing', certificate([readyTrue, issuingRenewal]), result('Healthy', `Certificate is up to date and has not expired; renewing: ${RENEWING}`)],
    ['ready, the last renewal failed', certificate([readyTrue, issuingFailed]),
      result('Healthy', `Certificate is up to date and has not expired; last renewal failed: ${FAILED}`)],
    ['issuance failed (cert-manager backs off)', certificate([readyFalse, issuingFailed]), result('Degraded', FAILED)],
    ['ready for an older generation of the spec', certificate([readyTrue], 2), result('Progressing', 'Waiting for cert-manager to check generation 2')],
  ])('%s', (_, obj, expected) => expect(health(CERTIFICATE, obj)).toEqual(expected));

  test('the built-in check fails a sync on the Ready=False that precedes Issuing=True, and holds it while a valid certificate renews', () => {
    expect(builtIn(CERTIFICATE, certificate([readyFalse]))).toEqual(result('Degraded', NO_SECRET));
    expect(builtIn(CERTIFICATE, certificate([readyTrue, issuingRenewal]))).toEqual(result('Progressing', RENEWING));
  });
});

describe('gateway.networking.k8s.io/Gateway', () => {
  test.each<[string, Obj, HealthResult]>([
    ['no status', gateway(undefined), result('Progressing', 'Waiting for Gateway status')],
    ['programmed, every listener ready', gateway({ conditions: gatewayProgrammed, listeners: [listenerOk('http'), listenerOk('https-shop-example-com')] }),
      result('Healthy', 'Gateway is healthy')],
    ["the HTTPS listener's certificate Secret not written yet",
      gateway({ conditions: gatewayProgrammed, listeners: [listenerOk('http'), listenerNoCert] }),
      result('Progressing', `Listener https-shop-example-com: waiting for its certificate: ${NO_CERT}`)],
    ['no address yet', gateway({ conditions: gatewayNoAddress, listeners: [listenerOk('http'), listenerNoCert] }),
      result('Progressing', 'No addresses have been assigned to the Gateway')],
    ['status of an older generation (a listener just added)', gateway({ conditions: gatewayProgrammed, listeners: [listenerOk('http')] }, 2),
      result('Progressing', 'Waiting for the controller to observe generation 2')],
    ['a certificate reference not permitted', gateway({ conditions: gatewayProgrammed, listeners: [listenerOk('http'), listenerRefNotPermitted] }),
      result('Degraded', `Listener https-shop-example-com: ${NOT_PERMITTED}`)],
    ['a listener not accepted, and another waiting for its certificate', gateway({ conditions: gatewayNoAddress, listeners: [listenerNoCert, listenerNotAccepted] }),
      result('Degraded', 'Listener http: Protocol UDP is unsupported, must be HTTP, HTTPS, TCP or TLS.')],
    ['the Gateway not accepted',
      gateway({ conditions: [condition('Accepted', 'False', 'InvalidParameters', 'Gateway parameters are invalid'), gatewayNoAddress[1]], listeners: [] }),
      result('Degraded', 'Gateway parameters are invalid')],
    ['a listener still being programmed', gateway({
      conditions: gatewayProgrammed,
      listeners: [{ ...listenerOk('http'), conditions: [condition('Programmed', 'False', 'Pending', 'Listener is being programmed'), ...listenerOk('http').conditions.slice(1)] }],
    }), result('Progressing', 'Listener http: Listener is being programmed')],
  ])('%s', (_, obj, expected) => expect(health(GATEWAY, obj)).toEqual(expected));

  test("the built-in check fails a sync while cert-manager issues the listener's certificate", () => {
    expect(builtIn(GATEWAY, gateway({ conditions: gatewayProgrammed, listeners: [listenerOk('http'), listenerNoCert] })))
      .toEqual(result('Degraded', `Listener: ${NO_CERT}`));
  });
});

describe("this project's checks on Argo CD's samples", () => {
  // Where they differ from the built-in's expectation, the comment says why.
  const byKind: Record<string, HealthCheck> = { Cluster: CLUSTER, Certificate: CERTIFICATE, Gateway: GATEWAY };
  test.each<[string, string, HealthResult]>([
    ['Cluster', 'cluster_progressing.yaml', result('Progressing', 'Creating primary instance cluster-example-1')],
    ['Cluster', 'cluster_healthy.yaml', result('Healthy', 'Cluster in healthy state')],
    ['Cluster', 'cluster_suspended.yaml', result('Suspended', 'Cluster has been hibernated')],
    // Built-in: Degraded. The operator fails over by itself.
    ['Cluster', 'cluster_degraded.yaml', result('Progressing', 'Initiating a failover from cluster-example-2')],
    ['Cluster', 'cluster_reconcile_suspended.yaml', result('Suspended', 'Cluster reconciliation is suspended')],
    ['Certificate', 'progressing_noStatus.yaml', result('Progressing', 'Waiting for certificate')],
    ['Certificate', 'progressing_issuing.yaml', result('Progressing', NO_SECRET)],
    ['Certificate', 'progressing_issuing_last.yaml', result('Progressing', NO_SECRET)],
    // Built-in: Degraded. A Ready=False of cert-manager 0.x; since 1.0 a failed issuance is on
    // the Issuing condition, and Ready=False alone is the moment before issuing starts.
    ['Certificate', 'degraded_configError.yaml',
      result('Progressing', 'Resource validation failed: spec.acme.config: Required value: no ACME solver configuration specified for domain "cd.apps.argoproj.io"')],
    ['Certificate', 'healthy_issued.yaml', result('Healthy', 'Certificate issued successfully')],
    ['Certificate', 'healthy_renewed.yaml', result('Healthy', 'Certificate renewed successfully')],
    ['Gateway', 'healthy.yaml', result('Healthy', 'Gateway is healthy')],
    ['Gateway', 'degraded_resolved_refs.yaml', result('Degraded', 'Failed to resolve references')],
    ['Gateway', 'degraded_accepted.yaml', result('Degraded', 'Gateway has not been accepted by any controller')],
    ['Gateway', 'listener_degraded.yaml', result('Degraded', 'Listener http: Listener has not been accepted')],
    ['Gateway', 'progressing.yaml', result('Progressing', 'Gateway is still being programmed')],
  ])('%s %s', (kind, file, expected) => {
    const c = byKind[kind];
    const sample = parse(readFileSync(join(UPSTREAM, c.group, c.kind, 'testdata', file), 'utf8')) as Obj;
    expect(health(c, sample)).toEqual(expected);
  });
});
