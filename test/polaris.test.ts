/**
 * Polaris, the admission and CI checker many clusters run, finds no danger in what we synthesize.
 * The Polaris binary does not run here, so its own check definitions do (test/fixtures/polaris:
 * JSON Schemas, draft 2019-09, copied unchanged at a pinned commit): every check its default
 * configuration rates `danger`, applied the way pkg/validator/schema.go applies them. A resource is
 * audited when a pod spec is found inside it the way pkg/kube/resource.go GetPodSpec finds one
 * (through spec, jobTemplate and template: Deployments, StatefulSets, CronJobs, and CloudNativePG's
 * Pooler); a Container check runs per container, init containers included, and with schemaTarget
 * PodSpec against a copy of the pod spec holding only that container.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { UPTIME_PROBERS } from '../environments/model/names';
import { ref, type K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { boxDesigner, boxDesignerPostgresOnly, variant } from './support/fixtures';
import { REPO } from './support/repository-copy';

const DIR = join(REPO, 'test', 'fixtures', 'polaris');
const severities = (parse(readFileSync(join(DIR, 'default.yaml'), 'utf8')) as { checks: Record<string, string> }).checks;

interface Check {
  readonly id: string;
  readonly target: string;
  readonly schemaTarget?: string;
  /** Kinds of controller the check is limited to, or spares. */
  readonly controllers?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  /** `initContainer`: init containers are spared. */
  readonly containers?: { readonly exclude?: readonly string[] };
  readonly validate: (data: unknown) => boolean;
}

// Polaris' patterns are Go's (RE2): `(?i)` turns case-insensitivity on, which JavaScript spells as a flag.
const goRegExp = Object.assign((pattern: string, flags: string) => {
  const insensitive = pattern.includes('(?i)');
  return new RegExp(pattern.replaceAll('(?i)', ''), insensitive ? `${flags}i` : flags);
}, { code: 'goRegExp' });
const ajv = new Ajv2019({ strict: false, allErrors: true, code: { regExp: goRegExp } });

/** hostPortSet says `required:` with nothing after it (null), which Polaris' schema library reads as no requirement. */
function withoutNullRequired(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutNullRequired);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k, v]) => !(k === 'required' && v === null)).map(([k, v]) => [k, withoutNullRequired(v)]));
}

const checks: Check[] = readdirSync(join(DIR, 'checks')).sort().map((file) => {
  const def = parse(readFileSync(join(DIR, 'checks', file), 'utf8')) as Omit<Check, 'id' | 'validate'> & { schema?: object; schemaString?: string };
  const schema = withoutNullRequired(def.schema ?? parse(def.schemaString ?? '{}'));
  return { id: file.replace(/\.yaml$/, ''), target: def.target, schemaTarget: def.schemaTarget, controllers: def.controllers, containers: def.containers, validate: ajv.compile(schema as object) };
});

const POD_SPEC_FIELDS = ['jobTemplate', 'spec', 'template'];
/** pkg/kube/resource.go GetPodSpec: down spec, jobTemplate and template to the object with containers. */
function podSpecOf(o: K8sObject): K8sObject | undefined {
  for (const field of POD_SPEC_FIELDS) {
    if (o[field] !== undefined) return typeof o[field] === 'object' && o[field] !== null ? podSpecOf(o[field]) : undefined;
  }
  return o.containers !== undefined ? o : undefined;
}

