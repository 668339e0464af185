/**
 * The versions table (charts/gitops/platform-releases.ts) against what runs and what the checks read:
 * for each release that serves a custom kind our output emits, the version its pinned chart runs (the
 * chart's appVersion, or the image tag our values deploy instead) is the table's operator version, and
 * the CRD bundle the checks validate against is that version's, or as far from it as its documented
 * `crdsFrom` allows. Every custom kind of both real environments' output (dist/ and argocd/) is defined
 * by exactly one CRD of the table's bundles, at the version our apiVersion names, and the table lists no
 * bundle that nothing emits. The bundles are in ../shared (SHARED_DIR overrides), as the charts are.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ARGOCD_VERSION } from '../charts/gitops/gitops-chart';
import {
  PLATFORM_RELEASES, type CrdBundle, type OperatorVersion, type PlatformRelease, type PlatformReleaseName,
} from '../charts/gitops/platform-releases';
import { BARMAN_CLOUD_PLUGIN_VERSION } from '../charts/gitops/values/plugin-barman-cloud';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { ruleSites } from '../pipeline/cel/rules';
import type { SchemaNode } from '../pipeline/cel/types';
import type { KindValidations } from '../pipeline/cel-gate';
import { KUBERNETES_GROUPS, type KindDefaults } from '../pipeline/crd-defaults';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { generateDefaults } from '../scripts/crd-defaults';
import { generateValidations } from '../scripts/crd-validations';
import { SHARED } from './support/crd-defaults';
import { bundleCrds, bundleFiles, type BundleCrd } from './support/platform-crds';
import { REPO } from './support/repository-copy';

type Table = Readonly<Record<PlatformReleaseName, PlatformRelease>>;
const TABLE: Table = PLATFORM_RELEASES;
const NAMES = Object.keys(TABLE) as PlatformReleaseName[];

/** Both real environments' output: dist/<env>/ (synthObjects' objects) and argocd/<env>/. */
const OUTPUT = resolveEnvironments(environments, REPO).map((env) => {
  const model = buildModel(env);
  const objects = modelObjects(model);
  return { env: env.name, objects: objects.map((o) => o.object), argocd: argocdObjects(model, objects) };
});

/**
 * The API groups the Kubernetes API server serves itself (the gate's list, which it applies no CRD
 * defaults to): every other group our output uses is a custom resource's, which some CRD must define.
 */
const BUILT_IN_GROUPS = KUBERNETES_GROUPS;

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '');
const versionOf = (apiVersion: string) => apiVersion.slice(apiVersion.lastIndexOf('/') + 1);

/** Every custom `<apiVersion> <kind>` the output emits. */
const EMITTED = new Set(OUTPUT.flatMap((o) => [...o.objects, ...o.argocd])
  .filter((o) => !BUILT_IN_GROUPS.has(groupOf(o.apiVersion)))
  .map((o) => `${o.apiVersion} ${o.kind}`));

/** The image tag each environment's Application of a release deploys at `path` in its values. */
function deployedTags(name: PlatformReleaseName, path: readonly string[]): Map<string, unknown> {
  return new Map(OUTPUT.map(({ env, argocd }) => {
    const app = argocd.find((o) => o.kind === 'Application' && o.metadata.name === name) as K8sObject & { spec?: { source?: { helm?: { valuesObject?: unknown } } } };
    const values = app?.spec?.source?.helm?.valuesObject;
    return [env, path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), values)];
  }));
}

const semver = (v: string) => {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
};
const bare = (v: string) => v.replace(/^v/, '');

/**
 * The version a pinned chart runs: its appVersion. cert-manager's and Envoy Gateway's Chart.yaml, as
 * their repositories hold them, say v0.0.0 and latest: their release tools set appVersion to the
 * release's tag (cert-manager's Chart.yaml says so; Envoy Gateway's tools/make/helm.mk packages with
 * `--app-version ${TAG}`), which is the version SOURCE names.
 */
function chartAppVersion(release: PlatformRelease, shared: string): string | undefined {
  const dir = join(shared, 'charts', `${release.chart}-${release.version}`);
  if (!existsSync(join(dir, 'Chart.yaml')) || !existsSync(join(dir, 'SOURCE'))) return undefined;
  const appVersion = String((parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { appVersion?: unknown }).appVersion);
  if (!/^(v?0\.0\.0|latest)$/.test(appVersion)) return appVersion;
  return /^version: (\S+)$/m.exec(readFileSync(join(dir, 'SOURCE'), 'utf8'))?.[1];
}

