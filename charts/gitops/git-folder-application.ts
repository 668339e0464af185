/**
 * An Argo CD Application of a folder of this repository: the root Application (argocd/<env>) and
 * the environment's own (dist/<env>). Plain YAML, read recursively; what the folder holds is
 * exactly what is applied.
 */
import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { IN_CLUSTER } from './in-cluster';
import { syncPolicy } from './sync-policy';

export interface GitFolderApplicationProps {
  readonly identity: AppIdentity;
  readonly name: string;
  /** Namespace Argo CD runs in (the Application's own namespace). */
  readonly argocdNamespace: string;
  readonly project: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Folder of the repository. */
  readonly path: string;
  /** Namespace objects without one go to. */
  readonly namespace: string;
  /** Only the files matching this glob (Argo CD's, braces allowed), relative to `path`. @default every file */
  readonly include?: string;
  /** Not the files matching this glob. @default none */
  readonly exclude?: string;
  /** Sync wave of the Application within its parent. @default none (wave 0) */
  readonly wave?: number;
  /**
   * Compare with what the API server would make of the object (its defaults, webhooks) instead
   * of the object as written: operators such as CloudNativePG default fields in admission, and a
   * client-side diff would show those as drift forever. @default false
   */
  readonly serverSideDiff?: boolean;
  /** More annotations (notification subscriptions). @default none */
  readonly annotations?: Readonly<Record<string, string>>;
}

export class GitFolderApplication extends Construct {
  constructor(scope: Construct, id: string, props: GitFolderApplicationProps) {
    super(scope, id);
    const annotations: Record<string, string> = {
      ...(props.wave !== undefined ? { 'argocd.argoproj.io/sync-wave': String(props.wave) } : {}),
      ...(props.serverSideDiff ? { 'argocd.argoproj.io/compare-options': 'ServerSideDiff=true' } : {}),
      ...props.annotations,
    };
    new ModelObject(this, 'Application', new Application({
      metadata: {
        name: props.name,
        namespace: props.argocdNamespace,
        labels: recommendedLabels(props.identity, props.name, 'delivery'),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
      spec: {
        project: props.project,
        source: {
          repoURL: props.repoURL,
          targetRevision: props.targetRevision,
          path: props.path,
          directory: {
            recurse: true,
            ...(props.include !== undefined ? { include: props.include } : {}),
            ...(props.exclude !== undefined ? { exclude: props.exclude } : {}),
          },
        },
        destination: { server: IN_CLUSTER, namespace: props.namespace },
        syncPolicy: syncPolicy(),
        revisionHistoryLimit: 10,
      },
    }));
  }
}