/** The findings of one check on one object: `<check> <Kind ns/name>[ container <name>]`. */
function findings(check: Check, o: K8sObject): string[] {
  const at = (what = '') => `${check.id} ${ref(o)}${what}`;
  if (check.target.startsWith('/') || check.target.includes('/')) {
    // `/ConfigMap`, `rbac.authorization.k8s.io/Role`: a kind, in the core group or another.
    const [group, kind] = check.target.split('/');
    const objectGroup = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0] : '';
    return o.kind === kind && objectGroup === group && !check.validate(o) ? [at()] : [];
  }
  const spec = podSpecOf(o);
  if (!spec) return [];
  if (check.controllers?.include && !check.controllers.include.includes(o.kind)) return [];
  if (check.controllers?.exclude?.includes(o.kind)) return [];
  if (check.target === 'Controller') return check.validate(o) ? [] : [at()];
  if (check.target === 'PodSpec') return check.validate(spec) ? [] : [at()];
  if (check.target !== 'Container') throw new Error(`${check.id}: target ${check.target} is not handled here`);
  const init: K8sObject[] = check.containers?.exclude?.includes('initContainer') ? [] : (spec.initContainers ?? []);
  const containers: K8sObject[] = [...init, ...(spec.containers ?? [])];
  return containers.filter((c) => !check.validate(check.schemaTarget === 'PodSpec' ? { ...spec, initContainers: [], containers: [c] } : c))
    .map((c) => at(` container ${c.name}`));
}

const outputs: [string, K8sObject[]][] = [
  ...resolveEnvironments(environments, REPO).map((env) => [env.name, synthObjects(env).map((o) => o.object)] as [string, K8sObject[]]),
  ['box designer', synthObjects(variant(boxDesigner)).map((o) => o.object)],
  ['box designer with PostgreSQL only', synthObjects(boxDesignerPostgresOnly()).map((o) => o.object)],
];

test('every check of the default configuration rated danger is here, or judges objects the output does not have', () => {
  const rated = Object.entries(severities).filter(([, s]) => s === 'danger').map(([id]) => id).sort();
  const here = checks.map((c) => c.id);
  const absent = rated.filter((id) => !here.includes(id));
  // The RBAC binding checks (Go templates over the roles they bind): no binding, no finding.
  expect(absent.every((id) => /^(cluster)?rolebinding/.test(id))).toBe(true);
  for (const [, objects] of outputs) {
    expect(objects.filter((o) => ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(o.kind))).toEqual([]);
  }
  expect(here.every((id) => ['danger', 'warning'].includes(severities[id]))).toBe(true);
});

const danger = checks.filter((c) => severities[c.id] === 'danger');
const warnings = checks.filter((c) => severities[c.id] === 'warning');

test.each(outputs)('%s: no danger', (_name, objects) => {
  expect(danger.flatMap((check) => objects.flatMap((o) => findings(check, o)))).toEqual([]);
});

/**
 * The warnings that remain, each on purpose and justified in the README's table (section
 * "Polaris"): which check, and on what it may fire. Any other warning fails here.
 */
const ACCEPTED_WARNINGS: Record<string, (finding: string, objects: readonly K8sObject[]) => boolean> = {
  // Every image is pinned by digest in production: IfNotPresent cannot run another image.
  pullPolicyNotAlways: () => true,
  // A Deployment whose replicas its HorizontalPodAutoscaler owns; an uptime prober, one pod of a pair.
  deploymentMissingReplicas: (f, objects) => objects.some((o) => o.kind === 'HorizontalPodAutoscaler'
    && f.startsWith(`deploymentMissingReplicas Deployment ${o.metadata.namespace}/${o.spec.scaleTargetRef.name}`))
    || UPTIME_PROBERS.some((p) => new RegExp(`^deploymentMissingReplicas Deployment [a-z0-9-]+/${p}$`).test(f)),
  // PgBouncer's probes are CloudNativePG's to set; a worker is sent no traffic (no Service selects it).
  readinessProbeMissing: (f, objects) => /^readinessProbeMissing Pooler /.test(f)
    || objects.some((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'workload'
      && !objects.some((svc) => svc.kind === 'Service' && svc.metadata.name === o.metadata.name)
      && f === `readinessProbeMissing Deployment ${o.metadata.namespace}/${o.metadata.name} container ${o.metadata.name}`),
  livenessProbeMissing: (f) => /^livenessProbeMissing Pooler /.test(f),
};

test.each(outputs)('%s: only the warnings the README justifies', (_name, objects) => {
  const found = warnings.flatMap((check) => objects.flatMap((o) => findings(check, o)));
  expect(found.filter((f) => !ACCEPTED_WARNINGS[f.split(' ')[0]]?.(f, objects))).toEqual([]);
});

test('the README justifies each accepted warning, and only those', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Polaris'), readme.indexOf('\n## ', readme.indexOf('### Polaris')));
  const listed = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]).sort();
  expect(listed).toEqual(Object.keys(ACCEPTED_WARNINGS).sort());
  for (const id of listed) expect(severities[id]).toBe('warning');
});