/** Where a bundle's version is not what its files are: the folder's SOURCE, or the files' names in crds/. */
function bundleProblems(name: string, bundle: CrdBundle, shared: string): string[] {
  const problems: string[] = [];
  const folder = `platform-crds/${bundle.project}-${bundle.version}`;
  if (bundle.dir !== 'crds' && bundle.dir !== folder) problems.push(`${name}: CRDs of ${bundle.project} ${bundle.version} are in ${folder} (or crds/), not ${bundle.dir}`);
  if (!existsSync(join(shared, bundle.dir))) return [...problems, `${name}: ${join(shared, bundle.dir)} is missing (the CRDs of ${bundle.project} ${bundle.version})`];
  if (bundle.dir !== 'crds') {
    const sourceFile = join(shared, bundle.dir, 'SOURCE');
    const source = existsSync(sourceFile) ? readFileSync(sourceFile, 'utf8') : '';
    if (!new RegExp(` at ${bundle.version.replaceAll('.', '\\.')} \\(commit [0-9a-f]{40}\\)`).test(source)) {
      problems.push(`${name}: ${bundle.dir}/SOURCE does not name ${bundle.version}: ${JSON.stringify(source.trim())}`);
    }
  }
  const crds = bundleCrds(bundle, shared);
  if (crds.length === 0) problems.push(`${name}: no CRD of ${bundle.project} ${bundle.version} in ${bundle.dir} (${bundleFiles(bundle, shared).join(', ') || 'no files'})`);
  // Gateway API stamps its release on every CRD.
  for (const crd of crds) {
    const stamped = crd.annotations['gateway.networking.k8s.io/bundle-version'];
    if (stamped !== undefined && stamped !== bundle.version) problems.push(`${name}: ${crd.file} is of Gateway API ${stamped}, not ${bundle.version}`);
  }
  return problems;
}

/** How the CRDs' version is off the operator's, against what `crdsFrom` allows. */
function driftProblems(name: string, release: PlatformRelease): string[] {
  const { operator, crds, crdsFrom } = release;
  if (!operator || !crds) return [];
  const run = semver(operator.version);
  const have = semver(crds.version);
  if (!run || !have) return [`${name}: ${operator.version} or ${crds.version} is not a version`];
  const at = `${name} runs ${operator.project} ${operator.version} and is checked against the CRDs of ${crds.project} ${crds.version}`;
  if (!crdsFrom) {
    if (crds.project !== operator.project || bare(crds.version) !== bare(operator.version)) return [`${at}, with no crdsFrom saying why`];
    return [];
  }
  const problems: string[] = [];
  if (!crdsFrom.reason.includes(operator.version) || !crdsFrom.reason.includes(crds.version)) {
    problems.push(`${at}: crdsFrom's reason must name both versions (written for other versions?): ${crdsFrom.reason}`);
  }
  if (crdsFrom.drift === 'bundled') {
    if (crds.project === operator.project) problems.push(`${at}: bundled means another project's CRDs`);
    return problems;
  }
  if (crds.project !== operator.project) return [...problems, `${at}: another project's CRDs are only ever bundled`];
  if (bare(crds.version) === bare(operator.version)) return [...problems, `${at}: the same version, so crdsFrom must go`];
  if (run.major !== have.major) return [...problems, `${at}: another major release`];
  if (crdsFrom.drift === 'same-minor' && run.minor !== have.minor) problems.push(`${at}: not the same minor release, as crdsFrom allows`);
  if (crdsFrom.drift === 'one-minor-behind') {
    if (run.minor - have.minor > 1 || run.minor < have.minor) problems.push(`${at}: not at most one minor release behind, as crdsFrom allows`);
    if (!/one minor behind/.test(crdsFrom.reason)) problems.push(`${at}: crdsFrom's reason must say the CRDs are one minor behind`);
  }
  return problems;
}

