/**
 * The platform charts' typed values against the charts they are for: the values.yaml and
 * values.schema.json of each pinned chart version in ../shared/charts/<chart>-<version>/ (copied
 * unchanged from upstream; SHARED_DIR overrides ../shared). Every key we write must exist in the
 * chart's values.yaml, or sit below a value upstream leaves free-form, and the values Helm would
 * use (the chart's defaults with ours merged over them) must pass the chart's schema where it has
 * one. Then the settings production relies on, each asserted where it is made.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { repositoryRoot } from '../charts/common/shipped-files';
import { ALERTMANAGER_SECRET, alertmanagerConfig } from '../charts/gitops/alertmanager-config';
import { PLATFORM_RELEASES, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { ALLOY_STORAGE, alloyConfig, alloyValues, lokiPushURL } from '../charts/gitops/values/alloy';
import { argoCdValues } from '../charts/gitops/values/argo-cd';
import { certManagerValues } from '../charts/gitops/values/cert-manager';
import { cloudnativePgValues } from '../charts/gitops/values/cloudnative-pg';
import type { PlatformValuesContext } from '../charts/gitops/values/context';
import { envoyGatewayValues } from '../charts/gitops/values/envoy-gateway';
import { externalSecretsValues } from '../charts/gitops/values/external-secrets';
import { falcoValues } from '../charts/gitops/values/falco';
import { FALCOSIDEKICK_PORT, falcosidekickValues } from '../charts/gitops/values/falcosidekick';
import {
  ALERTMANAGER_PORT, KUBE_PROMETHEUS_STACK_NAME, kubePrometheusStackValues,
} from '../charts/gitops/values/kube-prometheus-stack';
import { LOKI_GATEWAY_PORT, LOKI_STORAGE_SECRET, LOKI_TENANTS, lokiValues } from '../charts/gitops/values/loki';
import { platformValues, PLATFORM_VALUES } from '../charts/gitops/values/platform-values';
import { BARMAN_CLOUD_PLUGIN_VERSION, pluginBarmanCloudValues } from '../charts/gitops/values/plugin-barman-cloud';
import { trivyOperatorValues } from '../charts/gitops/values/trivy-operator';
import { chartDefaults, coalesce } from './support/helm-values';

const SHARED = process.env.SHARED_DIR ?? resolve(repositoryRoot(), '..', 'shared');
const CHARTS = join(SHARED, 'charts');

/** Small, and unlike production's: a value that leaks from anywhere but the context shows up. */
const CTX: PlatformValuesContext = {
  monitoringNamespace: 'observability-test',
  clusterDomain: 'cluster.test',
  argocdNamespace: 'argocd-test',
  gatewayNamespace: 'gateway-test-system',
  gatewayClassName: 'gateway-test',
  prometheus: { retention: '2d', retentionSize: '900MB', storage: { size: '1Gi', storageClass: 'fast-test' } },
  argocdSettings: {
    'application.resourceTrackingMethod': 'annotation',
    'resource.customizations.health.argoproj.io_Application': 'hs = {}\nhs.status = "Healthy"\nreturn hs\n',
  },
  argocdImageTag: 'v3.6.3-test',
  argocdHost: 'argocd.cluster-test.example',
  // Every receiver and trigger in use, so every key the values can have is checked against values.yaml.
  notifications: {
    argocdUrl: 'https://argocd.cluster-test.example', environment: 'env-test',
    routes: { 'on-sync-failed': ['pagerduty'], 'on-health-degraded': ['slack'], 'on-deployed': ['slack'] },
  },
  // Every receiver, email with authentication, so every key Alertmanager's configuration can have is checked.
  alerting: {
    pagerduty: { secretName: 'pd-test' },
    slack: { secretName: 'slack-test', channel: '#test-alerts' },
    email: { to: 'oncall@cluster-test.example', from: 'am@cluster-test.example', smarthost: 'mail.cluster-test.example:587', username: 'am-test', secretName: 'smtp-test' },
    deadMansSwitch: { secretName: 'dms-test' },
  },
  appNamespaces: ['app-test'],
  // Object storage, so that every key Loki's values can have is checked.
  logging: {
    retention: { application: '48h', audit: '120h' },
    objectStorage: { endpointURL: 'https://objects.cluster-test.example:9000', bucket: 'bucket-test', region: 'region-test' },
  },
};

const NAMES = Object.keys(PLATFORM_RELEASES) as PlatformReleaseName[];

type Path = readonly string[];
type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const isEmptyMap = (v: unknown): boolean => isMap(v) && Object.keys(v).length === 0;
const samePath = (a: Path, b: Path) => a.length === b.length && a.every((k, i) => k === b[i]);
/** `a.b["c.d"]`: keys with dots (argocd-cm's) stay one key. */
const show = (path: Path) => path.map((k, i) => (k.includes('.') ? `[${JSON.stringify(k)}]` : i === 0 ? k : `.${k}`)).join('');

/**
 * Values that upstream documents as free-form although its values.yaml gives them entries (an
 * empty map or null is free-form by itself). Each is checked below to be a non-empty map upstream.
 */
