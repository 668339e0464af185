/**
 * An Argo CD AppProject: what the Applications in it may read and where they may write. Every list
 * is explicit (no `*` kinds or repositories), so an Application that suddenly renders a kind its
 * project was not meant to hold fails its sync with "not permitted in project" instead of
 * applying it. No `description` fields (the project's or its roles'): the schemas of
 * @kubernetes-models/argo-cd, which the strict gate reads, lost every field named `description`
 * (their generator strips the keyword), so the names say what each is.
 */
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { IN_CLUSTER } from './in-cluster';

/** A kind by API group (`''` for the core group) and name, and optionally one object of it by name. */
export interface GroupKind {
  readonly group: string;
  readonly kind: string;
  /**
   * Only the cluster-scoped object of this name (Argo CD 3.5+ `clusterResourceWhitelist[].name`).
   * @default every object of the kind
   */
  readonly name?: string;
}

/** A period in which automated syncs are blocked. */
export interface SyncFreeze {
  readonly description: string;
  /** 5-field cron expression of each period's start, in `timeZone`. */
  readonly schedule: string;
  /** Go duration of each period. */
  readonly duration: string;
  readonly timeZone: string;
  /** Whether a person may still sync by hand. */
  readonly manualSync: boolean;
}

/** A role of the project: who (SSO groups) may do what to its Applications. */
export interface ProjectRoleSpec {
  readonly name: string;
  /**
   * Argo CD RBAC permissions on the project's applications, as `[resource, action]`:
   * `['applications', 'get']`, `['applications', 'sync']`, `['logs', 'get']` (a permission of its
   * own since Argo CD 3.0).
   */
  readonly permissions: readonly (readonly [resource: 'applications' | 'logs', action: string])[];
  /** SSO groups given the role. @default none (the role is used through its tokens) */
  readonly groups?: readonly string[];
}

export interface ArgoProjectProps {
  readonly identity: AppIdentity;
  readonly name: string;
  /** Namespace Argo CD runs in. */
  readonly argocdNamespace: string;
  /** Sync wave within the root Application. */
  readonly wave: number;
  /** Repositories (git or Helm) its Applications may read. */
  readonly sourceRepos: readonly string[];
  /** Namespaces of this cluster its Applications may write to. */
  readonly namespaces: readonly string[];
  /** Cluster-scoped kinds its Applications may write. @default none */
  readonly clusterKinds?: readonly GroupKind[];
  /** Namespaced kinds its Applications may write. @default any (the chart renders what it renders) */
  readonly namespacedKinds?: readonly GroupKind[];
  /** Warn about objects in its namespaces that no Application of it manages. @default false */
  readonly warnOrphans?: boolean;
  /** @default none */
  readonly roles?: readonly ProjectRoleSpec[];
  /** @default none */
  readonly syncFreezes?: readonly SyncFreeze[];
}

const groupKindKey = (k: GroupKind) => `${k.group}/${k.kind}/${k.name ?? ''}`;
const byGroupKind = (a: GroupKind, b: GroupKind) => (groupKindKey(a) < groupKindKey(b) ? -1 : groupKindKey(a) > groupKindKey(b) ? 1 : 0);

const kindList = (kinds: readonly GroupKind[]) => [...kinds].sort(byGroupKind)
  .map((k) => ({ group: k.group, kind: k.kind, ...(k.name !== undefined ? { name: k.name } : {}) }));

export class ArgoProject extends Construct {
  constructor(scope: Construct, id: string, props: ArgoProjectProps) {
    super(scope, id);
    const { name } = props;
    new ModelObject(this, 'AppProject', new AppProject({
      metadata: {
        name,
        namespace: props.argocdNamespace,
        labels: recommendedLabels(props.identity, name, 'delivery'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
        // An Application of a deleted project stops syncing; deleting a project with
        // Applications in it is refused while the finalizer is on.
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        sourceRepos: [...props.sourceRepos].sort(),
        destinations: [...new Set(props.namespaces)].sort().map((namespace) => ({ server: IN_CLUSTER, namespace })),
        clusterResourceWhitelist: kindList(props.clusterKinds ?? []),
        ...(props.namespacedKinds ? { namespaceResourceWhitelist: kindList(props.namespacedKinds) } : {}),
        ...(props.warnOrphans ? { orphanedResources: { warn: true } } : {}),
        ...(props.roles && props.roles.length > 0 ? {
          roles: props.roles.map((r) => ({
            name: r.name,
            // Argo CD's project policy syntax: p, <subject>, <resource>, <action>, <project>/<object>, <effect>.
            policies: r.permissions.map(([resource, action]) => `p, proj:${name}:${r.name}, ${resource}, ${action}, ${name}/*, allow`),
            ...(r.groups && r.groups.length > 0 ? { groups: [...r.groups] } : {}),
          })),
        } : {}),
        ...(props.syncFreezes && props.syncFreezes.length > 0 ? {
          syncWindows: props.syncFreezes.map((f) => ({
            kind: 'deny',
            description: f.description,
            schedule: f.schedule,
            duration: f.duration,
            timeZone: f.timeZone,
            applications: ['*'],
            manualSync: f.manualSync,
          })),
        } : {}),
      },
    }));
  }
}