/** Where the table's versions and what runs or what is checked against part. */
function versionProblems(table: Table, shared: string): string[] {
  return (Object.entries(table) as [PlatformReleaseName, PlatformRelease][]).flatMap(([name, release]) => {
    const { operator, crds, crdsFrom } = release;
    if (!operator !== !crds) return [`${name}: an operator version and a CRD bundle go together (${operator ? 'no crds' : 'no operator'})`];
    if (!operator || !crds) return crdsFrom ? [`${name}: crdsFrom without CRDs`] : [];
    const problems: string[] = [];
    const appVersion = chartAppVersion(release, shared);
    if (appVersion === undefined) problems.push(`${name}: no Chart.yaml and SOURCE of chart ${release.chart} ${release.version} in ${shared}/charts`);
    if (operator.imageTag) {
      for (const [env, tag] of deployedTags(name, operator.imageTag)) {
        if (tag !== operator.version) problems.push(`${name}: ${env} deploys ${operator.project} ${String(tag)} (values ${operator.imageTag.join('.')}), the table says ${operator.version}`);
      }
    } else if (appVersion !== undefined && appVersion !== operator.version) {
      problems.push(`${name}: chart ${release.chart} ${release.version} runs ${operator.project} ${appVersion}, the table says ${operator.version}`);
    }
    return [...problems, ...driftProblems(name, release), ...bundleProblems(name, crds, shared)];
  });
}

/** Every custom kind emitted defined by exactly one CRD of the table's bundles, serving its version; no bundle unused. */
function kindProblems(table: Table, emitted: ReadonlySet<string>, shared: string): string[] {
  const crds = (Object.entries(table) as [PlatformReleaseName, PlatformRelease][])
    .flatMap(([name, r]) => (r.crds ? bundleCrds(r.crds, shared).map((crd) => ({ release: name, crd })) : []));
  const used = new Set<string>();
  const problems = [...emitted].sort().flatMap((gvk) => {
    const [apiVersion, kind] = gvk.split(' ');
    const defining = crds.filter(({ crd }) => crd.group === groupOf(apiVersion) && crd.kind === kind);
    if (defining.length !== 1) {
      return [`${gvk}: defined by ${defining.length} CRDs of the table's bundles${defining.map((d) => ` ${d.crd.file}`).join(',')}`];
    }
    used.add(defining[0].release);
    const served = defining[0].crd.versions.filter((v) => v.served).map((v) => v.name);
    return served.includes(versionOf(apiVersion)) ? [] : [`${gvk}: ${defining[0].crd.file} serves ${served.join(', ')}, not ${versionOf(apiVersion)}`];
  });
  const unused = NAMES.filter((name) => table[name].crds && !used.has(name));
  return [...problems, ...unused.map((name) => `${name}: its CRDs define no kind the output emits, so the table should not list them`)];
}

/** A release's own operator and CRDs, which the copies below change. */
function served(name: PlatformReleaseName): { operator: OperatorVersion; crds: CrdBundle } {
  const { operator, crds } = TABLE[name];
  if (!operator || !crds) throw new Error(`${name} has no operator and CRDs in the table`);
  return { operator, crds };
}

/** A copy of the table with one release changed. */
const changed = (name: PlatformReleaseName, change: Partial<PlatformRelease>): Table => ({ ...TABLE, [name]: { ...TABLE[name], ...change } });

