/**
 * Small applications for construct and model tests, so that each test states the inputs it asserts
 * instead of asserting production's numbers (changing production's memory must not break a
 * construct test). Whole-output tests (policy, flows, runbooks, freshness, snapshots) keep using the
 * real environments from environments/.
 *
 * - `shop`: a web frontend and an api with PostgreSQL, Redis and uploaded files; not production.
 * - `boxDesigner`: the second application: one api with PostgreSQL and uploaded files, no Redis
 *   (the laser-engraving box designer). `postgresOnly` and `noData` are variants of it.
 *
 * Every variant goes through the same validation as a real environment, so a fixture that the
 * schema or the rules reject fails the test that builds it, with the message.
 */
import type { DeepPartial, EnvironmentDefinition } from '../../environments/define';
import { mergeConfig } from '../../environments/define';
import { ConfigError, resolveEnvironment } from '../../environments/load';
import { buildModel, type Model } from '../../environments/model/model';
import type { Environment, EnvironmentInput } from '../../environments/schema';

/** Jest runs from the repository root; pin files are read relative to it. */
export const REPOSITORY_ROOT = process.cwd();

export const shop: EnvironmentDefinition = {
  name: 'shop',
  imagePinsFile: 'test/fixtures/images/shop.yaml',
  config: {
    name: 'shop',
    production: false,
    app: { name: 'shop', namespace: 'shop-test' },
    kubernetesVersion: '1.31',
    gateway: { className: 'test-gateway-class', proxyNamespace: 'gateway-system' },
    tls: { issuer: 'letsencrypt-staging', acmeEmail: 'tls@shop.test' },
    hosts: [{ hostname: 'shop.test', routes: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }] }],
    services: {
      web: {
        description: 'storefront',
        port: 3000,
        health: { livenessPath: '/live', readinessPath: '/ready' },
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
        runAsUser: 1001,
        writablePaths: ['/tmp'],
        env: { API_URL: 'http://api' },
        calls: ['api'],
        replicas: 2,
      },
      api: {
        description: 'orders api',
        port: 8080,
        health: { livenessPath: '/health/live', readinessPath: '/health/ready' },
        metrics: { path: '/metrics', interval: '15s' },
        resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '400m', memory: '256Mi' } },
        runAsUser: 1000,
        writablePaths: ['/tmp'],
        env: { DB_URL: 'postgres://$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)' },
        uses: ['postgres', 'redis', 'uploads'],
        replicas: 2,
      },
    },
    data: {
      postgres: {
        database: 'shop',
        owner: 'shop',
        instances: 2,
        storage: { size: '5Gi', storageClass: 'fast' },
        walStorage: { size: '1Gi', storageClass: 'fast' },
        resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } },
      },
      redis: {
        storage: { size: '1Gi', storageClass: 'fast' },
        maxmemory: '30mb',
        maxmemoryPolicy: 'volatile-lru',
        resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
      },
      uploads: { mountPath: '/srv/uploads', storage: { size: '3Gi', storageClass: 'shared' } },
    },
    backups: {
      databaseSchedule: '5 1 * * *',
      filesSchedule: '20 * * * *',
      verifySchedule: '45 3 * * 6',
      retention: { daily: 3, weekly: 2, monthly: 1 },
      verifyTables: ['public.orders'],
      checkReadDataPercent: 5,
    },
    objectStorage: { endpointURL: 'https://objects.shop.test', bucket: 'shop-backups', region: 'test-1' },
    externalSecrets: { store: 'test-store', storeKind: 'ClusterSecretStore', refreshInterval: '30m', keyPrefix: 'shop/test' },
    alerting: { slack: { secretName: 'slack-webhook', channel: '#shop-alerts' } },
    slo: { availability: 0.99, latency: 0.95, latencyThresholdSeconds: 1 },
    delivery: { repoURL: 'https://git.shop.test/ops/shop-deploy.git', argocdHost: 'argocd.shop.test' },
    platform: { prometheus: { retention: '31d', retentionSize: '8GB', storage: { size: '10Gi', storageClass: 'standard' } } },
  },
};

