import { Construct } from 'constructs';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { podSecurityLabels } from '../common/pod-security';

export interface AppNamespaceProps {
  /** The application in its environment: the namespace's name and labels. */
  readonly identity: AppIdentity;
  /** The cluster's Kubernetes minor version (`1.31`), which the Pod Security labels pin. */
  readonly kubernetesVersion: string;
}

/** The application's namespace, where admission enforces Pod Security Standards `restricted`. */
export class AppNamespace extends Construct {
  constructor(scope: Construct, id: string, props: AppNamespaceProps) {
    super(scope, id);
    const { identity, kubernetesVersion } = props;
    new ModelObject(this, 'Namespace', new Namespace({
      metadata: {
        name: identity.namespace,
        labels: { ...recommendedLabels(identity, identity.namespace, 'namespace'), ...podSecurityLabels(kubernetesVersion) },
        annotations: {
          // Deleting the namespace would delete the database volumes with it: removing it from
          // git must never do that.
          'argocd.argoproj.io/sync-options': 'Delete=false',
        },
      },
    }));
  }
}
