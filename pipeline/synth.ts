/**
 * One environment from configuration to files: build the charts, check every object (schema, the
 * CRD defaults the API server would add, its CRD's CEL rules, then policy), and render one YAML file per object.
 * Nothing is written here; the caller writes only when every environment came through without a problem.
 */
import { ApiObject, App, type Chart } from 'cdk8s';
import { stringify } from 'yaml';
import { AppChart } from '../charts/app/app-chart';
import { BackupChart } from '../charts/backup/backup-chart';
import { syncWaveAnnotation } from '../charts/common/sync-waves';
import { DataChart } from '../charts/data/data-chart';
import { ExtensionsChart } from '../charts/extensions/extensions-chart';
import { GitopsChart } from '../charts/gitops/gitops-chart';
import { LoggingChart } from '../charts/logging/logging-chart';
import { ObservabilityChart } from '../charts/observability/observability-chart';
import { PlatformChart } from '../charts/platform/platform-chart';
import { SecurityChart } from '../charts/security/security-chart';
import { buildModel, type Model } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import { celProblems } from './cel-gate';
import { defaultsProblems, groupOf } from './crd-defaults';
import { ref, type K8sObject } from './k8s-object';
import { checkPolicy, podTemplate } from './policy';
import { validateObject } from './schema-validation';

/** The folders of dist/<env>/, one per chart. */
export const CHART_FOLDERS = {
  platform: 'platform', security: 'security', data: 'data', backup: 'backup', app: 'app', observability: 'observability', logging: 'logging', extensions: 'extensions',
} as const;

/** The folders the data tier's own Argo CD Application syncs; the rest is the application's. */
export const DATA_TIER_FOLDERS: readonly string[] = [CHART_FOLDERS.data, CHART_FOLDERS.backup];

/** The charts of one environment, by the folder their files go to under dist/<env>/. */
export function buildCharts(model: Model): Chart[] {
  const app = new App();
  return [
    new PlatformChart(app, CHART_FOLDERS.platform, { model }),
    new SecurityChart(app, CHART_FOLDERS.security, { model }),
    new DataChart(app, CHART_FOLDERS.data, { model }),
    new BackupChart(app, CHART_FOLDERS.backup, { model }),
    new AppChart(app, CHART_FOLDERS.app, { model }),
    new ObservabilityChart(app, CHART_FOLDERS.observability, { model }),
    new LoggingChart(app, CHART_FOLDERS.logging, { model }),
    // The user's own constructs (environments/extension.ts), when the environment has any.
    ...(model.env.extensions.length > 0 ? [new ExtensionsChart(app, CHART_FOLDERS.extensions, { model })] : []),
  ];
}

export interface SynthObject {
  /** Chart id: the folder under dist/<env>/. */
  readonly chart: string;
  readonly object: K8sObject;
  /** The construct that made it (`extensions/reports/Deployment/Resource`), for the extensions' objects. */
  readonly path?: string;
}

/** Every object of the environment, sync-wave annotations applied. */
export function synthObjects(env: Environment): SynthObject[] {
  return modelObjects(buildModel(env));
}

/** Every object built from a model, sync-wave annotations applied. */
export function modelObjects(model: Model): SynthObject[] {
  return buildCharts(model).flatMap((chart) => {
    for (const c of chart.node.findAll()) {
      if (!(c instanceof ApiObject)) continue;
      // An object that names its wave (the load test, after the smoke test among PostSync hooks) keeps it.
      const own = (c.metadata.toJson() as { annotations?: Record<string, string> }).annotations ?? {};
      for (const [key, value] of Object.entries(syncWaveAnnotation(c.kind))) if (!(key in own)) c.metadata.addAnnotation(key, value);
    }
    const objects = chart.toJson().map((object: K8sObject) => ({ chart: chart.node.id, object }));
    if (chart.node.id !== CHART_FOLDERS.extensions) return objects;
    // The user's code is found by its construct path: messages about its objects name it.
    // (By the rendered kind and name: a JSON patch may have renamed the object.)
    const paths = new Map(chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)
      .map((c) => [`${c.kind} ${(c.toJson() as K8sObject).metadata?.name}`, c.node.path]));
    return objects.map((o) => ({ ...o, path: paths.get(`${o.object.kind} ${o.object.metadata?.name}`) }));
  });
}

/** `app/deployment-api.yaml`: a reader finds an object's file from its kind and name. */
export function fileName({ chart, object }: SynthObject): string {
  return `${chart}/${objectFileName(object)}`;
}

/** `application-root.yaml`: an object's file within its folder. */
export function objectFileName(object: K8sObject): string {
  return `${String(object.kind).toLowerCase()}-${object.metadata.name}.yaml`;
}

/**
 * The Argo CD objects of the environment's cluster (argocd/<env>/), made from the model and the
 * environment's own objects (its project may hold exactly their kinds).
 */
export function argocdObjects(model: Model, objects: readonly SynthObject[]): K8sObject[] {
  const dataFolders = DATA_TIER_FOLDERS.filter((folder) => objects.some((o) => o.chart === folder));
  return new GitopsChart(new App(), 'argocd', { model, objects: objects.map((o) => o.object), dataFolders }).toJson() as K8sObject[];
}