test('the pod spec is found where Polaris finds it: in workloads and in a Pooler; not in a Cluster or a ConfigMap', () => {
  const [, production] = outputs[1];
  const audited = production.filter((o) => podSpecOf(o)).map((o) => `${o.kind} ${o.metadata.name}`).sort();
  expect(audited).toEqual([
    'CronJob backup-database', 'CronJob backup-files', 'CronJob backup-verify', 'CronJob purge-documents', 'Deployment api', ...UPTIME_PROBERS.map((p) => `Deployment ${p}`),
    'Deployment documents', 'Deployment web', 'Job api-migrate', 'Job smoke-test',
    'Pooler student-portal-db-pooler', 'StatefulSet student-portal-redis',
  ]);
});

describe('the checks find what they are for (the harness can fail)', () => {
  const [, production] = outputs[1];
  const api = () => structuredClone(production.find((o) => o.kind === 'Deployment' && o.metadata.name === 'api')!);
  const run = (o: K8sObject) => danger.flatMap((check) => findings(check, o));
  const ns = api().metadata.namespace;

  test.each([
    ['hostIPCSet', (o: K8sObject) => { o.spec.template.spec.hostIPC = true; }, ''],
    ['hostPIDSet', (o: K8sObject) => { o.spec.template.spec.hostPID = true; }, ''],
    ['hostNetworkSet', (o: K8sObject) => { o.spec.template.spec.hostNetwork = true; }, ''],
    ['runAsPrivileged', (o: K8sObject) => { o.spec.template.spec.containers[0].securityContext.privileged = true; }, ' container api'],
    ['privilegeEscalationAllowed', (o: K8sObject) => { o.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true; }, ' container api'],
    ['runAsRootAllowed', (o: K8sObject) => {
      delete o.spec.template.spec.securityContext.runAsNonRoot;
      delete o.spec.template.spec.securityContext.runAsUser;
      delete o.spec.template.spec.containers[0].securityContext.runAsNonRoot;
      delete o.spec.template.spec.containers[0].securityContext.runAsUser;
    }, ' container api'],
    ['dangerousCapabilities', (o: K8sObject) => { o.spec.template.spec.containers[0].securityContext.capabilities.add = ['net_admin']; }, ' container api'],
    ['sensitiveContainerEnvVar', (o: K8sObject) => { o.spec.template.spec.containers[0].env.push({ name: 'Db_Password', value: 'x' }); }, ' container api'],
    ['tagNotSpecified', (o: K8sObject) => { o.spec.template.spec.containers[0].image = 'registry.example/api'; }, ' container api'],
  ])('%s', (id, change, where) => {
    const o = api();
    expect(run(o)).toEqual([]);
    change(o);
    expect(run(o)).toEqual([`${id} Deployment ${ns}/api${where}`]);
  });

  test('sensitiveConfigmapContent, and an init container judged on its own', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: ns }, data: { AWS_SECRET_ACCESS_KEY: 'x' } };
    expect(run(cm)).toEqual([`sensitiveConfigmapContent ConfigMap ${ns}/x`]);
    const o = api();
    o.spec.template.spec.initContainers = [{ ...o.spec.template.spec.containers[0], name: 'init', image: 'busybox' }];
    expect(run(o)).toEqual([`tagNotSpecified Deployment ${ns}/api container init`]);
  });
});