const FREE_FORM: Partial<Record<PlatformReleaseName, readonly { readonly path: Path; readonly why: string }[]>> = {
  'argo-cd': [{ path: ['configs', 'cm'], why: 'templates/_helpers.tpl `argo-cd.config.cm` writes every key but create and annotations into argocd-cm' }],
  loki: [
    { path: ['loki', 'limits_config'], why: 'values.yaml marks it `@schema skipProperties:true;additionalProperties:true`; rendered whole into Loki\'s limits_config' },
    {
      path: ['loki', 'rulerConfig'],
      why: 'values.yaml marks it `@schema skipProperties:true;additionalProperties:true` and gives only the WAL\'s directory; merged into Loki\'s ruler block '
        + '(templates/_helpers.tpl `loki.rulerConfig`); its keys are checked in test/loki-values.test.ts',
    },
    {
      path: ['loki', 'storage'],
      why: 'values.yaml marks it `@schema skipProperties:true;additionalProperties:true` and documents bucketNames only in a comment, which '
        + 'templates/_helpers.tpl reads (`loki.storage.bucketNames.chunks`); the keys beside it are checked in test/loki-values.test.ts',
    },
  ],
};
const freeFormOf = (name: PlatformReleaseName): Path[] => (FREE_FORM[name] ?? []).map((f) => f.path);

/**
 * Where `values` sets a key that `upstream` (a chart's values.yaml) does not have, each with its
 * path. Below an upstream value that is null, an empty map, or listed as free-form, anything goes.
 */
function unknownKeys(values: Json, upstream: Json, freeForm: readonly Path[], path: Path = []): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const at = [...path, key];
    if (!Object.hasOwn(upstream, key)) return [`${show(at)}: not in values.yaml`];
    const up = upstream[key];
    if (!isMap(value) || up === null || isEmptyMap(up) || freeForm.some((f) => samePath(f, at))) return [];
    if (!isMap(up)) return [`${show(at)}: a map here, ${JSON.stringify(up)} in values.yaml`];
    return unknownKeys(value, up, freeForm, at);
  });
}

/** Every path `unknownKeys` compares with values.yaml (not those below a free-form value). */
function checkedPaths(values: Json, upstream: Json, freeForm: readonly Path[], path: Path = []): Path[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const at = [...path, key];
    const up = upstream[key];
    const deeper = isMap(value) && isMap(up) && !isEmptyMap(up) && !freeForm.some((f) => samePath(f, at));
    return [at, ...(deeper ? checkedPaths(value, up, freeForm, at) : [])];
  });
}


/** A deep copy sharing no object (structuredClone keeps shared ones shared, and values share constants). */
const copyOf = (values: object) => JSON.parse(JSON.stringify(values)) as Json;

/** A copy of `values` with `value` at `path` (maps created on the way). */
function withValue(values: object, path: Path, value: unknown): Json {
  const copy = copyOf(values);
  let at: Json = copy;
  for (const key of path.slice(0, -1)) {
    if (!isMap(at[key])) at[key] = {};
    at = at[key] as Json;
  }
  at[path[path.length - 1]] = value;
  return copy;
}

/** A copy of `values` whose key at `path` is renamed to `renamed`. */
function withKeyRenamed(values: object, path: Path, renamed: string): Json {
  const copy = copyOf(values);
  const parent = path.slice(0, -1).reduce<Json>((at, key) => at[key] as Json, copy);
  parent[renamed] = parent[path[path.length - 1]];
  delete parent[path[path.length - 1]];
  return copy;
}

interface Chart {
  readonly dir: string;
  readonly source: string;
  readonly defaults: Json;
  readonly valuesText: string;
  /** Validation errors of a values document, or null when the chart's schema accepts it. Absent without a schema. */
  readonly validate?: (values: unknown) => ErrorObject[] | null;
  readonly schemaDraft?: string;
}

/** The JSON Schema dialect a schema declares decides ajv's class (draft-07 is ajv's default). */
function compileSchema(schema: Json): (values: unknown) => ErrorObject[] | null {
  const draft = String(schema.$schema ?? '');
  const options = { strict: false, allErrors: true };
  const ajv = draft.includes('2020-12') ? new Ajv2020(options) : draft.includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (values) => (validate(values) ? null : [...(validate.errors ?? [])]);
}

/**
 * Keys a chart documents only in a comment of its values.yaml (`# storageClassName: default`): taken
 * as known, once the comment is found in the file the key belongs to.
 */
const COMMENTED: Partial<Record<PlatformReleaseName, readonly { readonly path: Path; readonly file: string }[]>> = {
  'kube-prometheus-stack': [{ path: ['grafana', 'persistence', 'storageClassName'], file: 'test/fixtures/charts/grafana-12.11.1/values.yaml' }],
};

const charts = new Map<PlatformReleaseName, Chart>();
/** The defaults with each COMMENTED key of the chart set to null (a value upstream leaves open). */
function withCommented(name: PlatformReleaseName, defaults: Json): Json {
  for (const { path, file } of COMMENTED[name] ?? []) {
    const key = path[path.length - 1];
    if (!readFileSync(join(repositoryRoot(), file), 'utf8').includes(`# ${key}:`)) throw new Error(`${file} documents no ${key}`);
    let at = defaults;
    for (const k of path.slice(0, -1)) at = at[k] as Json;
    at[key] ??= null;
  }
  return defaults;
}