/**
 * Kubernetes and Argo CD read YAML with go-yaml's 1.1 rules, where an unquoted `on`, `yes` or `no`
 * is a boolean: writing YAML 1.1 quotes them. go-yaml also reads numbers in Go's syntax, such as
 * `0o17`, which is not a YAML 1.1 number but is a 1.2 one: `compat: 'core'` quotes every string
 * that a YAML 1.2 reader would read as a number, boolean or null as well. No line folding, no
 * anchors: diffs stay line-local.
 */
export const YAML_OPTIONS = { version: '1.1', compat: 'core', lineWidth: 0, aliasDuplicateObjects: false } as const;

export function renderObject(env: Environment, object: K8sObject): string {
  return `# Generated by shipshape from environments/${env.name}.ts: do not edit, run npm run synth.\n`
    + stringify(object, YAML_OPTIONS);
}

export interface EnvironmentResult {
  readonly env: Environment;
  /** The model the files were built from. */
  readonly model: Model;
  /** The objects the files hold. */
  readonly objects: readonly K8sObject[];
  /** Rendered files, relative to dist/<env>/. */
  readonly files: Map<string, string>;
  /** The Argo CD objects of the environment's cluster. */
  readonly argocdObjects: readonly K8sObject[];
  /** Their rendered files, relative to argocd/<env>/. */
  readonly argocdFiles: Map<string, string>;
  /** `<env>: <Kind ns/name>: <problem>` lines; empty when the environment may be written. */
  readonly problems: string[];
}

/** Strict schema problems of these objects: `<env>: <Kind ns/name>: schema: …` lines. */
export async function schemaProblems(env: Environment, objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    for (const p of await validateObject(object)) problems.push(`${env.name}: ${ref(object)}: schema: ${p}`);
  }
  return problems;
}

/**
 * Fields the API server would add to custom resources from their CRDs' defaults (pipeline/crd-defaults.ts):
 * `<env>: <Kind ns/name>: defaults: <path>: …` lines. An object it would alter never converges in Argo CD.
 */
export function crdDefaultsProblems(env: Environment, objects: readonly K8sObject[]): string[] {
  return defaultsProblems(env.name, objects);
}

/**
 * Custom resources their CRDs' CEL rules refuse (pipeline/cel-gate.ts): `<env>: <Kind ns/name>: <field>:
 * <the CRD's message> (CEL rule of …)` lines. Transition rules are checked against the committed
 * objects with the other updates Kubernetes refuses (pipeline/pipeline.ts, refusedChangesOf).
 */
export function crdCelProblems(env: Environment, objects: readonly K8sObject[]): string[] {
  return celProblems(env.name, objects);
}

/** Policy violations over the whole set: `<env>: <Kind ns/name>: policy <rule>: …` lines. */
export function policyProblems(env: Environment, objects: readonly K8sObject[]): string[] {
  return checkPolicy(objects, { production: env.production }).map((v) => `${env.name}: ${v.object}: policy ${v.rule}: ${v.message}`);
}

/** Kinds that belong to the cluster, not a namespace: an extension may not make them (the platform's are argocd/'s). */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass',
  'IngressClass', 'RuntimeClass', 'CSIDriver', 'VolumeSnapshotClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'APIService', 'ClusterIssuer', 'GatewayClass', 'ClusterSecretStore',
  'ClusterExternalSecret', 'ClusterImageCatalog',
]);

/**
 * What an extension may add: workloads and what serves them inside the namespace. Not a
 * NetworkPolicy (its workloads' flows are declared, and the model writes their policies; policies
 * add up, so one of its own could open the namespace), nor a Secret (the secret manager's), nor
 * anything else the gate has no rules for.
 */
const EXTENSION_KINDS = new Set([
  'Deployment', 'StatefulSet', 'Job', 'CronJob', 'Service', 'ConfigMap', 'ServiceAccount', 'Role', 'RoleBinding', 'PodDisruptionBudget',
  'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ExternalSecret',
]);