/** ../shared with extra chart folders beside the real ones (a chart release that is not pinned yet). */
function sharedWith(charts: Record<string, { appVersion: string; version: string; chart: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-shared-'));
  for (const entry of readdirSync(SHARED)) if (entry !== 'charts') symlinkSync(join(SHARED, entry), join(dir, entry));
  mkdirSync(join(dir, 'charts'));
  for (const entry of readdirSync(join(SHARED, 'charts'))) symlinkSync(join(SHARED, 'charts', entry), join(dir, 'charts', entry));
  for (const [folder, c] of Object.entries(charts)) {
    mkdirSync(join(dir, 'charts', folder));
    writeFileSync(join(dir, 'charts', folder, 'Chart.yaml'), `apiVersion: v2\nname: ${c.chart}\nversion: ${c.version}\nappVersion: ${c.appVersion}\n`);
    writeFileSync(join(dir, 'charts', folder, 'SOURCE'), `chart: ${c.chart}\nversion: ${c.version}\nsource: test\n`);
  }
  return dir;
}

const haveShared = existsSync(join(SHARED, 'platform-crds')) && existsSync(join(SHARED, 'crds')) && existsSync(join(SHARED, 'charts'));
if (!haveShared && process.env.CI !== 'true') console.warn(`the platform versions are not checked: ${SHARED} lacks charts/, crds/ or platform-crds/`);
const withShared = haveShared || process.env.CI === 'true' ? describe : describe.skip;

withShared('the platform versions table', () => {
  test('every release serving a custom kind we emit names its operator version and CRDs, and these agree with its chart', () => {
    expect(versionProblems(TABLE, SHARED)).toEqual([]);
  });

  test('every custom kind of both environments\' output is defined by exactly one CRD of the table\'s bundles, at its version; no bundle unused', () => {
    expect(EMITTED.size).toBeGreaterThan(0);
    expect(kindProblems(TABLE, EMITTED, SHARED)).toEqual([]);
  });

  test('the releases with CRDs are those whose kinds we emit: Gateway API, cert-manager, External Secrets, prometheus-operator, Argo CD, CloudNativePG and its plugin', () => {
    expect(NAMES.filter((n) => TABLE[n].crds).sort()).toEqual(
      ['argo-cd', 'cert-manager', 'cloudnative-pg', 'envoy-gateway', 'external-secrets', 'kube-prometheus-stack', 'plugin-barman-cloud'],
    );
    // Each family's groups are custom (none is mistaken for a built-in group and so left unchecked).
    const groups = new Set([...EMITTED].map((gvk) => groupOf(gvk.split(' ')[0])));
    expect([...groups].sort()).toEqual([
      'argoproj.io', 'barmancloud.cnpg.io', 'cert-manager.io', 'external-secrets.io', 'gateway.networking.k8s.io', 'monitoring.coreos.com', 'postgresql.cnpg.io',
    ]);
  });

  test('the built-in groups are no CRD\'s', () => {
    const all = NAMES.flatMap((n) => (TABLE[n].crds ? bundleCrds(TABLE[n].crds, SHARED) : []));
    expect(all.filter((crd) => BUILT_IN_GROUPS.has(crd.group)).map((crd) => crd.name)).toEqual([]);
  });

  test('the image tags the values deploy are the table\'s (one place for each version)', () => {
    expect(ARGOCD_VERSION).toBe(TABLE['argo-cd'].operator?.version);
    expect(BARMAN_CLOUD_PLUGIN_VERSION).toBe(TABLE['plugin-barman-cloud'].operator?.version);
  });

  /**
   * The schemas the gate checks CloudNativePG, Barman Cloud and Argo CD kinds with (imports/schemas/,
   * generated by `npm run import`) are those of the table's bundles: a bundle changed in the table
   * without regenerating them fails here.
   */
  test('imports/schemas holds the schemas of the table\'s bundles', () => {
    const dir = join(REPO, 'imports', 'schemas');
    const crds = NAMES.flatMap((n) => (TABLE[n].crds ? bundleCrds(TABLE[n].crds, SHARED) : []));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const { $comment: _comment, 'x-kubernetes-group-version-kind': gvks, ...schema } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      const [{ group, version, kind }] = gvks as { group: string; version: string; kind: string }[];
      const crd = crds.find((c: BundleCrd) => c.group === group && c.kind === kind);
      expect({ file, schema }).toEqual({ file, schema: crd?.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema });
    }
  });

  /**
   * What the gate's structural defaulting reads (imports/defaults/, generated by `npm run import`) is
   * what scripts/crd-defaults.ts extracts from the table's bundles today, and covers every custom kind
   * the output emits: a bundle changed in the table without regenerating it fails here.
   */
  test('imports/defaults holds the defaults of the table\'s bundles, for every custom kind we emit', () => {
    const dir = join(REPO, 'imports', 'defaults');
    const generated = generateDefaults(SHARED);
    const files = readdirSync(dir).sort();
    expect(files).toEqual([...generated.keys()].sort());
    expect(files.filter((f) => readFileSync(join(dir, f), 'utf8') !== generated.get(f))).toEqual([]);
    const kinds = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as KindDefaults);
    expect([...EMITTED].filter((gvk) => !kinds.some((k) => `${k.apiVersion} ${k.kind}` === gvk))).toEqual([]);
    // Each names the bundle it came from, which is the table's for its group.
    for (const k of kinds) {
      const release = NAMES.find((n) => TABLE[n].crds && bundleCrds(TABLE[n].crds, SHARED).some((c) => c.name === k.source.crd));
      expect({ kind: k.kind, bundle: k.source.project, version: k.source.version })
        .toEqual({ kind: k.kind, bundle: release && TABLE[release].crds?.project, version: release && TABLE[release].crds?.version });
    }
  });

  test('imports/defaults follows the table: a kind no bundle of it defines, or not at that version, is an error', () => {
    expect(() => generateDefaults(SHARED, [...EMITTED], changed('external-secrets', { operator: undefined, crds: undefined })))
      .toThrow('external-secrets.io/v1 ExternalSecret: defined by 0 CRDs of the bundles in charts/gitops/platform-releases.ts');
    expect(() => generateDefaults(SHARED, ['postgresql.cnpg.io/v1 Cluster', 'example.com/v1 Widget']))
      .toThrow('example.com/v1 Widget: defined by 0 CRDs of the bundles in charts/gitops/platform-releases.ts');
    expect(() => generateDefaults(SHARED, ['cert-manager.io/v1alpha2 Certificate']))
      .toThrow(/^cert-manager\.io\/v1alpha2 Certificate: platform-crds\/cert-manager-v1\.21\.1\/cert-manager\.io_certificates\.yaml serves no version v1alpha2/);
    // Kubernetes' own kinds have no file: their defaults are not in a CRD.
    expect([...generateDefaults(SHARED, ['apps/v1 Deployment', 'v1 Service']).keys()]).toEqual([]);
  });

  /**
   * What the gate's CEL pass reads (imports/validations/, generated by `npm run import`) is what
   * scripts/crd-validations.ts extracts from the table's bundles today, for every custom kind we emit,
   * and holds every rule of the CRD's served version (but status's, which the gate does not validate),
   * at the same place and with the same fields.
   */
  test('imports/validations holds the CEL rules of the table\'s bundles, for every custom kind we emit', () => {
    const dir = join(REPO, 'imports', 'validations');
    const generated = generateValidations(SHARED);
    const files = readdirSync(dir).sort();
    expect(files).toEqual([...generated.keys()].sort());
    expect(files.filter((f) => readFileSync(join(dir, f), 'utf8') !== generated.get(f))).toEqual([]);
    const kinds = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as KindValidations);
    expect([...EMITTED].filter((gvk) => !kinds.some((k) => `${k.apiVersion} ${k.kind}` === gvk))).toEqual([]);
    const sites = (schema: SchemaNode) => ruleSites(schema).filter((r) => !r.path.startsWith('.status')).map((r) => ({ path: r.path, rule: r.rule }));
    let total = 0;
    for (const k of kinds) {
      const release = NAMES.find((n) => TABLE[n].crds && bundleCrds(TABLE[n].crds, SHARED).some((c) => c.name === k.source.crd));
      const crd = release ? bundleCrds(TABLE[release].crds!, SHARED).find((c) => c.name === k.source.crd) : undefined;
      const version = k.apiVersion.split('/')[1];
      const full = crd?.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema as SchemaNode | undefined;
      expect({ kind: k.kind, bundle: k.source.project, sites: sites(k.schema) })
        .toEqual({ kind: k.kind, bundle: release && TABLE[release].crds?.project, sites: full ? sites(full) : 'no schema' });
      total += sites(k.schema).length;
    }
    // Not vacuous: the emitted kinds' CRDs carry many rules (Gateway API's above all).
    expect(total).toBeGreaterThan(50);
  });
});

