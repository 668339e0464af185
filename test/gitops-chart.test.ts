/**
 * charts/gitops/: what Argo CD is given in each environment's cluster. The root Application, the
 * projects and their least privilege, the platform releases at their pinned versions, and the
 * Application of dist/<env>/, checked as Argo CD itself checks an Application against its project
 * (repository, destination namespace, kind), so a project that would refuse its own Application
 * fails here rather than in the cluster.
 */
import { matchesGlob } from 'node:path';
import { PLATFORM_CLUSTER_KINDS, ROOT_WAVES } from '../charts/gitops/gitops-chart';
import { PLATFORM_RELEASES, releaseNamespace, type PlatformReleaseName } from '../charts/gitops/platform-releases';
import { SYNC_RETRY } from '../charts/gitops/sync-policy';
import { buildModel } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, fileName, modelObjects, synthesizeEnvironment } from '../pipeline/synth';
import { boxDesigner, boxDesignerWithoutData, shop, variant, variantModel } from './support/fixtures';
import { only } from './support/synth-construct';

const model = variantModel(shop);
const synthesized = modelObjects(model);
const appObjects = synthesized.map((o) => o.object);
const objects = argocdObjects(model, synthesized);
const applications = objects.filter((o) => o.kind === 'Application');
const projects = objects.filter((o) => o.kind === 'AppProject');
const releaseNames = Object.keys(PLATFORM_RELEASES) as PlatformReleaseName[];
const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
// The fixture's: Argo CD's by default, Prometheus' and the gateway's as configured.
const CONFIGURED = { argocd: 'argocd', monitoring: 'monitoring', gateway: 'gateway-system' };
const namespaceOf = (name: PlatformReleaseName) => releaseNamespace(PLATFORM_RELEASES[name], CONFIGURED);
const platformNamespaces = [...new Set(releaseNames.map(namespaceOf))].sort();
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

test('one root Application, three projects, a namespace per platform namespace, a release per chart, one for the environment', () => {
  expect(applications.map((a) => a.metadata.name).sort()).toEqual(['root', 'shop-shop', 'shop-shop-data', ...releaseNames].sort());
  expect(projects.map((p) => p.metadata.name).sort()).toEqual(['bootstrap', 'platform', 'shop']);
  expect(objects.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name).sort()).toEqual(platformNamespaces);
  expect(platformNamespaces).toEqual(expect.arrayContaining(['argocd', 'monitoring', 'gateway-system', 'cert-manager', 'falco']));
  // Argo CD's objects live in its namespace (the default one, as the fixture does not set it).
  for (const o of [...applications, ...projects]) expect({ name: o.metadata.name, ns: o.metadata.namespace }).toEqual({ name: o.metadata.name, ns: 'argocd' });
});

test('the root Application syncs argocd/<env> from the configured repository and branch, and the environment\'s syncs dist/<env>', () => {
  const root = only(objects, 'Application', 'root');
  expect(root.spec).toMatchObject({
    project: 'bootstrap',
    source: { repoURL: 'https://git.shop.test/ops/shop-deploy.git', targetRevision: 'main', path: 'argocd/shop', directory: { recurse: true } },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'argocd' },
  });
  const app = only(objects, 'Application', 'shop-shop');
  expect(app.spec).toMatchObject({
    project: 'shop',
    source: { repoURL: 'https://git.shop.test/ops/shop-deploy.git', targetRevision: 'main', path: 'dist/shop', directory: { recurse: true } },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'shop-test' },
  });
  // The box designer follows another branch of another repository.
  const boxes = variantModel(boxDesigner);
  const boxRoot = only(argocdObjects(boxes, modelObjects(boxes)), 'Application', 'root');
  expect(boxRoot.spec.source).toMatchObject({ repoURL: 'git@git.boxes.test:ops/box-designer-deploy.git', targetRevision: 'release', path: `argocd/${boxes.env.name}` });
});

