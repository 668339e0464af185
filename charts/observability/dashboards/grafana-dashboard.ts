/**
 * A dashboard delivered the way kube-prometheus-stack's Grafana loads them: a ConfigMap that its
 * dashboards sidecar (kiwigrid/k8s-sidecar) picks up by label, in any namespace
 * (`grafana.sidecar.dashboards.searchNamespace: ALL`, charts/gitops/values/kube-prometheus-stack.ts),
 * and writes as a file for Grafana's file provisioning.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { Construct } from 'constructs';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { AppIdentity } from '../../../environments/model/identity';
import { appMetadata } from '../../common/labels';
import { ModelObject } from '../../common/model-object';

/**
 * The label the sidecar selects dashboards by: `grafana.sidecar.dashboards.label` and `labelValue`
 * in kube-prometheus-stack 88.5.3's values.yaml (the grafana subchart's own default value is empty:
 * any value; kube-prometheus-stack sets "1").
 */
export const DASHBOARD_LABEL = { key: 'grafana_dashboard', value: '1' } as const;

/**
 * The annotation whose value names the folder the sidecar writes a ConfigMap's files into, below
 * its dashboards folder: k8s-sidecar's default (`FOLDER_ANNOTATION`, kiwigrid/k8s-sidecar 2.10.1
 * src/sidecar.py), which the grafana chart leaves in place unless `sidecar.dashboards.folderAnnotation`
 * is set. Grafana shows a subfolder as a dashboard folder only with
 * `grafana.sidecar.dashboards.provider.foldersFromFilesStructure: true`; without it the provider
 * still reads subfolders and puts their dashboards in its one folder (General).
 */
export const FOLDER_ANNOTATION = 'k8s-sidecar-target-directory';

export interface GrafanaDashboardProps {
  readonly identity: AppIdentity;
  /** The ConfigMap's name. */
  readonly name: string;
  readonly dashboard: Dashboard;
  /** Grafana folder of the dashboard (a relative folder name for the sidecar). */
  readonly folder: string;
}

export class GrafanaDashboard extends Construct {
  constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    const { identity, name, dashboard } = props;
    const metadata = appMetadata(identity, { name, component: 'monitoring' });
    new ModelObject(this, 'ConfigMap', new ConfigMap({
      metadata: {
        ...metadata,
        labels: { ...metadata.labels, [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value },
        annotations: { [FOLDER_ANNOTATION]: props.folder },
      },
      // The key is the file name the sidecar writes: the UID, unique to the application and the
      // environment, so two of them in one Grafana never overwrite each other's file.
      data: { [dashboardFileName(dashboard)]: `${JSON.stringify(dashboard, null, 2)}\n` },
    }));
  }
}

/** The file a dashboard is written to: `<uid>.json`. */
export function dashboardFileName(dashboard: Dashboard): string {
  if (!dashboard.uid) throw new Error(`dashboard ${dashboard.title} has no uid`);
  return `${dashboard.uid}.json`;
}