function chart(name: PlatformReleaseName): Chart {
  const cached = charts.get(name);
  if (cached) return cached;
  const release = PLATFORM_RELEASES[name];
  const dir = join(CHARTS, `${release.chart}-${release.version}`);
  if (!existsSync(join(dir, 'values.yaml'))) {
    throw new Error(`${dir}/values.yaml is missing: the values of ${name} cannot be checked against chart ${release.chart} ${release.version}. `
      + 'Bump a version only together with its files in ../shared/charts (or point SHARED_DIR at them).');
  }
  const valuesText = readFileSync(join(dir, 'values.yaml'), 'utf8');
  const schemaFile = join(dir, 'values.schema.json');
  const schema = existsSync(schemaFile) ? JSON.parse(readFileSync(schemaFile, 'utf8')) as Json : undefined;
  const loaded: Chart = {
    dir,
    source: readFileSync(join(dir, 'SOURCE'), 'utf8'),
    defaults: withCommented(name, chartDefaults(name)),
    valuesText,
    ...(schema ? { validate: compileSchema(schema), schemaDraft: String(schema.$schema ?? '') } : {}),
  };
  charts.set(name, loaded);
  return loaded;
}

const valuesOf = (name: PlatformReleaseName, ctx: PlatformValuesContext = CTX) => platformValues(name, ctx) as Json;
const errorsOf = (name: PlatformReleaseName, values: object) => chart(name).validate?.(coalesce(chart(name).defaults, values)) ?? null;
const WITH_SCHEMA = NAMES.filter((name) => existsSync(join(CHARTS, `${PLATFORM_RELEASES[name].chart}-${PLATFORM_RELEASES[name].version}`, 'values.schema.json')));

describe('the pinned charts', () => {
  test.each(NAMES)('%s: ../shared/charts holds the chart and version PLATFORM_RELEASES pins', (name) => {
    const { chart: chartName, version } = PLATFORM_RELEASES[name];
    // SOURCE, not Chart.yaml: gateway-helm's Chart.yaml in its repository says v0.0.0-latest.
    expect(chart(name).source).toMatch(new RegExp(`^chart: ${chartName}$`, 'm'));
    expect(chart(name).source).toMatch(new RegExp(`^version: ${version.replaceAll('.', '\\.')}$`, 'm'));
  });

  test('the charts with a values.schema.json are the ones expected (so none is skipped unnoticed)', () => {
    expect([...WITH_SCHEMA].sort()).toEqual(['cert-manager', 'cloudnative-pg', 'external-secrets', 'loki', 'plugin-barman-cloud']);
  });

  test.each(WITH_SCHEMA)('%s: the chart\'s own defaults pass its schema (the validator reads the schema as upstream means it)', (name) => {
    expect(chart(name).validate?.(chart(name).defaults)).toBeNull();
  });

  test('external-secrets\' schema is draft 2020-12, the others draft-07: each compiles with its own ajv class', () => {
    expect(chart('external-secrets').schemaDraft).toBe('https://json-schema.org/draft/2020-12/schema');
    for (const name of WITH_SCHEMA.filter((n) => n !== 'external-secrets')) expect(chart(name).schemaDraft).toBe('http://json-schema.org/draft-07/schema#');
  });

  test.each(Object.entries(FREE_FORM).flatMap(([name, entries]) => entries.map((e) => [name, show(e.path), e.path] as const)))(
    '%s: %s, listed as free-form, is a map with entries upstream (an empty one needs no listing)', (name, _shown, path) => {
      const up = path.reduce<unknown>((at, key) => (isMap(at) ? at[key] : undefined), chart(name as PlatformReleaseName).defaults);
      expect(isMap(up) && !isEmptyMap(up)).toBe(true);
    },
  );
});