describe('the data tier has an Application of its own', () => {
  /** The files of dist/<env>/ an Application of it syncs, by its directory include and exclude globs. */
  const selected = (app: K8sObject, files: readonly string[]) => files.filter((f) => {
    const { include, exclude } = app.spec.source.directory;
    return (include === undefined || matchesGlob(f, include)) && (exclude === undefined || !matchesGlob(f, exclude));
  });

  test('every file of dist/<env>/ is synced by exactly one of the two, the data tier\'s holding PostgreSQL, Redis, uploads and backups', () => {
    const files = synthesized.map(fileName);
    const app = selected(only(objects, 'Application', 'shop-shop'), files);
    const data = selected(only(objects, 'Application', 'shop-shop-data'), files);
    expect([...app, ...data].sort()).toEqual([...files].sort());
    expect(app.filter((f) => data.includes(f))).toEqual([]);
    expect(data).toEqual(expect.arrayContaining(['data/cluster-shop-db.yaml', 'data/statefulset-shop-redis.yaml', 'data/persistentvolumeclaim-shop-uploads.yaml', 'backup/cronjob-backup-database.yaml']));
    expect(app).toEqual(expect.arrayContaining(['platform/namespace-shop-test.yaml', 'security/networkpolicy-default-deny.yaml', 'app/deployment-api.yaml']));
    expect(data.filter((f) => !f.startsWith('data/') && !f.startsWith('backup/'))).toEqual([]);
  });

  test('an environment without data has one Application of dist/<env>/, with every file', () => {
    const m = buildModel(boxDesignerWithoutData());
    const argo = argocdObjects(m, modelObjects(m));
    const names = argo.filter((o) => o.kind === 'Application').map((a) => a.metadata.name);
    expect(names).toContain(m.delivery.appApplication);
    expect(names).not.toContain(m.delivery.dataApplication);
    expect(only(argo, 'Application', m.delivery.appApplication).spec.source.directory).toEqual({ recurse: true });
  });
});

