/**
 * A namespace a platform operator runs in, made by the root Application before the operator's own
 * Application (a namespace shared by two releases, such as CloudNativePG and its Barman Cloud
 * plugin, has one owner this way, and its Pod Security level is set before any pod arrives).
 */
import { Construct } from 'constructs';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { podSecurityLabels, type PodSecurityLevel } from '../common/pod-security';
import { NEVER_DELETE } from '../common/sync-waves';

export interface PlatformNamespaceProps {
  readonly identity: AppIdentity;
  readonly name: string;
  /** The Pod Security Standard admission enforces (audit and warn stay `restricted`). */
  readonly podSecurity: PodSecurityLevel;
  /** The cluster's Kubernetes minor version, which the Pod Security labels pin. */
  readonly kubernetesVersion: string;
  readonly wave: number;
}

export class PlatformNamespace extends Construct {
  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    new ModelObject(this, 'Namespace', new Namespace({
      metadata: {
        name: props.name,
        labels: { ...recommendedLabels(props.identity, props.name, 'namespace'), ...podSecurityLabels(props.kubernetesVersion, props.podSecurity) },
        annotations: {
          'argocd.argoproj.io/sync-wave': String(props.wave),
          // Removing a namespace from git must not delete the operator's data with it (Prometheus'
          // and Loki's volumes); deleting one is a decision made by hand.
          ...NEVER_DELETE,
        },
      },
    }));
  }
}