describe('platformValues', () => {
  test('has values for every release, and nothing else', () => {
    expect(Object.keys(PLATFORM_VALUES).sort()).toEqual([...NAMES].sort());
  });

  test.each(NAMES)('%s: plain JSON (what Argo CD\'s valuesObject carries), no undefined or functions', (name) => {
    const values = valuesOf(name);
    expect(JSON.parse(JSON.stringify(values))).toEqual(values);
    expect(Object.keys(values).length).toBeGreaterThan(0);
  });

  test.each(NAMES)('%s: every key exists in the chart\'s values.yaml', (name) => {
    expect(unknownKeys(valuesOf(name), chart(name).defaults, freeFormOf(name))).toEqual([]);
  });

  test.each(WITH_SCHEMA)('%s: the values Helm would use pass the chart\'s values.schema.json', (name) => {
    expect(errorsOf(name, valuesOf(name))).toBeNull();
  });

  // A production value must never be a literal secret: secrets come from External Secrets.
  const SECRET_KEY = /(password|passwd|secretkey|secret_?access_?key|token|api_?key|private_?key|webhook_?url|client_?secret)$/i;
  const SECRET_VALUE = /hooks\.slack\.com|events\.pagerduty\.com|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  function secretMaterial(values: unknown, path: Path = []): string[] {
    if (Array.isArray(values)) return values.flatMap((v, i) => secretMaterial(v, [...path, String(i)]));
    if (isMap(values)) return Object.entries(values).flatMap(([k, v]) => secretMaterial(v, [...path, k]));
    // A whole `${VAR}` is a reference the program expands from its environment (Loki's -config.expand-env), not the secret.
    if (typeof values !== 'string' || values === '' || /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(values)) return [];
    const key = path[path.length - 1] ?? '';
    return SECRET_KEY.test(key) || SECRET_VALUE.test(values) ? [show(path)] : [];
  }

  test.each(NAMES)('%s: no secret material (passwords, tokens, keys, webhook URLs)', (name) => {
    expect(secretMaterial(valuesOf(name))).toEqual([]);
  });

  test('the secret check finds a webhook URL, a password and a private key', () => {
    const leaky = {
      config: { slack: { webhookurl: 'https://hooks.slack.com/services/T0/B0/x' } },
      admin: { password: 'hunter2' },
      tls: { key: '-----BEGIN RSA PRIVATE KEY-----\nMII\n' },
      admin2: { existingSecret: 'grafana-admin' },
      s3: { secret_access_key: 'wJalrXUtnFEMI', access_key_id: '${S3_KEY_ID}' },
      s3ref: { secret_access_key: '${S3_SECRET}', also: { secret_access_key: 'prefix-${S3_SECRET}' } },
    };
    expect(secretMaterial(leaky)).toEqual(['config.slack.webhookurl', 'admin.password', 'tls.key', 's3.secret_access_key', 's3ref.also.secret_access_key']);
  });
});

describe('the checks fail when they should', () => {
  test.each(NAMES)('%s: a misspelt key at the deepest checked place is reported by its path', (name) => {
    const values = valuesOf(name);
    const paths = checkedPaths(values, chart(name).defaults, freeFormOf(name));
    const deepest = paths.reduce((a, b) => (b.length > a.length ? b : a));
    const misspelt = withKeyRenamed(values, deepest, `${deepest[deepest.length - 1]}Typo`);
    const typoPath = [...deepest.slice(0, -1), `${deepest[deepest.length - 1]}Typo`];
    expect(unknownKeys(misspelt, chart(name).defaults, freeFormOf(name))).toEqual([`${show(typoPath)}: not in values.yaml`]);
  });

  test('a key under a value upstream leaves free-form is accepted; the same key one level up is not', () => {
    const defaults = chart('cert-manager').defaults;
    expect(unknownKeys({ config: { gatewayAPI: { enabled: true } } }, defaults, [])).toEqual([]);
    expect(unknownKeys({ confg: { gatewayAPI: { enabled: true } } }, defaults, [])).toEqual(['confg: not in values.yaml']);
    expect(unknownKeys({ prometheus: { servicemonitor: { enabled: true, intervall: '1m' } } }, defaults, []))
      .toEqual(['prometheus.servicemonitor.intervall: not in values.yaml']);
  });

  test('argocd-cm entries pass only because configs.cm is listed as free-form', () => {
    const values = valuesOf('argo-cd');
    expect(unknownKeys(values, chart('argo-cd').defaults, [])).toContain(
      'configs.cm["resource.customizations.health.argoproj.io_Application"]: not in values.yaml');
  });

  test('a map where values.yaml has a scalar is reported', () => {
    expect(unknownKeys({ replicaCount: { min: 2 } }, chart('cert-manager').defaults, [])).toEqual(['replicaCount: a map here, 1 in values.yaml']);
  });

  const WRONG: readonly (readonly [PlatformReleaseName, Path, unknown, string])[] = [
    ['cert-manager', ['crds', 'enabled'], 'yes', '/crds/enabled'],
    ['cert-manager', ['webhook', 'replicaCnt'], 2, '/webhook'],
    ['external-secrets', ['serviceMonitor', 'renderMode'], 'sometimes', '/serviceMonitor/renderMode'],
    ['cloudnative-pg', ['replicaCount'], 'two', '/replicaCount'],
    ['plugin-barman-cloud', ['image', 'tag'], 14, '/image/tag'],
    ['loki', ['singleBinary', 'replicas'], 'one', '/singleBinary/replicas'],
  ];
  test.each(WRONG)('%s: the schema rejects %j = %j (error at %s)', (name, path, value, instancePath) => {
    const errors = errorsOf(name, withValue(valuesOf(name), path, value));
    expect(errors?.map((e) => e.instancePath)).toContain(instancePath);
  });

  test('every chart with a schema has a wrong value above that it rejects', () => {
    expect([...new Set(WRONG.map(([name]) => name))].sort()).toEqual([...WITH_SCHEMA].sort());
  });

  test('coalescing merges maps, replaces the rest and deletes on null, as Helm does', () => {
    expect(coalesce({ a: { b: 1, c: 2 }, d: [1], e: 'x' }, { a: { c: 3 }, d: [2], e: null })).toEqual({ a: { b: 1, c: 3 }, d: [2] });
  });
});

