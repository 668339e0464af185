/**
 * Loki's release as the gitops chart synthesizes it for an environment: its tenants and their
 * retention follow `logging.retention`, its chunks and index go to the environment's bucket under a
 * prefix of their own, and the bucket's credentials reach it only from the Secret that External
 * Secrets syncs into Loki's namespace, before Loki starts. Every key is checked against the pinned
 * chart's values.yaml by test/platform-values.test.ts; here what `loki.storage`, free-form upstream,
 * holds is checked key by key. The ruler reads the rule files its sidecar brings from Loki's own
 * namespace, with or without object storage, and posts alerts to Alertmanager.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import { ALERTMANAGER_PORT, ALERTMANAGER_SERVICE } from '../charts/gitops/values/kube-prometheus-stack';
import {
  LOKI_CREDENTIAL_ENV, LOKI_RULES_SIDECAR, LOKI_STORAGE_PREFIX, LOKI_STORAGE_SECRET, LOKI_TENANTS, lokiRetention, type LokiObjectStorage, type LokiValues,
} from '../charts/gitops/values/loki';
import { LOG_TYPES } from '../charts/logging/log-streams';
import { ALERT_EVALUATION_INTERVAL } from '../charts/observability/alert-rules';
import { environments } from '../environments/index';
import { resolveEnvironment } from '../environments/load';
import { buildModel, type Model } from '../environments/model/model';
import { OBJECT_STORAGE_KEYS } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { boxDesignerWithoutData, REPOSITORY_ROOT, shop, variantModel } from './support/fixtures';
import { CHARTS_DIR, chartDefaults } from './support/helm-values';
import { only } from './support/synth-construct';

const LOKI_NAMESPACE = PLATFORM_RELEASES.loki.namespace;
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

/** The argocd/<env> objects of a model. */
const argo = (model: Model) => argocdObjects(model, modelObjects(model));
/** The loki Application's values, as Argo CD passes them to the chart. */
const lokiOf = (objects: readonly K8sObject[]) => only(objects, 'Application', 'loki').spec.source.helm.valuesObject as LokiValues;
const storageOf = (values: LokiValues) => values.loki.storage as LokiObjectStorage;

const shopModel = variantModel(shop);
const shopObjects = argo(shopModel);
const shopLoki = lokiOf(shopObjects);