/** What scripts/import-crds.sh reads: the files scripts/crd-bundles.ts lists for a release. */
withShared('scripts/crd-bundles.ts', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/crd-bundles.ts', ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, SHARED_DIR: SHARED },
  });

  test('lists the files of the table\'s bundles, the Argo CD folder, and refuses a release without CRDs', () => {
    const cnpg = run('cloudnative-pg');
    expect({ stderr: cnpg.stderr, status: cnpg.status }).toEqual({ stderr: '', status: 0 });
    expect(cnpg.stdout).toBe(`${bundleFiles(served('cloudnative-pg').crds).map((f) => join(SHARED, f)).join('\n')}\n`);
    expect(cnpg.stdout).toMatch(/\/cloudnative-pg-1\.30\.0_clusters\.yaml$/m);
    expect(run('--dir', 'argo-cd').stdout).toBe(`${join(SHARED, served('argo-cd').crds.dir)}\n`);
    const loki = run('loki');
    expect({ stderr: loki.stderr, status: loki.status }).toEqual({ stderr: 'crd-bundles: loki is no release with CRDs in charts/gitops/platform-releases.ts\n', status: 1 });
  });
});

withShared('a version bumped without its CRDs fails (a changed copy of the table)', () => {
  test('prometheus-operator: a chart release that runs v0.94.0, with the v0.93.0 CRDs', () => {
    const shared = sharedWith({ 'kube-prometheus-stack-89.0.0': { chart: 'kube-prometheus-stack', version: '89.0.0', appVersion: 'v0.94.0' } });
    try {
      const kps = served('kube-prometheus-stack');
      // The chart bumped alone: the table's operator version is not what it runs.
      expect(versionProblems(changed('kube-prometheus-stack', { version: '89.0.0' }), shared)).toEqual([
        'kube-prometheus-stack: chart kube-prometheus-stack 89.0.0 runs prometheus-operator v0.94.0, the table says v0.93.1',
      ]);
      // The operator bumped with it, the CRDs not.
      const bumped = changed('kube-prometheus-stack', { version: '89.0.0', operator: { ...kps.operator, version: 'v0.94.0' } });
      expect(versionProblems(bumped, shared)).toEqual(expect.arrayContaining([
        expect.stringMatching(/^kube-prometheus-stack runs prometheus-operator v0\.94\.0 and is checked against the CRDs of prometheus-operator v0\.93\.0: not the same minor/),
      ]));
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  test('cert-manager: chart and operator at v1.22.0, CRDs of v1.21.1; then CRDs of v1.22.0 that are not there', () => {
    const shared = sharedWith({ 'cert-manager-v1.22.0': { chart: 'cert-manager', version: 'v1.22.0', appVersion: 'v0.0.0' } });
    try {
      const cm = served('cert-manager');
      const bumped = changed('cert-manager', { version: 'v1.22.0', operator: { project: 'cert-manager', version: 'v1.22.0' } });
      expect(versionProblems(bumped, shared)).toEqual([
        'cert-manager runs cert-manager v1.22.0 and is checked against the CRDs of cert-manager v1.21.1, with no crdsFrom saying why',
      ]);
      const withCrds = changed('cert-manager', {
        version: 'v1.22.0', operator: { project: 'cert-manager', version: 'v1.22.0' },
        crds: { ...cm.crds, version: 'v1.22.0', dir: 'platform-crds/cert-manager-v1.22.0' },
      });
      expect(versionProblems(withCrds, shared)).toEqual([`cert-manager: ${join(shared, 'platform-crds/cert-manager-v1.22.0')} is missing (the CRDs of cert-manager v1.22.0)`]);
      // A bundle that says one version and reads another's folder.
      const misfiled = changed('cert-manager', { crds: { ...cm.crds, version: 'v1.22.0' } });
      expect(versionProblems(misfiled, SHARED)).toEqual(expect.arrayContaining([
        'cert-manager: CRDs of cert-manager v1.22.0 are in platform-crds/cert-manager-v1.22.0 (or crds/), not platform-crds/cert-manager-v1.21.1',
        expect.stringMatching(/^cert-manager: platform-crds\/cert-manager-v1\.21\.1\/SOURCE does not name v1\.22\.0/),
      ]));
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  test('CloudNativePG: an operator bumped to 1.31.0 with the 1.30.0 CRDs, or CRDs of 1.31.0 that crds/ does not have', () => {
    const cnpg = served('cloudnative-pg');
    expect(versionProblems(changed('cloudnative-pg', { operator: { project: 'cloudnative-pg', version: '1.31.0' } }), SHARED)).toEqual([
      'cloudnative-pg: chart cloudnative-pg 0.29.0 runs cloudnative-pg 1.30.0, the table says 1.31.0',
      'cloudnative-pg runs cloudnative-pg 1.31.0 and is checked against the CRDs of cloudnative-pg 1.30.0, with no crdsFrom saying why',
    ]);
    expect(versionProblems(changed('cloudnative-pg', { crds: { ...cnpg.crds, version: '1.31.0' } }), SHARED)).toEqual([
      'cloudnative-pg runs cloudnative-pg 1.30.0 and is checked against the CRDs of cloudnative-pg 1.31.0, with no crdsFrom saying why',
      'cloudnative-pg: no CRD of cloudnative-pg 1.31.0 in crds (no files)',
    ]);
  });

  test('Argo CD: the image bumped to v3.7.0, CRDs two minors behind; a reason that does not say how far', () => {
    const argo = served('argo-cd');
    const problems = versionProblems(changed('argo-cd', { operator: { ...argo.operator, version: 'v3.7.0' } }), SHARED);
    expect(problems).toEqual(expect.arrayContaining([
      'argo-cd: staging deploys argo-cd v3.6.3 (values global.image.tag), the table says v3.7.0',
      expect.stringMatching(/^argo-cd runs argo-cd v3\.7\.0 and is checked against the CRDs of argo-cd v3\.5\.1: not at most one minor release behind/),
    ]));
    const vague = changed('argo-cd', { crdsFrom: { drift: 'one-minor-behind', reason: 'v3.5.1 are the CRDs we have; v3.6.3 runs' } });
    expect(versionProblems(vague, SHARED)).toEqual([expect.stringMatching(/crdsFrom's reason must say the CRDs are one minor behind$/)]);
    // Argo CD's CRDs newer than what runs are no better.
    expect(versionProblems(changed('argo-cd', { operator: { ...argo.operator, version: 'v3.4.4' } }), SHARED)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^argo-cd runs argo-cd v3\.4\.4 and is checked against the CRDs of argo-cd v3\.5\.1: not at most one minor release behind/),
    ]));
  });

  test('Envoy Gateway: a release that bundles Gateway API is bumped, and the fact of which Gateway API it bundles is not', () => {
    const shared = sharedWith({ 'gateway-helm-v1.10.0': { chart: 'gateway-helm', version: 'v1.10.0', appVersion: 'latest' } });
    try {
      const bumped = changed('envoy-gateway', { version: 'v1.10.0', operator: { project: 'envoy-gateway', version: 'v1.10.0' } });
      expect(versionProblems(bumped, shared)).toEqual([expect.stringMatching(
        /^envoy-gateway runs envoy-gateway v1\.10\.0 and is checked against the CRDs of gateway-api v1\.6\.1: crdsFrom's reason must name both versions/,
      )]);
      // Without crdsFrom, another project's CRDs are refused.
      expect(versionProblems(changed('envoy-gateway', { crdsFrom: undefined }), SHARED)).toEqual([
        'envoy-gateway runs envoy-gateway v1.9.0 and is checked against the CRDs of gateway-api v1.6.1, with no crdsFrom saying why',
      ]);
      expect(TABLE['envoy-gateway'].crdsFrom?.drift).toBe('bundled');
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  test('a crdsFrom that is not needed, or CRDs without an operator, are refused', () => {
    expect(versionProblems(changed('external-secrets', { crdsFrom: { drift: 'same-minor', reason: 'v2.9.0 v2.9.0' } }), SHARED)).toEqual([
      'external-secrets runs external-secrets v2.9.0 and is checked against the CRDs of external-secrets v2.9.0: the same version, so crdsFrom must go',
    ]);
    expect(versionProblems(changed('external-secrets', { operator: undefined }), SHARED)).toEqual([
      'external-secrets: an operator version and a CRD bundle go together (no operator)',
    ]);
    expect(TABLE['external-secrets'].crdsFrom).toBeUndefined();
  });

  test('kinds: one left without CRDs, a version no CRD serves, a bundle nothing emits', () => {
    expect(kindProblems(changed('external-secrets', { operator: undefined, crds: undefined }), EMITTED, SHARED)).toEqual([
      'external-secrets.io/v1 ExternalSecret: defined by 0 CRDs of the table\'s bundles',
    ]);
    expect(kindProblems(TABLE, new Set([...EMITTED, 'cert-manager.io/v1alpha2 Certificate']), SHARED)).toEqual([
      'cert-manager.io/v1alpha2 Certificate: platform-crds/cert-manager-v1.21.1/cert-manager.io_certificates.yaml serves v1, not v1alpha2',
    ]);
    const withoutSecrets = new Set([...EMITTED].filter((gvk) => !gvk.startsWith('external-secrets.io/')));
    expect(kindProblems(TABLE, withoutSecrets, SHARED)).toEqual(['external-secrets: its CRDs define no kind the output emits, so the table should not list them']);
    // The same bundle listed twice defines its kinds twice.
    const twice = changed('falco', { operator: { project: 'cert-manager', version: 'v1.21.1' }, crds: served('cert-manager').crds });
    expect(kindProblems(twice, EMITTED, SHARED)).toEqual(expect.arrayContaining([expect.stringMatching(/^cert-manager\.io\/v1 Certificate: defined by 2 CRDs/)]));
  });
});
