/**
 * What Argo CD calls the things that deliver one environment: its projects and Applications, the
 * folders it reads. Each environment runs in its own cluster with its own Argo CD (the
 * environments' cluster-scoped objects, the ClusterIssuers and PriorityClasses, carry the same
 * names in every environment), so these names are unique within one Argo CD.
 */
import type { Environment } from '../schema';
import { appIdentity } from './identity';

/** Folder (relative to the repository) Argo CD reads the environments' objects from. */
export const DIST_DIR = 'dist';
/** Folder (relative to the repository) the Argo CD objects of each environment's cluster go to. */
export const ARGOCD_DIR = 'argocd';

export interface DeliveryModel {
  /** The repository Argo CD reads and the branch it follows. */
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Namespace Argo CD runs in, and its Applications and AppProjects live in. */
  readonly namespace: string;
  /** The AppProject of the platform operators (the only one allowed cluster-scoped kinds beyond the application's own). */
  readonly platformProject: string;
  /** The AppProject of the application: its namespace only. */
  readonly appProject: string;
  /** The AppProject of the root Application: Argo CD's own objects in Argo CD's namespace. */
  readonly bootstrapProject: string;
  /** The root Application (app of apps), the one object applied by hand. */
  readonly rootApplication: string;
  /** The Application that syncs the environment's dist/ folder, but for the data tier's folders. */
  readonly appApplication: string;
  /** The Application that syncs the data tier's folders of it. */
  readonly dataApplication: string;
  /** Repository folder of the environment's synthesized objects (the app Application's path). */
  readonly distPath: string;
  /** Repository folder of this cluster's Argo CD objects (the root Application's path). */
  readonly argocdPath: string;
}

export function deliveryModel(env: Environment): DeliveryModel {
  const { app, instance } = appIdentity(env);
  return {
    repoURL: env.delivery.repoURL,
    targetRevision: env.delivery.targetRevision,
    namespace: env.delivery.namespace,
    platformProject: 'platform',
    appProject: app,
    bootstrapProject: 'bootstrap',
    rootApplication: 'root',
    appApplication: instance,
    dataApplication: `${instance}-data`,
    distPath: `${DIST_DIR}/${env.name}`,
    argocdPath: `${ARGOCD_DIR}/${env.name}`,
  };
}
