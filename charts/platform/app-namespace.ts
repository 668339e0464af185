import { Construct } from 'constructs';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { Environment } from '../../environments/schema';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { podSecurityLabels } from '../common/pod-security';

export interface AppNamespaceProps {
  /** Supplies the namespace name and the Kubernetes version the Pod Security labels pin. */
  readonly env: Environment;
}

/** The application's namespace, where admission enforces Pod Security Standards `restricted`. */
export class AppNamespace extends Construct {
  constructor(scope: Construct, id: string, props: AppNamespaceProps) {
    super(scope, id);
    const { env } = props;
    new ModelObject(this, 'Namespace', new Namespace({
      metadata: {
        name: env.app.namespace,
        labels: { ...recommendedLabels(env, env.app.namespace, 'namespace'), ...podSecurityLabels(env.kubernetesVersion) },
        annotations: {
          // Deleting the namespace would delete the database volumes with it: removing it from
          // git must never do that.
          'argocd.argoproj.io/sync-options': 'Delete=false',
        },
      },
    }));
  }
}