test('every Application syncs by itself, prunes last, heals drift and retries with backoff', () => {
  for (const a of applications) {
    expect({ name: a.metadata.name, policy: a.spec.syncPolicy }).toMatchObject({
      name: a.metadata.name,
      policy: {
        automated: { enabled: true, prune: true, selfHeal: true, allowEmpty: false },
        retry: { limit: SYNC_RETRY.limit, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
      },
    });
    expect(a.spec.syncPolicy.syncOptions).toContain('PruneLast=true');
    // Namespaces come from the root Application, with their Pod Security labels, never from a sync.
    expect(a.spec.syncPolicy.syncOptions.filter((o: string) => o.startsWith('CreateNamespace'))).toEqual([]);
  }
  // Server-side diff where admission defaults fields (CloudNativePG's webhook, the operators' CA bundles).
  for (const name of ['shop-shop', 'shop-shop-data']) {
    expect(only(objects, 'Application', name).metadata.annotations['argocd.argoproj.io/compare-options']).toBe('ServerSideDiff=true');
  }
});

test('the platform releases: each chart from its repository at its exact version, applied server-side, into its namespace', () => {
  for (const name of releaseNames) {
    const r = PLATFORM_RELEASES[name];
    const a = only(objects, 'Application', name);
    expect(a.spec).toMatchObject({
      project: 'platform',
      source: { repoURL: r.repoURL, chart: r.chart, targetRevision: r.version, helm: { releaseName: name } },
      destination: { namespace: namespaceOf(name) },
    });
    expect(r.version).toMatch(/^v?[0-9]+\.[0-9]+\.[0-9]+$/);
    expect(a.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
    expect(typeof a.spec.source.helm.valuesObject).toBe('object');
  }
});

test('waves: namespaces, then projects, then operators in dependency order, then the application', () => {
  const w = (name: string) => wave(only(objects, 'Application', name));
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) expect(wave(ns)).toBe(ROOT_WAVES.namespaces);
  for (const p of projects) expect(wave(p)).toBe(ROOT_WAVES.projects);
  expect(ROOT_WAVES.namespaces).toBeLessThan(ROOT_WAVES.projects);
  for (const name of releaseNames) expect(w(name)).toBeGreaterThan(ROOT_WAVES.projects);
  for (const name of releaseNames) expect(w(name)).toBeLessThan(w('shop-shop'));
  expect(w('shop-shop-data')).toBe(w('shop-shop'));
  // The Barman Cloud plugin needs CloudNativePG's CRDs and cert-manager's certificates.
  expect(w('plugin-barman-cloud')).toBeGreaterThan(w('cloudnative-pg'));
  expect(w('plugin-barman-cloud')).toBeGreaterThan(w('cert-manager'));
  // Falco sends its events to Falcosidekick, which sends them to Alertmanager.
  expect(w('falcosidekick')).toBeGreaterThan(w('kube-prometheus-stack'));
  // Argo CD first: the health checks the other waves wait on are its settings.
  expect(w('argo-cd')).toBe(Math.min(...releaseNames.map(w)));
});

test('platform namespaces: restricted or baseline enforced, always audited and warned at restricted; only the node agents\' namespaces privileged', () => {
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  for (const ns of namespaces) {
    const labels = ns.metadata.labels;
    expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/enforce-version']).toBe('v1.31');
    expect(ns.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Prune=false,Delete=false');
  }
  const privileged = namespaces.filter((n) => n.metadata.labels['pod-security.kubernetes.io/enforce'] === 'privileged').map((n) => n.metadata.name);
  // Falco reads the kernel's events; the log collector the nodes' log files (hostPath), in a namespace without Loki.
  expect(privileged.sort()).toEqual(['falco', 'log-collector']);
  expect(PLATFORM_RELEASES.alloy.namespace).not.toBe(PLATFORM_RELEASES.loki.namespace);
});

describe('projects allow what their Applications hold, and nothing more', () => {
  const projectOf = (a: K8sObject) => only(projects, 'AppProject', a.spec.project);
  const allowsKind = (p: K8sObject, o: K8sObject) => {
    const gk = { group: groupOf(o.apiVersion), kind: o.kind };
    const list = o.metadata.namespace === undefined ? p.spec.clusterResourceWhitelist ?? [] : p.spec.namespaceResourceWhitelist;
    // Argo CD: no namespaced whitelist means every namespaced kind; no cluster whitelist means none;
    // an entry with a name allows only the object of that name (a glob: ours are plain names).
    if (list === undefined) return true;
    return list.some((k: { group: string; kind: string; name?: string }) => k.group === gk.group && k.kind === gk.kind
      && (k.name === undefined || matchesGlob(o.metadata.name, k.name)));
  };

  test('every Application reads a repository and writes to a namespace its project permits', () => {
    for (const a of applications) {
      const p = projectOf(a);
      expect({ app: a.metadata.name, repo: p.spec.sourceRepos.includes(a.spec.source.repoURL) }).toEqual({ app: a.metadata.name, repo: true });
      const destination = p.spec.destinations
        .some((d: { server: string; namespace: string }) => d.server === a.spec.destination.server && d.namespace === a.spec.destination.namespace);
      expect({ app: a.metadata.name, destination }).toEqual({ app: a.metadata.name, destination: true });
    }
  });

  test('the root Application may hold every object of argocd/<env>, and the environment\'s every object of dist/<env>', () => {
    const root = projectOf(only(objects, 'Application', 'root'));
    for (const o of objects) expect({ object: `${o.kind} ${o.metadata.name}`, allowed: allowsKind(root, o) }).toEqual({ object: `${o.kind} ${o.metadata.name}`, allowed: true });
    const app = projectOf(only(objects, 'Application', 'shop-shop'));
    for (const o of appObjects) {
      expect({ object: `${o.kind} ${o.metadata.name}`, allowed: allowsKind(app, o) }).toEqual({ object: `${o.kind} ${o.metadata.name}`, allowed: true });
      if (o.metadata.namespace !== undefined) expect(app.spec.destinations.map((d: { namespace: string }) => d.namespace)).toContain(o.metadata.namespace);
    }
  });

  test('the application\'s project lists exactly the kinds dist/<env> holds: no other cluster-scoped kind, no Secret, no RBAC', () => {
    const app = only(projects, 'AppProject', 'shop');
    const kinds = (list: { group: string; kind: string; name?: string }[]) => list.map((k) => `${k.group}/${k.kind}${k.name ? `/${k.name}` : ''}`).sort();
    const expected = (cluster: boolean) => [...new Set(appObjects.filter((o) => (o.metadata.namespace === undefined) === cluster)
      .map((o) => `${groupOf(o.apiVersion)}/${o.kind}${cluster ? `/${o.metadata.name}` : ''}`))].sort();
    expect(kinds(app.spec.clusterResourceWhitelist)).toEqual(expected(true));
    // Each cluster-scoped object by name: another ClusterIssuer or PriorityClass is not the application's.
    expect(kinds(app.spec.clusterResourceWhitelist)).toEqual([
      '/Namespace/shop-test', 'cert-manager.io/ClusterIssuer/letsencrypt-production', 'cert-manager.io/ClusterIssuer/letsencrypt-staging',
      'scheduling.k8s.io/PriorityClass/shop-batch', 'scheduling.k8s.io/PriorityClass/shop-serving',
    ]);
    expect(kinds(app.spec.namespaceResourceWhitelist)).toEqual(expected(false));
    expect(kinds(app.spec.namespaceResourceWhitelist)).not.toContain('/Secret');
    expect(kinds(app.spec.namespaceResourceWhitelist).filter((k) => k.startsWith('rbac.'))).toEqual([]);
    expect(app.spec.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace: 'shop-test' }]);
    expect(app.spec.sourceRepos).toEqual(['https://git.shop.test/ops/shop-deploy.git']);
    expect(app.spec.orphanedResources).toEqual({ warn: true });
  });

  test('the platform project: the chart repositories only, the platform namespaces only, the listed cluster kinds only', () => {
    const platform = only(projects, 'AppProject', 'platform');
    expect(platform.spec.sourceRepos).toEqual([...new Set(Object.values(PLATFORM_RELEASES).map((r) => r.repoURL))].sort());
    expect(platform.spec.sourceRepos).not.toContain('https://git.shop.test/ops/shop-deploy.git');
    expect(platform.spec.destinations.map((d: { namespace: string }) => d.namespace)).toEqual(platformNamespaces);
    expect(platform.spec.clusterResourceWhitelist).toHaveLength(PLATFORM_CLUSTER_KINDS.length);
    expect(platform.spec.clusterResourceWhitelist.filter((k: { kind: string }) => k.kind === '*' || k.kind === 'Namespace')).toEqual([]);
  });

  test('the bootstrap project: this repository, Argo CD\'s, Loki\'s and the monitoring namespace, Applications, projects, the ExternalSecrets, Loki\'s NetworkPolicies and rules, namespaces and the GatewayClass only', () => {
    const bootstrap = only(projects, 'AppProject', 'bootstrap');
    expect(bootstrap.spec).toMatchObject({
      sourceRepos: ['https://git.shop.test/ops/shop-deploy.git'],
      // The monitoring namespace for Alertmanager's receivers' ExternalSecret, Loki's for its bucket's credentials and who may reach it.
      destinations: [
        { server: 'https://kubernetes.default.svc', namespace: 'argocd' }, { server: 'https://kubernetes.default.svc', namespace: 'logging' },
        { server: 'https://kubernetes.default.svc', namespace: 'monitoring' },
      ],
      clusterResourceWhitelist: [
        ...platformNamespaces.map((name) => ({ group: '', kind: 'Namespace', name })),
        { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', name: 'test-gateway-class' },
      ],
      namespaceResourceWhitelist: [
        // The audit trail's Loki rules, in Loki's namespace.
        { group: '', kind: 'ConfigMap' },
        { group: 'argoproj.io', kind: 'AppProject' }, { group: 'argoproj.io', kind: 'Application' }, { group: 'external-secrets.io', kind: 'ExternalSecret' },
        { group: 'networking.k8s.io', kind: 'NetworkPolicy' },
      ],
    });
    // Every object of argocd/<env>/ but the root itself is one the bootstrap project may hold, where it is.
    const allowed = new Set(bootstrap.spec.namespaceResourceWhitelist.map((k: { group: string; kind: string }) => `${k.group}/${k.kind}`));
    const destinations = bootstrap.spec.destinations.map((d: { namespace: string }) => d.namespace);
    const outside = objects.filter((o) => o.metadata.namespace !== undefined
      && (!allowed.has(`${groupOf(o.apiVersion)}/${o.kind}`) || !destinations.includes(o.metadata.namespace)));
    expect(outside.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([]);
  });
});

test('roles: developers see the application, the release role syncs it; groups from configuration', () => {
  const m = variantModel(shop, { delivery: { developerGroups: ['shop-devs'], releaseGroups: ['shop-release'] } });
  const app = only(argocdObjects(m, synthesized), 'AppProject', 'shop');
  expect(app.spec.roles).toEqual([
    {
      name: 'developer', groups: ['shop-devs'],
      // Logs are a permission of their own since Argo CD 3.0.
      policies: ['p, proj:shop:developer, applications, get, shop/*, allow', 'p, proj:shop:developer, logs, get, shop/*, allow'],
    },
    {
      name: 'release', groups: ['shop-release'],
      policies: [
        'p, proj:shop:release, applications, get, shop/*, allow', 'p, proj:shop:release, logs, get, shop/*, allow',
        'p, proj:shop:release, applications, sync, shop/*, allow',
      ],
    },
  ]);
  // No groups configured: the roles exist for their tokens, given to nobody by group.
  const none = only(objects, 'AppProject', 'shop');
  expect(none.spec.roles.map((r: { groups?: string[] }) => r.groups)).toEqual([undefined, undefined]);
});

test('sync freezes become deny windows of the application\'s project, in their time zone, with manual sync as configured', () => {
  const freezes = [
    { description: 'Exams', schedule: '0 0 8 12 *', duration: '288h', timeZone: 'America/New_York' },
    { description: 'Change freeze', schedule: '0 18 * * 5', duration: '62h', timeZone: 'Europe/Berlin', manualSync: false },
  ];
  const m = variantModel(shop, { delivery: { syncFreezes: freezes } });
  const argo = argocdObjects(m, synthesized);
  expect(only(argo, 'AppProject', 'shop').spec.syncWindows).toEqual([
    { kind: 'deny', description: 'Exams', schedule: '0 0 8 12 *', duration: '288h', timeZone: 'America/New_York', applications: ['*'], manualSync: true },
    { kind: 'deny', description: 'Change freeze', schedule: '0 18 * * 5', duration: '62h', timeZone: 'Europe/Berlin', applications: ['*'], manualSync: false },
  ]);
  // The platform is not frozen: a certificate or security fix of an operator still goes out.
  expect(only(argo, 'AppProject', 'platform').spec.syncWindows).toBeUndefined();
  expect(only(objects, 'AppProject', 'shop').spec.syncWindows).toBeUndefined();
});

test('Argo CD\'s namespace comes from configuration', () => {
  const m = variantModel(shop, { delivery: { namespace: 'gitops' } });
  const argo = argocdObjects(m, synthesized);
  for (const o of argo.filter((x) => ['Application', 'AppProject'].includes(x.kind))) expect(o.metadata.namespace).toBe('gitops');
  expect(only(argo, 'AppProject', 'bootstrap').spec.destinations.map((d: { namespace: string }) => d.namespace)).toEqual(['gitops', 'logging', 'monitoring']);
  // Argo CD's own release goes there too, and the namespace is made with the others.
  expect(only(argo, 'Application', 'argo-cd').spec.destination.namespace).toBe('gitops');
  expect(argo.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).toContain('gitops');
  expect(argo.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).not.toContain('argocd');
});

test('the Argo CD objects pass the gate (strict schemas, policy) and are written to argocd/<env>/ by kind and name', async () => {
  const result = await synthesizeEnvironment(variant(shop));
  expect(result.problems).toEqual([]);
  expect([...result.argocdFiles.keys()]).toEqual(expect.arrayContaining(['application-root.yaml', 'appproject-shop.yaml', 'application-cert-manager.yaml', 'namespace-falco.yaml']));
  expect(result.argocdFiles.size).toBe(result.argocdObjects.length);
});

test('the GatewayClass the Gateway asks for is the platform\'s, served by Envoy Gateway, made after Envoy Gateway\'s CRDs', () => {
  const gatewayClass = only(objects, 'GatewayClass', 'test-gateway-class');
  expect(gatewayClass.spec).toEqual({ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' });
  expect(wave(gatewayClass)).toBeGreaterThan(wave(only(objects, 'Application', 'envoy-gateway')));
  expect(wave(gatewayClass)).toBeLessThan(wave(only(objects, 'Application', 'shop-shop')));
  // The class the environment's Gateway names.
  expect(only(appObjects, 'Gateway').spec.gatewayClassName).toBe(gatewayClass.metadata.name);
});