/** Why an extension's object in the application's namespace is refused, if it is. */
function extensionObjectProblem(env: Environment, o: SynthObject): string | undefined {
  const { object } = o;
  const kind = String(object.kind);
  const extension = env.extensions.find((e) => e.name === o.path?.split('/')[1]);
  if (kind === 'NetworkPolicy') return 'an extension declares its workloads\' flows (workloads.<name>), and the model writes their NetworkPolicies: it may not add one';
  if (!EXTENSION_KINDS.has(kind)) return `a ${kind} is not among the kinds an extension may add (${[...EXTENSION_KINDS].join(', ')})`;
  if (kind === 'Service' && (object.spec?.type ?? 'ClusterIP') !== 'ClusterIP') {
    return `a Service of type ${object.spec.type} would reach its pods around the Gateway: only ClusterIP`;
  }
  if (kind === 'RoleBinding') {
    const outside = (object.subjects ?? []).filter((s: K8sObject) => s.kind !== 'ServiceAccount' || (s.namespace ?? env.app.namespace) !== env.app.namespace);
    if (outside.length > 0) return `binds ${outside.map((s: K8sObject) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`).join(', ')}: only ServiceAccounts of ${env.app.namespace}`;
  }
  const template = podTemplate(object);
  const name = template?.metadata?.labels?.['app.kubernetes.io/name'];
  if (template && (name === undefined || !Object.hasOwn(extension?.workloads ?? {}, name))) {
    return `its pods are labelled app.kubernetes.io/name=${String(name)}, which is not a workload extensions (${extension?.name}) declares: declare it and its flows in workloads`;
  }
  return undefined;
}

/** Objects of the whole output with the same kind, namespace and name: Argo CD would apply only one of them. */
function duplicateProblems(env: Environment, objects: readonly SynthObject[]): string[] {
  const seen = new Map<string, SynthObject>();
  const out: string[] = [];
  for (const o of objects) {
    const key = `${groupOf(String(o.object.apiVersion))} ${ref(o.object)}`;
    const first = seen.get(key);
    if (first) out.push(`${env.name}: ${ref(o.object)}: is made twice (${fileName(first)} and ${fileName(o)}); Argo CD would apply only one of them: give one another name`);
    else seen.set(key, o);
  }
  return out;
}

/**
 * The extensions' objects: in the application's namespace only, nothing cluster-wide. The gate's
 * lines about them (in `problems`, changed in place) name the construct that made each, and an
 * extension with problems gets one line on how the project's defaults are set.
 */
function extensionProblems(env: Environment, objects: readonly SynthObject[], problems: string[]): string[] {
  const own = objects.filter((o) => o.chart === CHART_FOLDERS.extensions);
  const out: string[] = [];
  const namespace = env.app.namespace;
  for (const o of own) {
    const where = ` (construct ${o.path ?? '?'})`;
    if (CLUSTER_SCOPED.has(String(o.object.kind))) {
      out.push(`${env.name}: ${ref(o.object)}: extensions may only add objects of the application's namespace, not a cluster-wide ${o.object.kind}${where}`);
    } else if (o.object.metadata?.namespace !== namespace) {
      out.push(`${env.name}: ${ref(o.object)}: is in namespace ${String(o.object.metadata?.namespace)}; an extension's objects belong in the application's namespace, `
        + `${namespace} (leave metadata.namespace out: the extensions chart sets it)${where}`);
    } else {
      const problem = extensionObjectProblem(env, o);
      if (problem) out.push(`${env.name}: ${ref(o.object)}: ${problem}${where}`);
    }
  }
  const troubled = new Set<string>();
  for (const o of own) {
    const prefix = `${env.name}: ${ref(o.object)}: `;
    for (const [i, line] of problems.entries()) {
      if (line.startsWith(prefix) && !line.includes(' (construct ')) {
        problems[i] = `${line} (construct ${o.path ?? '?'})`;
        troubled.add(o.path?.split('/')[1] ?? '?');
      }
    }
  }
  for (const name of troubled) {
    out.push(`${env.name}: extensions (${name}): a cdk8s-plus-28 Deployment not yet given to productionWorkload() (charts/extensions/production-workload.ts) gets there `
      + 'the labels, selector, security contexts, pull policy, replicas, PriorityClass, spread and disruption budget the policy asks for; probes and resources stay yours (docs/extending.md)');
  }
  return out;
}

/** Build, check and render one environment. */
export async function synthesizeEnvironment(env: Environment): Promise<EnvironmentResult> {
  const model = buildModel(env);
  const objects = modelObjects(model);
  // The gate every object passes (npm run restore-plan puts its objects through it too).
  const problems = [
    ...await schemaProblems(env, objects.map((o) => o.object)),
    ...crdDefaultsProblems(env, objects.map((o) => o.object)),
    ...crdCelProblems(env, objects.map((o) => o.object)),
    ...policyProblems(env, objects.map((o) => o.object)),
  ];
  problems.push(...duplicateProblems(env, objects), ...extensionProblems(env, objects, problems));
  const files = new Map<string, string>();
  for (const o of objects) {
    const name = fileName(o);
    if (files.has(name)) {
      problems.push(`${env.name}: ${ref(o.object)}: two objects would be written to ${name}; give one another name`);
    }
    files.set(name, renderObject(env, o.object));
  }
  const argocd = argocdObjects(model, objects);
  problems.push(...await schemaProblems(env, argocd), ...crdDefaultsProblems(env, argocd), ...crdCelProblems(env, argocd), ...policyProblems(env, argocd));
  const argocdFiles = new Map<string, string>();
  for (const object of argocd) {
    const name = objectFileName(object);
    if (argocdFiles.has(name)) problems.push(`${env.name}: ${ref(object)}: two Argo CD objects would be written to ${name}; give one another name`);
    argocdFiles.set(name, renderObject(env, object));
  }
  return { env, model, objects: objects.map((o) => o.object), files, argocdObjects: argocd, argocdFiles, problems };
}