describe('tenants and retention from logging.retention', () => {
  test('defaults: 30 days of application logs, 400 of the audit stream, each its tenant\'s, in hours', () => {
    expect(shopModel.env.logging.retention).toEqual({ application: '720h', audit: '9600h' });
    expect(LOKI_TENANTS).toEqual({ application: 'application', audit: 'audit' });
    expect(shopLoki.loki.auth_enabled).toBe(true);
    const stream = (type: string, period: string) => ({ selector: `{log_type="${type}"}`, priority: 1, period });
    expect(shopLoki.loki.runtimeConfig).toEqual({
      overrides: {
        application: { retention_period: '720h', max_query_length: '720h', retention_stream: [stream('application', '720h'), stream('access', '720h')] },
        audit: {
          retention_period: '9600h',
          // An auditor asks over the whole trail (Loki's default allows a month).
          max_query_length: '9600h',
          retention_stream: ['audit', 'delivery', 'security', 'kubernetes_audit'].map((type) => stream(type, '9600h')),
        },
      },
    });
    // Every log type's streams are kept for its own tenant's retention: none falls to the default.
    for (const [type, { tenant }] of Object.entries(LOG_TYPES)) {
      expect(shopLoki.loki.runtimeConfig.overrides[tenant].retention_stream.map((r) => r.selector)).toContain(`{log_type="${type}"}`);
    }
    // Loki 3 would add a service_name label the collector does not set.
    expect(shopLoki.loki.limits_config.discover_service_name).toEqual([]);
    // Nothing is deleted but by retention: no delete API, whoever reaches Loki.
    expect(shopLoki.loki.limits_config.deletion_mode).toBe('disabled');
    // A tenant without an override (none should exist) gets the shorter retention, not the audit trail's.
    expect(shopLoki.loki.limits_config.retention_period).toBe('720h');
    expect(shopLoki.loki.compactor).toEqual({ retention_enabled: true, delete_request_store: 's3' });
  });

  test('a change of the configuration reaches each tenant, and only its own', () => {
    const loki = lokiOf(argo(variantModel(shop, { logging: { retention: { application: '168h', audit: '17520h' } } })));
    const periods = (values: LokiValues) => Object.fromEntries(Object.entries(values.loki.runtimeConfig.overrides)
      .map(([tenant, limits]) => [tenant, [...new Set([limits.retention_period, ...limits.retention_stream.map((r) => r.period)])]]));
    expect(periods(loki)).toEqual({ [LOKI_TENANTS.application]: ['168h'], [LOKI_TENANTS.audit]: ['17520h'] });
    expect(loki.loki.limits_config.retention_period).toBe('168h');
    const auditOnly = lokiOf(argo(variantModel(shop, { logging: { retention: { audit: '8760h' } } })));
    expect(periods(auditOnly)).toEqual({ application: ['720h'], audit: ['8760h'] });
  });

  test('Loki\'s hours from the configuration\'s duration', () => {
    expect(lokiRetention('720h')).toBe('720h');
    expect(lokiRetention('1440m')).toBe('24h');
    expect(lokiRetention('86400s')).toBe('24h');
  });

  test('the real environments: production keeps the audit stream at least a year', () => {
    for (const name of ['staging', 'production'] as const) {
      const env = realEnvironment(name);
      const loki = lokiOf(argo(buildModel(env)));
      expect(loki.loki.runtimeConfig.overrides.audit.retention_period).toBe(lokiRetention(env.logging.retention.audit));
      expect(loki.loki.runtimeConfig.overrides.application.retention_period).toBe(lokiRetention(env.logging.retention.application));
      expect(storageOf(loki).bucketNames.chunks).toBe(env.objectStorage?.bucket);
    }
    expect(Number.parseInt(lokiOf(argo(buildModel(realEnvironment('production')))).loki.runtimeConfig.overrides.audit.retention_period, 10)).toBeGreaterThanOrEqual(365 * 24);
  });
});