export const boxDesigner: EnvironmentDefinition = {
  name: 'box-designer',
  imagePinsFile: 'test/fixtures/images/box-designer.yaml',
  config: {
    name: 'box-designer',
    production: false,
    app: { name: 'box-designer', namespace: 'box-designer' },
    kubernetesVersion: '1.31',
    gateway: { className: 'test-gateway-class', proxyNamespace: 'gateway-system' },
    tls: { issuer: 'letsencrypt-staging', acmeEmail: 'tls@boxes.test' },
    hosts: [{ hostname: 'boxes.test', routes: [{ path: '/', service: 'api' }] }],
    services: {
      api: {
        description: 'box design api',
        port: 8000,
        health: { livenessPath: '/livez', readinessPath: '/readyz' },
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        runAsUser: 1000,
        writablePaths: ['/tmp'],
        env: {},
        uses: ['postgres', 'uploads'],
        replicas: 2,
      },
    },
    data: {
      postgres: {
        database: 'boxes',
        owner: 'boxes',
        instances: 2,
        storage: { size: '2Gi', storageClass: 'fast' },
        walStorage: { size: '1Gi', storageClass: 'fast' },
        resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } },
      },
      uploads: { mountPath: '/data/designs', storage: { size: '10Gi', storageClass: 'shared' } },
    },
    backups: {
      databaseSchedule: '0 2 * * *',
      filesSchedule: '30 * * * *',
      verifySchedule: '0 5 * * 0',
      retention: { daily: 7, weekly: 4, monthly: 6 },
      verifyTables: ['public.designs'],
      checkReadDataPercent: 10,
    },
    objectStorage: { endpointURL: 'https://objects.boxes.test', bucket: 'box-designer-backups', region: 'test-1' },
    externalSecrets: { store: 'test-store', storeKind: 'ClusterSecretStore', refreshInterval: '1h', keyPrefix: 'box-designer' },
    alerting: { email: { to: 'oncall@boxes.test', from: 'alerts@boxes.test', smarthost: 'mail.boxes.test:25' } },
    slo: { availability: 0.995, latency: 0.99, latencyThresholdSeconds: 1 },
    delivery: { repoURL: 'git@git.boxes.test:ops/box-designer-deploy.git', targetRevision: 'release', argocdHost: 'argocd.boxes.test' },
    platform: { prometheus: { retention: '5w', retentionSize: '18GB', storage: { size: '20Gi', storageClass: 'fast' } } },
  },
};

/** What turns a fixture into a production environment (the stricter rules), for `variant(shop, AS_PRODUCTION)`. */
export const AS_PRODUCTION = {
  production: true,
  tls: { issuer: 'letsencrypt-production' },
  alerting: { pagerduty: { secretName: 'pagerduty' }, deadMansSwitch: { secretName: 'dead-mans-switch' } },
  data: { postgres: { instances: 3 } },
} as const;

/**
 * `base` with `overrides` merged over it (objects key by key, arrays replaced), then `edit` for what
 * a merge cannot say (deleting a key), validated like a real environment.
 */
export function variant(
  base: EnvironmentDefinition,
  overrides: DeepPartial<EnvironmentInput> | object = {},
  edit?: (config: any) => void,
): Environment {
  const config = mergeConfig(structuredClone(base.config), overrides);
  edit?.(config);
  return resolveEnvironment({ ...base, config }, REPOSITORY_ROOT);
}

/** The resolved model of a variant: what charts and constructs are built from. */
export function variantModel(
  base: EnvironmentDefinition,
  overrides: DeepPartial<EnvironmentInput> | object = {},
  edit?: (config: any) => void,
): Model {
  return buildModel(variant(base, overrides, edit));
}

/** The box designer with PostgreSQL and no uploaded files (and so no file backups). */
export function boxDesignerPostgresOnly(): Environment {
  return variant(boxDesigner, { services: { api: { uses: ['postgres'] } } }, (c) => {
    delete c.data.uploads;
    delete c.backups.filesSchedule;
  });
}

/** The box designer with no data component at all: no backups, object storage or secrets. */
export function boxDesignerWithoutData(): Environment {
  return variant(boxDesigner, { services: { api: { uses: [] } } }, (c) => {
    c.data = {};
    delete c.backups;
    delete c.objectStorage;
    delete c.externalSecrets;
  });
}

/**
 * The box designer with the worker that renders designs in the background: it reads the job from
 * PostgreSQL and writes the cut files to the uploaded files, checked alive by a heartbeat command.
 * `overrides` go on top (workers.renderer.… to flip a decision).
 */
export function boxDesignerWithRenderer(
  overrides: DeepPartial<EnvironmentInput> | object = {}, edit?: (config: any) => void, imagePinsFile = 'test/fixtures/images/box-designer-renderer.yaml',
): Environment {
  const renderer = {
    description: 'renders box designs to cut files (SVG, DXF) in the background',
    command: ['python', '-m', 'boxes.render_worker'],
    liveness: { command: ['python', '-m', 'boxes.heartbeat', '--max-age', '120'] },
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    replicas: 1,
    stopGraceSeconds: 300,
    runAsUser: 1000,
    env: { RENDER_OUTPUT: '$(UPLOADS_DIR)/renders' },
    uses: ['postgres', 'uploads'],
  };
  return variant({ ...boxDesigner, imagePinsFile }, mergeConfig({ workers: { renderer } }, overrides), edit);
}

/** The configuration problems `resolve` reports (none when it resolves); any other failure is thrown on. */
export function configProblems(resolve: () => unknown): readonly string[] {
  try {
    resolve();
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
