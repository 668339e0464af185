/**
 * An Argo CD Application of an upstream Helm chart at an exact version, with typed values: how
 * every platform operator is installed. The chart is never forked; what we change is its values.
 */
import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { IN_CLUSTER } from './in-cluster';
import type { PlatformRelease } from './platform-releases';
import { syncPolicy } from './sync-policy';

export interface HelmApplicationProps {
  readonly identity: AppIdentity;
  /** The Application's name, which is also the Helm release's. */
  readonly name: string;
  readonly argocdNamespace: string;
  readonly project: string;
  readonly release: PlatformRelease;
  /** The namespace the release goes to. */
  readonly namespace: string;
  /** The chart's values (checked against the chart's values.yaml and schema by the tests). */
  readonly values: object;
}

export class HelmApplication extends Construct {
  constructor(scope: Construct, id: string, props: HelmApplicationProps) {
    super(scope, id);
    const { release } = props;
    new ModelObject(this, 'Application', new Application({
      metadata: {
        name: props.name,
        namespace: props.argocdNamespace,
        labels: recommendedLabels(props.identity, props.name, 'delivery'),
        annotations: {
          'argocd.argoproj.io/sync-wave': String(release.wave),
          // Webhook CA bundles and CRD conversion settings are filled in by the operators
          // themselves; comparing server-side sees them as theirs, not as drift.
          'argocd.argoproj.io/compare-options': 'ServerSideDiff=true',
        },
      },
      spec: {
        project: props.project,
        source: {
          repoURL: release.repoURL,
          chart: release.chart,
          targetRevision: release.version,
          helm: { releaseName: props.name, valuesObject: props.values as Record<string, unknown> },
        },
        destination: { server: IN_CLUSTER, namespace: props.namespace },
        // Server-side apply: the CRDs of CloudNativePG, kube-prometheus-stack and Argo CD are
        // larger than the 256 KiB last-applied annotation client-side apply writes.
        syncPolicy: syncPolicy({ serverSideApply: true }),
        revisionHistoryLimit: 10,
      },
    }));
  }
}