describe('storage', () => {
  test('TSDB v13 with a 24h index on the environment\'s bucket, under Loki\'s own prefix, three replicas writing each stream to all', () => {
    expect(shopLoki.deploymentMode).toBe('Monolithic');
    expect(shopLoki.loki.schemaConfig.configs).toEqual([{ from: '2024-04-01', store: 'tsdb', object_store: 's3', schema: 'v13', index: { prefix: 'index_', period: '24h' } }]);
    const storage = storageOf(shopLoki);
    expect(storage).toMatchObject({
      type: 's3', use_thanos_objstore: true, bucketNames: { chunks: 'shop-backups', ruler: 'shop-backups' },
      object_store: { type: 's3', storage_prefix: LOKI_STORAGE_PREFIX, s3: { endpoint: 'objects.shop.test', region: 'test-1', insecure: false } },
    });
    // Not a prefix the backups write under (postgresql/, restic/), and only letters and digits (Loki's rule).
    expect(LOKI_STORAGE_PREFIX).toMatch(/^[A-Za-z0-9]+$/);
    expect(['postgresql', 'restic']).not.toContain(LOKI_STORAGE_PREFIX);
    expect(shopLoki.singleBinary.replicas).toBe(3);
    expect(shopLoki.loki.commonConfig.replication_factor).toBe(3);
    expect(shopLoki.singleBinary.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
    expect(shopLoki.singleBinary.resources.limits.memory).toBeDefined();
  });

  test('two gateways, one of which may be evicted at a time: a node\'s drain stops neither pushes nor searches', () => {
    expect(shopLoki.gateway.replicas).toBe(2);
    expect(shopLoki.gateway.podDisruptionBudget).toEqual({ enabled: true, maxUnavailable: 1 });
    expect(shopLoki.gateway.resources.limits.memory).toBeDefined();
    // The chart keeps the two apart: a hard anti-affinity on the node (values.yaml gateway.affinity).
    const affinity = (chartDefaults('loki').gateway as { affinity: { podAntiAffinity: Record<string, { topologyKey: string }[]> } }).affinity;
    expect(affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
  });

  test('an endpoint with a port keeps it; the https default is left out', () => {
    const loki = lokiOf(argo(variantModel(shop, { objectStorage: { endpointURL: 'https://minio.storage.internal:9000' } })));
    expect(storageOf(loki).object_store.s3.endpoint).toBe('minio.storage.internal:9000');
    const slash = lokiOf(argo(variantModel(shop, { objectStorage: { endpointURL: 'https://objects.shop.test:443/' } })));
    expect(storageOf(slash).object_store.s3.endpoint).toBe('objects.shop.test');
  });

  test('every key under loki.storage but bucketNames is one of values.yaml (the chart leaves loki.storage free-form)', () => {
    const upstream = (chartDefaults('loki').loki as Record<string, unknown>).storage as Record<string, Record<string, unknown>>;
    const storage = storageOf(shopLoki);
    expect(Object.keys(storage).filter((k) => k !== 'bucketNames' && !Object.hasOwn(upstream, k))).toEqual([]);
    expect(Object.keys(storage.object_store).filter((k) => !Object.hasOwn(upstream.object_store, k))).toEqual([]);
    expect(Object.keys(storage.object_store.s3).filter((k) => !Object.hasOwn(upstream.object_store.s3 as object, k))).toEqual([]);
  });

  test('without objectStorage (outside production): one replica on its volume, no credentials, no ExternalSecret', () => {
    const model = buildModel(boxDesignerWithoutData());
    const objects = argo(model);
    const loki = lokiOf(objects);
    expect(loki.loki.storage).toEqual({ type: 'filesystem' });
    expect(loki.loki.compactor.delete_request_store).toBe('filesystem');
    expect(loki.loki.schemaConfig.configs.map((c) => c.object_store)).toEqual(['filesystem']);
    // templates/validate.yaml: no more than one single binary without object storage.
    expect([loki.singleBinary.replicas, loki.loki.commonConfig.replication_factor]).toEqual([1, 1]);
    expect([loki.singleBinary.extraArgs, loki.singleBinary.extraEnv]).toEqual([[], []]);
    expect(objects.filter((o) => o.kind === 'ExternalSecret' && o.metadata.namespace === LOKI_NAMESPACE)).toEqual([]);
    // The bootstrap project still reaches Loki's namespace: for its NetworkPolicies and the audit trail's rules, which every environment has.
    expect(objects.filter((o) => o.metadata.namespace === LOKI_NAMESPACE).map((o) => o.kind)).toEqual(['NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'ConfigMap']);
    // Tenants and retention do not depend on where the logs are.
    expect(loki.loki.runtimeConfig).toEqual(shopLoki.loki.runtimeConfig);
  });
});

describe('the bucket\'s credentials come from the secret manager, never from the values', () => {
  const secret = only(shopObjects, 'ExternalSecret', LOKI_STORAGE_SECRET);

  test('an ExternalSecret in Loki\'s namespace reads the object-storage entry the backups read, before Loki and after External Secrets', () => {
    expect(secret.metadata.namespace).toBe(LOKI_NAMESPACE);
    expect(secret.spec).toMatchObject({
      secretStoreRef: { name: 'test-store', kind: 'ClusterSecretStore' },
      refreshInterval: '30m',
      target: { name: LOKI_STORAGE_SECRET, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
    });
    type Entry = { secretKey: string; remoteRef: { key: string; property: string } };
    expect(secret.spec.data.map((d: Entry) => [d.secretKey, d.remoteRef.key, d.remoteRef.property]))
      .toEqual(Object.values(OBJECT_STORAGE_KEYS).map((k) => [k, 'shop/test/object-storage', k]));
    // Nothing but references: no template with literal values.
    expect(secret.spec.target.template).toBeUndefined();
    const w = (name: string) => wave(only(shopObjects, 'Application', name));
    expect(wave(secret)).toBe(ROOT_WAVES.lokiStorage);
    expect(wave(secret)).toBeGreaterThan(w('external-secrets'));
    expect(wave(secret)).toBeLessThan(w('loki'));
    expect(only(shopObjects, 'AppProject', 'bootstrap').spec.destinations.map((d: { namespace: string }) => d.namespace)).toContain(LOKI_NAMESPACE);
  });

  test('the configuration names variables; each is set from a key the ExternalSecret writes; Loki expands them', () => {
    const s3 = storageOf(shopLoki).object_store.s3;
    const referenced = [s3.access_key_id, s3.secret_access_key].map((v) => /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(v)?.[1]);
    expect(referenced).toEqual([LOKI_CREDENTIAL_ENV.accessKeyId, LOKI_CREDENTIAL_ENV.secretAccessKey]);
    const env = new Map(shopLoki.singleBinary.extraEnv.map((e) => [e.name, e.valueFrom.secretKeyRef]));
    const written = secret.spec.data.map((d: { secretKey: string }) => d.secretKey);
    for (const name of referenced) {
      const ref = env.get(name as string);
      expect(ref?.name).toBe(LOKI_STORAGE_SECRET);
      expect(written).toContain(ref?.key);
    }
    expect(shopLoki.singleBinary.extraArgs).toContain('-config.expand-env=true');
  });

  test('no credential value in any synthesized object: credential fields hold only ${VAR} references', () => {
    // An object holding something shaped like an AWS access key ID, or a credential field with
    // anything but a reference Loki expands from its environment, fails.
    const all = [...shopObjects, ...modelObjects(shopModel).map((o) => o.object)];
    const text = JSON.stringify(all);
    expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    const credentialFields = [...text.matchAll(/"(access_key_id|secret_access_key|accessKeyId|secretAccessKey)":"([^"]*)"/g)].map((m) => m[2]);
    expect(credentialFields.length).toBeGreaterThan(0);
    for (const value of credentialFields) expect(value).toMatch(/^\$\{[A-Z_][A-Z0-9_]*\}$/);
  });
});

describe('the ruler: rules from the sidecar\'s folder, alerts to Alertmanager', () => {
  const upstream = chartDefaults('loki') as Record<string, any>;
  const { chart, version } = PLATFORM_RELEASES.loki;
  const valuesText = readFileSync(join(CHARTS_DIR, `${chart}-${version}`, 'values.yaml'), 'utf8');
  const withoutBucket = lokiOf(argo(buildModel(boxDesignerWithoutData())));
  const local = { directory: LOKI_RULES_SIDECAR.folder };

  test('the chart runs the ruler and the rules sidecar in the single binary; its RBAC is namespaced: a Role in Loki\'s namespace, no ClusterRole', () => {
    // Left at the chart's defaults: the ruler's configuration is rendered only with the ruler on,
    // the sidecar runs only in a component whose `sidecar` is true.
    const { ruler, singleBinary, sidecar, rbac } = upstream;
    expect([ruler.enabled, singleBinary.sidecar, sidecar.rules.enabled]).toEqual([true, true, true]);
    // The chart's default would render a ClusterRole reading every namespace's ConfigMaps and
    // Secrets (templates/backend/clusterrole.yaml at loki-18.11.0, while `rbac.namespaced` is false);
    // namespaced, a Role and RoleBinding in Loki's namespace with the same rule, for the single
    // binary's ServiceAccount (templates/role.yaml, rolebinding.yaml: rendered when `rbac.namespaced`
    // and `sidecar.rules.enabled`). Chart templates are not in ../shared/charts: the values say it.
    expect(rbac.namespaced).toBe(false);
    expect(valuesText).toContain('# -- Whether to install RBAC in the namespace only or cluster-wide.');
    for (const values of [shopLoki, withoutBucket] as unknown as Record<string, any>[]) {
      expect(values.ruler).toBeUndefined();
      expect(values.rbac).toEqual({ namespaced: true });
      expect(values.sidecar.rules.enabled).toBeUndefined();
      expect(values.singleBinary.sidecar).toBeUndefined();
    }
  });

  test('the sidecar reads Loki\'s namespace alone, ConfigMaps only, with the label and folder annotation of the rules ConfigMaps', () => {
    expect(shopLoki.sidecar.rules).toEqual({
      label: 'loki_rule', labelValue: '1', folder: '/rules', folderAnnotation: 'k8s-sidecar-target-directory', searchNamespace: LOKI_NAMESPACE, resource: 'configmap',
    });
    // Not the application's namespace, whoever configures it, and never every namespace (`ALL`).
    expect(LOKI_NAMESPACE).toBe('logging');
    const elsewhere = lokiOf(argo(variantModel(shop, { app: { namespace: 'elsewhere' } })));
    expect(elsewhere.sidecar.rules.searchNamespace).toBe(LOKI_NAMESPACE);
    // The one ConfigMap it loads is there, made by the root Application (test/audit-alerts.test.ts).
    expect(shopObjects.filter((o) => o.metadata.labels?.[LOKI_RULES_SIDECAR.label] !== undefined).map((o) => `${o.kind} ${o.metadata.namespace}`))
      .toEqual([`ConfigMap ${LOKI_NAMESPACE}`]);
    // The chart's own label and folder: written out, not changed.
    expect([upstream.sidecar.rules.label, upstream.sidecar.rules.folder]).toEqual([LOKI_RULES_SIDECAR.label, LOKI_RULES_SIDECAR.folder]);
  });

  test('with object storage, Loki reads ruler_storage: the sidecar\'s folder, set over the bucket the chart renders there', () => {
    expect(storageOf(shopLoki).use_thanos_objstore).toBe(true);
    // values.yaml's configuration template writes ruler_storage with the bucket whenever the
    // Thanos clients are on and the ruler runs; structuredConfig is merged over it.
    expect(valuesText).toContain('{{- if and .Values.loki.storage.use_thanos_objstore .Values.ruler.enabled}}\n    ruler_storage:');
    expect(shopLoki.loki.structuredConfig).toEqual({ ruler_storage: { backend: 'local', local } });
    expect(shopLoki.loki.rulerConfig.storage).toEqual({ type: 'local', local });
  });

  test('without object storage, Loki reads ruler.storage, local at the sidecar\'s folder; no ruler_storage', () => {
    expect(withoutBucket.loki.storage).not.toHaveProperty('use_thanos_objstore');
    expect(upstream.loki.storage.use_thanos_objstore).toBe(false);
    expect(withoutBucket.loki.structuredConfig).toEqual({});
    expect(withoutBucket.loki.rulerConfig.storage).toEqual({ type: 'local', local });
  });

  test('alerts go to kube-prometheus-stack\'s Alertmanager, in the configured monitoring namespace and cluster domain', () => {
    expect(shopLoki.loki.rulerConfig.alertmanager_url).toBe('http://kube-prometheus-stack-alertmanager.monitoring.svc.cluster.local:9093');
    const elsewhere = lokiOf(argo(variantModel(shop, { monitoringNamespace: 'observability', clusterDomain: 'k8s.example' })));
    expect(elsewhere.loki.rulerConfig.alertmanager_url).toBe('http://kube-prometheus-stack-alertmanager.observability.svc.k8s.example:9093');
    // The Service those name: kube-prometheus-stack's, at its chart's port.
    const kps = only(shopObjects, 'Application', 'kube-prometheus-stack').spec.source.helm.valuesObject;
    expect(`${kps.fullnameOverride}-alertmanager`).toBe(ALERTMANAGER_SERVICE);
    expect((chartDefaults('kube-prometheus-stack') as Record<string, any>).alertmanager.service.port).toBe(ALERTMANAGER_PORT);
  });

  test('the API on, groups without an interval every 30 s as Prometheus\' rules, one replica evaluating each group', () => {
    expect(shopLoki.loki.rulerConfig).toMatchObject({ enable_api: true, evaluation_interval: ALERT_EVALUATION_INTERVAL, enable_sharding: true });
    expect(ALERT_EVALUATION_INTERVAL).toBe('30s');
    // A single replica has nobody to share with.
    expect(withoutBucket.loki.rulerConfig.enable_sharding).toBe(false);
  });
});

/** A real environment, resolved as synthesis resolves it. */
function realEnvironment(name: 'staging' | 'production'): Environment {
  const def = environments.find((e) => e.name === name);
  if (!def) throw new Error(`no environment ${name}`);
  return resolveEnvironment(def, REPOSITORY_ROOT);
}
