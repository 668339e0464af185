/**
 * Changes the API server refuses: a field that cannot be updated on an object that already exists.
 * Committed, such a change makes the Argo CD sync fail in production, with half the change applied.
 * Synthesis compares its output with the committed dist/ and argocd/ and refuses these changes, naming the
 * object, the field and the runbook section that makes the change safely; a reviewed change passes
 * with `--allow-immutable-change <environment>/<Kind>/<name>`.
 *
 * Where each rule comes from:
 * - StatefulSet: k8s.io/kubernetes pkg/apis/apps/validation ValidateStatefulSetUpdate: every spec
 *   field other than replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
 *   persistentVolumeClaimRetentionPolicy and minReadySeconds is forbidden to change.
 * - Deployment: ValidateDeploymentUpdate (apps/v1): the selector is immutable.
 * - PersistentVolumeClaim: pkg/apis/core/validation ValidatePersistentVolumeClaimUpdate: the spec is
 *   immutable except resources.requests (growing only, and only where the class allows expansion).
 * - Custom resources: their CRDs' transition rules (`oldSelf`), evaluated by pipeline/cel-gate.ts with
 *   the CRD's own message, such as CloudNativePG 1.30's Pooler and ScheduledBackup `spec.cluster`
 *   ("cluster reference is immutable after creation"; no hand-written copy here, to report it once),
 *   and Gateway API's GatewayClass `spec.controllerName` ("Value is immutable"), an object of argocd/.
 * - CloudNativePG 1.30, what its webhook refuses: a Cluster's storage and WAL storage
 *   cannot shrink, and WAL storage once there cannot be removed (internal/webhook/v1 cluster_webhook.go,
 *   validateStorageSize and validateWalStorageChange).
 */
import { parseQuantity } from '../environments/quantity';
import { celTransitionChanges } from './cel-gate';
import type { K8sObject } from './k8s-object';

/** The runbook with a section per kind of change. */
export const IMMUTABLE_RUNBOOK = 'runbooks/change-immutable-field.md';

export interface ImmutableChange {
  /** The field, as a path in the object (`spec.selector`). */
  readonly field: string;
  /** What the change is, in words. */
  readonly change: string;
  /** The runbook section that makes such a change safely (an anchor of IMMUTABLE_RUNBOOK); '' for the runbook as a whole. */
  readonly section: string;
}

/** JSON with object keys sorted: equal for equal values whatever order a file wrote keys in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** Bytes of a quantity; NaN for a committed file's value that is none (nothing to judge then). */
function bytes(q: unknown): number {
  try {
    return parseQuantity(String(q));
  } catch {
    return Number.NaN;
  }
}

function unchanged(field: string, before: unknown, after: unknown, section: string): ImmutableChange[] {
  return same(before, after) ? [] : [{ field, change: `${JSON.stringify(before)} → ${JSON.stringify(after)}`, section }];
}

function notShrunk(field: string, before: unknown, after: unknown, section: string): ImmutableChange[] {
  if (before === undefined || after === undefined) return [];
  return bytes(after) < bytes(before) ? [{ field, change: `shrinks from ${before} to ${after}`, section }] : [];
}

/** The StatefulSet spec fields Kubernetes lets an update change. */
const STATEFULSET_MUTABLE = new Set([
  'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds',
]);

type Rule = (before: K8sObject, after: K8sObject) => ImmutableChange[];

/**
 * A StatefulSet spec as the API server stores it, so that writing out what it defaults is not a
 * change: podManagementPolicy OrderedReady, and each claim template typed, Filesystem mode and
 * without status (pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet, core SetDefaults_PersistentVolumeClaimSpec).
 */
function storedStatefulSetSpec(spec: K8sObject | undefined): K8sObject {
  const s = structuredClone(spec ?? {});
  s.podManagementPolicy ??= 'OrderedReady';
  if (Array.isArray(s.volumeClaimTemplates)) {
    s.volumeClaimTemplates = s.volumeClaimTemplates.map(({ status: _, ...claim }: K8sObject) => ({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...claim, spec: { volumeMode: 'Filesystem', ...claim.spec },
    }));
  }
  return s;
}