describe('production settings', () => {
  test('argo-cd: notifications from the context, the Secret not the chart\'s, services, templates and triggers only for the routes used', () => {
    const { notifications } = argoCdValues(CTX);
    expect(notifications.argocdUrl).toBe('https://argocd.cluster-test.example');
    expect(notifications.context).toEqual({ environment: 'env-test' });
    expect(notifications.secret).toEqual({ create: false, name: 'argocd-notifications-secret' });
    expect(Object.keys(notifications.notifiers).sort()).toEqual(['service.pagerdutyv2', 'service.webhook.slack-webhook']);
    expect(Object.keys(notifications.triggers).sort()).toEqual(['trigger.on-deployed', 'trigger.on-health-degraded', 'trigger.on-sync-failed']);
    const slackOnly = argoCdValues({ ...CTX, notifications: { ...CTX.notifications, routes: { ...CTX.notifications.routes, 'on-sync-failed': ['slack'] } } });
    expect(Object.keys(slackOnly.notifications.notifiers)).toEqual(['service.webhook.slack-webhook']);
    // The chart's default Secret name, which the controller reads.
    expect(((chart('argo-cd').defaults.notifications as Json).secret as Json).name).toBe('argocd-notifications-secret');
  });

  test('argo-cd: the image and host from the context, our argocd-cm entries, the chart\'s (older) CRDs not installed but kept, metrics scraped', () => {
    const values = argoCdValues(CTX);
    expect(values.global.image.tag).toBe('v3.6.3-test');
    expect(values.global.domain).toBe('argocd.cluster-test.example');
    // JSON logs: the collector reads their level, and the delivery audit keeps them field by field.
    expect(values.global.logging).toEqual({ format: 'json', level: 'info' });
    expect((chart('argo-cd').defaults.global as Json).logging).toEqual({ format: 'text', level: 'info' });
    expect(values.configs.cm).toEqual(CTX.argocdSettings);
    expect(values.crds).toEqual({ install: false, keep: true });
    for (const component of [values.controller, values.server, values.repoServer, values.applicationSet, values.notifications]) {
      expect(component.metrics).toEqual({ enabled: true, serviceMonitor: { enabled: true } });
    }
    for (const component of [values.server, values.repoServer, values.applicationSet]) {
      expect(component.replicas).toBeGreaterThanOrEqual(2);
      expect(component.pdb).toEqual({ enabled: true, minAvailable: 1 });
    }
    expect(values.notifications.enabled).toBe(true);
    // `server.insecure` stays the chart's: TLS is not turned off by these values.
    expect(JSON.stringify(values)).not.toContain('insecure');
    expect((chart('argo-cd').defaults.crds as Json).annotations).toEqual({ 'argocd.argoproj.io/sync-options': 'ServerSideApply=true' });
  });

  test('cert-manager: CRDs installed and kept, Gateway API on the way 1.21 documents it, ServiceMonitor, HA', () => {
    const values = certManagerValues(CTX);
    expect(values.crds).toEqual({ enabled: true, keep: true });
    expect(values.config.gatewayAPI.enabled).toBe(true);
    // The pinned values.yaml's ControllerConfiguration example spells it `gatewayAPI: enabled`.
    expect(chart('cert-manager').valuesText).toMatch(/^#\s+gatewayAPI:\n#\s+enabled: true$/m);
    expect(values.config).not.toHaveProperty('enableGatewayAPI');
    expect(values.prometheus).toEqual({ enabled: true, servicemonitor: { enabled: true } });
    for (const component of [values, values.webhook, values.cainjector]) {
      expect(component.replicaCount).toBeGreaterThanOrEqual(2);
      expect(component.podDisruptionBudget.enabled).toBe(true);
      expect(component.resources.requests.memory).toMatch(/^\d+Mi$/);
    }
  });

  test('envoy-gateway: two controllers with a budget that renders, the cluster\'s domain', () => {
    const values = envoyGatewayValues(CTX);
    expect(values.deployment.replicas).toBeGreaterThanOrEqual(2);
    // The chart renders its PodDisruptionBudget only for minAvailable >= 1 (its default is 0).
    expect(values.podDisruptionBudget.minAvailable).toBeGreaterThanOrEqual(1);
    expect(values.kubernetesClusterDomain).toBe('cluster.test');
    expect(values.crds.enabled).toBe(true);
  });

  test('external-secrets: CRDs, ServiceMonitors rendered whatever the API discovery says, webhook and controller HA', () => {
    const values = externalSecretsValues(CTX);
    expect(values.installCRDs).toBe(true);
    expect(values.serviceMonitor).toEqual({ enabled: true, renderMode: 'alwaysRender' });
    expect(values.webhook.replicaCount).toBeGreaterThanOrEqual(2);
    expect(values.webhook.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.replicaCount).toBeGreaterThanOrEqual(2);
    expect(values.leaderElect).toBe(true);
    // The cert-controller stays the webhook's certificate source (cert-manager support off, the default).
    expect(((chart('external-secrets').defaults.webhook as Json).certManager as Json).enabled).toBe(false);
    expect(JSON.stringify(values)).not.toContain('certManager');
  });

  test('cloudnative-pg: CRDs, the operator\'s PodMonitor, two operators', () => {
    const values = cloudnativePgValues(CTX);
    expect(values.crds.create).toBe(true);
    expect(values.monitoring.podMonitorEnabled).toBe(true);
    expect(values.replicaCount).toBeGreaterThanOrEqual(2);
  });

  test('plugin-barman-cloud: plugin and sidecar at the version of the ObjectStore CRD the project validates against', () => {
    const values = pluginBarmanCloudValues(CTX);
    expect(values.image.tag).toBe(BARMAN_CLOUD_PLUGIN_VERSION);
    expect(values.sidecarImage.tag).toBe(BARMAN_CLOUD_PLUGIN_VERSION);
    expect(existsSync(join(SHARED, 'crds', `plugin-barman-cloud-${BARMAN_CLOUD_PLUGIN_VERSION.slice(1)}_objectstores.yaml`))).toBe(true);
    // The override is needed only while the chart ships an older plugin: remove it when this fails.
    const appVersion = (parse(readFileSync(join(chart('plugin-barman-cloud').dir, 'Chart.yaml'), 'utf8')) as Json).appVersion;
    expect(appVersion).not.toBe(BARMAN_CLOUD_PLUGIN_VERSION);
    expect(values.certificate).toEqual({ createIssuer: true, createServerCertificate: true, createClientCertificate: true });
    expect(PLATFORM_RELEASES['plugin-barman-cloud'].namespace).toBe(PLATFORM_RELEASES['cloudnative-pg'].namespace);
  });

  describe('kube-prometheus-stack', () => {
    const values = kubePrometheusStackValues(CTX);
    const spec = values.prometheus.prometheusSpec;

    test('Prometheus selects monitors, rules, probes and scrape configs of every namespace, with or without Helm labels', () => {
      for (const kind of ['serviceMonitor', 'podMonitor', 'rule', 'probe', 'scrapeConfig'] as const) {
        expect(spec[`${kind}SelectorNilUsesHelmValues`]).toBe(false);
        expect(spec[`${kind}NamespaceSelector`]).toEqual({});
      }
    });

    test('retention, retention size and the volume come from the context', () => {
      expect(spec.retention).toBe('2d');
      expect(spec.retentionSize).toBe('900MB');
      expect(spec.storageSpec.volumeClaimTemplate.spec).toEqual({
        storageClassName: 'fast-test', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } },
      });
      const defaultClass = kubePrometheusStackValues({ ...CTX, prometheus: { ...CTX.prometheus, storage: { size: '3Gi' } } });
      expect(defaultClass.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec).not.toHaveProperty('storageClassName');
      expect(defaultClass.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe('3Gi');
    });

    test('Alertmanager on, with AlertmanagerConfigs from every namespace, its configuration from the context\'s alerting', () => {
      expect(values.alertmanager.enabled).toBe(true);
      expect(values.alertmanager.alertmanagerSpec.alertmanagerConfigSelector).toEqual({});
      expect(values.alertmanager.alertmanagerSpec.alertmanagerConfigNamespaceSelector).toEqual({});
      expect(values.alertmanager.config).toEqual(alertmanagerConfig(CTX.alerting));
      // Helm merges maps over the chart's default configuration: every key of its default is ours,
      // at the top and in the route, so nothing of the default's routing survives.
      const defaults = (chart('kube-prometheus-stack').defaults.alertmanager as Json).config as Json;
      expect(Object.keys(values.alertmanager.config).sort()).toEqual(expect.arrayContaining(Object.keys(defaults).sort()));
      expect(Object.keys(values.alertmanager.config.route)).toEqual(expect.arrayContaining(Object.keys(defaults.route as Json)));
      expect(Object.keys(values.alertmanager.config.global)).toEqual(expect.arrayContaining(Object.keys(defaults.global as Json)));
      expect(coalesce(defaults, values.alertmanager.config)).toEqual(JSON.parse(JSON.stringify(values.alertmanager.config)));
    });

    test('Alertmanager mounts the receivers\' Secret as optional, where the operator would mount spec.secrets; none without credentials', () => {
      const spec = values.alertmanager.alertmanagerSpec;
      expect(spec.volumes).toEqual([{ name: ALERTMANAGER_SECRET, secret: { secretName: ALERTMANAGER_SECRET, optional: true } }]);
      expect(spec.volumeMounts).toEqual([{ name: ALERTMANAGER_SECRET, mountPath: `/etc/alertmanager/secrets/${ALERTMANAGER_SECRET}`, readOnly: true }]);
      expect(spec).not.toHaveProperty('secrets');
      const noCredentials = kubePrometheusStackValues({ ...CTX, alerting: { email: { to: 'a@b.example', from: 'c@b.example', smarthost: 'mail.b.example:25' } } });
      expect(noCredentials.alertmanager.alertmanagerSpec).not.toHaveProperty('volumes');
      expect(noCredentials.alertmanager.alertmanagerSpec).not.toHaveProperty('volumeMounts');
    });

    test('default rules: the application\'s namespaces left out, the chart\'s Watchdog, TargetDown and InfoInhibitor off', () => {
      expect(values.defaultRules.appNamespacesOperator).toBe('!~');
      expect(values.defaultRules.appNamespacesTarget).toBe('app-test');
      expect(kubePrometheusStackValues({ ...CTX, appNamespaces: ['a', 'b-2'] }).defaultRules.appNamespacesTarget).toBe('a|b-2');
      expect(() => kubePrometheusStackValues({ ...CTX, appNamespaces: ['a.*'] })).toThrow(/not a namespace name/);
      expect(values.defaultRules.disabled).toEqual({ Watchdog: true, TargetDown: true, InfoInhibitor: true });
      // The chart's defaults that these replace.
      const defaults = chart('kube-prometheus-stack').defaults.defaultRules as Json;
      expect([defaults.appNamespacesOperator, defaults.appNamespacesTarget, defaults.disabled]).toEqual(['=~', '.*', {}]);
    });

    test('Grafana on with the dashboard sidecar', () => {
      expect(values.grafana.enabled).toBe(true);
      expect(values.grafana.sidecar.dashboards).toEqual({ enabled: true, searchNamespace: 'ALL' });
    });

    test('node exporter off (Pod Security baseline), its rules off, the kubelet still scraped for volume usage', () => {
      expect(values.nodeExporter.enabled).toBe(false);
      expect(values.defaultRules.rules).toEqual({
        nodeExporterAlerting: false, nodeExporterRecording: false, network: false, kubePrometheusNodeRecording: false,
        kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, etcd: false, kubeProxy: false,
      });
      expect(PLATFORM_RELEASES['kube-prometheus-stack'].podSecurity).toBe('baseline');
      const kubelet = chart('kube-prometheus-stack').defaults.kubelet as Json;
      expect(kubelet.enabled).toBe(true);
      expect(kubelet.serviceMonitor).toMatchObject({ enabled: true, kubelet: true });
      expect(values).not.toHaveProperty('kubelet');
      expect((chart('kube-prometheus-stack').defaults.defaultRules as Json).rules).toMatchObject({ kubernetesStorage: true });
    });

    test('the control plane neither scraped nor alerted on: its targets are unreachable on managed and kubeadm clusters, and its absence would page', () => {
      for (const component of ['kubeControllerManager', 'kubeScheduler', 'kubeEtcd', 'kubeProxy'] as const) {
        expect([component, values[component].enabled]).toEqual([component, false]);
        expect([component, (chart('kube-prometheus-stack').defaults[component] as Json).enabled]).toEqual([component, true]);
      }
      // The API server and the kubelets are reachable everywhere, and stay.
      expect(values).not.toHaveProperty('kubeApiServer');
      expect((chart('kube-prometheus-stack').defaults.kubeApiServer as Json).enabled).toBe(true);
    });

    test('CRDs installed, the fullname pinned, Alertmanager\'s port the chart\'s', () => {
      expect(values.crds.enabled).toBe(true);
      expect(values.fullnameOverride).toBe(KUBE_PROMETHEUS_STACK_NAME);
      // The chart cuts its fullname at 26 characters.
      expect(KUBE_PROMETHEUS_STACK_NAME.length).toBeLessThanOrEqual(26);
      expect(((chart('kube-prometheus-stack').defaults.alertmanager as Json).service as Json).port).toBe(ALERTMANAGER_PORT);
    });
  });

  test('loki: single binary on object storage, tenants, retention per tenant by the compactor, no simple-scalable targets beside it', () => {
    const values = lokiValues(CTX);
    expect(values.deploymentMode).toBe('Monolithic');
    expect(values.loki.storage.type).toBe('s3');
    expect(values.loki.compactor).toEqual({ retention_enabled: true, delete_request_store: 's3' });
    expect(values.loki.auth_enabled).toBe(true);
    expect(values.loki.runtimeConfig.overrides[LOKI_TENANTS.application].retention_period).toBe('48h');
    expect(values.loki.runtimeConfig.overrides[LOKI_TENANTS.audit].retention_period).toBe('120h');
    expect(values.loki.runtimeConfig.overrides[LOKI_TENANTS.audit].retention_stream.map((r) => r.period)).toEqual(['120h', '120h', '120h', '120h']);
    expect(values.loki.schemaConfig.configs.map((c) => [c.store, c.schema, c.object_store, c.index.period])).toEqual([['tsdb', 'v13', 's3', '24h']]);
    expect(values.singleBinary.extraEnv.map((e) => e.valueFrom.secretKeyRef.name)).toEqual([LOKI_STORAGE_SECRET, LOKI_STORAGE_SECRET]);
    // templates/validate.yaml: no read, write or backend replicas beside it outside the migration modes.
    expect(values.singleBinary.replicas).toBe(values.loki.commonConfig.replication_factor);
    expect([values.backend.replicas, values.read.replicas, values.write.replicas]).toEqual([0, 0, 0]);
    // ... and the Helm test only with the canary.
    expect(values.test.enabled && !values.lokiCanary.enabled).toBe(false);
    expect(values.global.clusterDomain).toBe('cluster.test');
    expect(values.monitoring.serviceMonitor.enabled).toBe(true);
    expect(((chart('loki').defaults.gateway as Json).service as Json).port).toBe(LOKI_GATEWAY_PORT);
  });

  test('alloy: a collector on every node reading the host\'s log files read-only, locked down otherwise, pushing to the Loki gateway by its cluster DNS name', () => {
    const values = alloyValues(CTX);
    const config = values.alloy.configMap.content;
    expect(config).toBe(alloyConfig(CTX));
    expect(config).toContain(`url       = "http://loki-gateway.${PLATFORM_RELEASES.loki.namespace}.svc.cluster.test:80/loki/api/v1/push"`);
    expect(lokiPushURL('cluster.test')).toBe(`http://loki-gateway.${PLATFORM_RELEASES.loki.namespace}.svc.cluster.test:80/loki/api/v1/push`);
    // The context's namespaces, not production's.
    expect(config).toContain('namespaces = ["argocd-test", "app-test"]');
    expect(config).toContain('"{namespace=\\"gateway-test-system\\", container=\\"envoy\\"} |= ');
    expect(values.controller.type).toBe('daemonset');
    expect(values.controller.tolerations).toEqual([{ operator: 'Exists', effect: 'NoSchedule' }]);
    expect(values.controller.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(values.alloy.mounts).toMatchObject({ varlog: true, dockercontainers: false });
    // The positions survive the pod: a new collector does not send every file again.
    expect(values.alloy.storagePath).toBe(ALLOY_STORAGE.mountPath);
    expect(values.alloy.mounts.extra).toEqual([{ name: 'positions', mountPath: ALLOY_STORAGE.mountPath }]);
    expect(values.controller.volumes.extra).toEqual([{ name: 'positions', hostPath: { path: ALLOY_STORAGE.hostPath, type: 'DirectoryOrCreate' } }]);
    expect(values.alloy.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // Least privilege: the chart's default reads every Secret of the cluster.
    expect(JSON.stringify((chart('alloy').defaults.rbac as Json).rules)).toContain('secrets');
    expect(JSON.stringify(values.rbac)).not.toMatch(/secrets|configmaps|nodes/);
    expect(values.rbac.rules.flatMap((r) => r.verbs)).not.toContain('create');
    expect(values.alloy.clustering.enabled).toBe(true);
    expect(values.serviceMonitor.enabled).toBe(true);
  });

  test('trivy-operator: vulnerability and config audit reports, their metrics, no host-path node collector', () => {
    const values = trivyOperatorValues(CTX);
    expect(values.operator).toMatchObject({ vulnerabilityScannerEnabled: true, configAuditScannerEnabled: true, metricsFindingsEnabled: true });
    expect(values.operator.infraAssessmentScannerEnabled).toBe(false);
    expect(values.serviceMonitor.enabled).toBe(true);
    // The node collector is the chart's one hostPath user.
    expect(JSON.stringify((chart('trivy-operator').defaults.nodeCollector as Json).volumes)).toContain('hostPath');
  });

  test('falco: modern eBPF, the subchart off, JSON events over HTTP to the falcosidekick release in the same namespace', () => {
    const values = falcoValues(CTX);
    expect(values.driver.kind).toBe('modern_ebpf');
    expect(values.falcosidekick.enabled).toBe(false);
    expect(values.falco.json_output).toBe(true);
    expect(values.falco.http_output).toEqual({ enabled: true, url: `http://falcosidekick.${PLATFORM_RELEASES.falco.namespace}.svc.cluster.test:2801/` });
    expect(PLATFORM_RELEASES.falco.namespace).toBe(PLATFORM_RELEASES.falcosidekick.namespace);
    expect((chart('falcosidekick').defaults.service as Json).port).toBe(FALCOSIDEKICK_PORT);
    expect(values.metrics.enabled).toBe(true);
    expect(values.serviceMonitor.create).toBe(true);
  });

  test('falcosidekick: warning and above to kube-prometheus-stack\'s Alertmanager through API v2, ServiceMonitor, two replicas', () => {
    const values = falcosidekickValues(CTX);
    expect(values.config.alertmanager.hostport).toBe('http://kube-prometheus-stack-alertmanager.observability-test.svc.cluster.test:9093');
    expect(values.config.alertmanager.minimumpriority).toBe('warning');
    // Alertmanager removed API v1 in 0.27; the chart pins a newer one, and falcosidekick defaults to v1.
    expect(values.config.alertmanager.endpoint).toBe('/api/v2/alerts');
    const alertmanagerTag = String((((chart('kube-prometheus-stack').defaults.alertmanager as Json).alertmanagerSpec as Json).image as Json).tag);
    const [major, minor] = alertmanagerTag.replace(/^v/, '').split('.').map(Number);
    expect(major > 0 || minor >= 27).toBe(true);
    expect(((chart('falcosidekick').defaults.config as Json).alertmanager as Json).endpoint).toBe('/api/v1/alerts');
    expect(values.serviceMonitor.enabled).toBe(true);
    expect(values.replicaCount).toBe(2);
    expect(values.fullnameOverride).toBe('falcosidekick');
  });

  test.each(NAMES)('%s: no DNS domain or monitoring namespace of its own: those come from the context', (name) => {
    const text = JSON.stringify(valuesOf(name));
    expect(text).not.toContain('cluster.local');
    expect(text).not.toMatch(/\.monitoring\.svc\b/);
  });
});