/** By `<group> <kind>` (the core group is empty). */
const RULES: Record<string, Rule> = {
  'apps StatefulSet': (b, a) => {
    const [before, after] = [storedStatefulSetSpec(b.spec), storedStatefulSetSpec(a.spec)];
    const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => !STATEFULSET_MUTABLE.has(f)).sort();
    return fields.flatMap((f) => (same(before[f], after[f])
      ? []
      : [{ field: `spec.${f}`, change: f === 'volumeClaimTemplates' ? 'changes' : `${JSON.stringify(before[f])} → ${JSON.stringify(after[f])}`, section: 'statefulset' }]));
  },
  'apps Deployment': (b, a) => unchanged('spec.selector', b.spec?.selector, a.spec?.selector, 'deployment-selector'),
  ' PersistentVolumeClaim': (b, a) => [
    ...unchanged('spec.storageClassName', b.spec?.storageClassName, a.spec?.storageClassName, 'volume-class'),
    ...unchanged('spec.accessModes', b.spec?.accessModes, a.spec?.accessModes, 'volume-class'),
    ...notShrunk('spec.resources.requests.storage', b.spec?.resources?.requests?.storage, a.spec?.resources?.requests?.storage, 'volume-shrink'),
  ],
  // pkg/apis/scheduling/validation ValidatePriorityClassUpdate: value and preemptionPolicy are immutable.
  'scheduling.k8s.io PriorityClass': (b, a) => [
    ...unchanged('value', b.value, a.value, 'priority-class'),
    ...unchanged('preemptionPolicy', b.preemptionPolicy ?? 'PreemptLowerPriority', a.preemptionPolicy ?? 'PreemptLowerPriority', 'priority-class'),
  ],
  'postgresql.cnpg.io Cluster': (b, a) => [
    ...notShrunk('spec.storage.size', b.spec?.storage?.size, a.spec?.storage?.size, 'volume-shrink'),
    ...notShrunk('spec.walStorage.size', b.spec?.walStorage?.size, a.spec?.walStorage?.size, 'volume-shrink'),
    ...(b.spec?.walStorage && !a.spec?.walStorage ? [{ field: 'spec.walStorage', change: 'is removed', section: 'volume-shrink' }] : []),
  ],
};

const group = (o: K8sObject) => (String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0] : '');

/** Identity of an object in a cluster: group, kind, namespace and name (not the version). */
export function objectKey(o: K8sObject): string {
  return `${group(o)} ${o.kind} ${o.metadata?.namespace ?? ''} ${o.metadata?.name}`;
}

/** What `after` changes in `before` (the same object) that the API server would refuse. */
export function immutableChanges(before: K8sObject, after: K8sObject): ImmutableChange[] {
  return [...RULES[`${group(after)} ${after.kind}`]?.(before, after) ?? [], ...celTransitionChanges(before, after)];
}

export interface RefusedChange extends ImmutableChange {
  /** `<environment>/<Kind>/<name>`: what `--allow-immutable-change` takes. */
  readonly object: string;
}

/**
 * Every refused change of an environment's objects, comparing the committed ones (absent when the
 * environment is new) with the new ones, except on objects in `allowed`. An object that is new or
 * gone is not a change of a field.
 */
export function refusedChanges(
  env: string, committed: readonly K8sObject[], synthesized: readonly K8sObject[], allowed: ReadonlySet<string>,
): RefusedChange[] {
  const old = new Map(committed.map((o) => [objectKey(o), o]));
  return synthesized.flatMap((o) => {
    const before = old.get(objectKey(o));
    const object = `${env}/${o.kind}/${o.metadata?.name}`;
    if (!before || allowed.has(object)) return [];
    return immutableChanges(before, o).map((c) => ({ ...c, object }));
  });
}

/** One line naming the object, the field, the change and what to do. */
export function refusalMessage(c: RefusedChange): string {
  return `${c.object}: ${c.field} ${c.change}, which Kubernetes refuses on an existing object (the Argo CD sync would fail); `
    + `follow ${IMMUTABLE_RUNBOOK}${c.section ? `#${c.section}` : ''}, then run with --allow-immutable-change ${c.object}`;
}
