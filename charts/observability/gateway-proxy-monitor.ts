import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';

export interface GatewayProxyMonitorProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The object's name. */
  readonly name: string;
  /** Where Envoy Gateway runs the Gateway's proxy pods (`gateway.proxyNamespace`). */
  readonly proxyNamespace: string;
  /** The labels of this Gateway's proxy pods (environments/model/gateway.ts). */
  readonly proxyPodLabels: Readonly<Record<string, string>>;
}

/**
 * Scraping of this Gateway's Envoy proxies, whose per-rule request metrics the objectives are
 * measured on. Envoy Gateway gives the proxy container the port `metrics` (19001) serving Envoy's
 * `/stats/prometheus` (envoyproxy/gateway internal/infrastructure/kubernetes/proxy: the container
 * port `metrics` at bootstrap.EnvoyStatsPort). The monitor lives with the application and selects
 * only its own Gateway's pods in the proxies' namespace.
 */
export class GatewayProxyMonitor extends Construct {
  constructor(scope: Construct, id: string, props: GatewayProxyMonitorProps) {
    super(scope, id);
    new ModelObject(this, 'PodMonitor', new PodMonitor({
      metadata: appMetadata(props.identity, { name: props.name, labelName: 'gateway', component: 'monitoring' }),
      spec: {
        namespaceSelector: { matchNames: [props.proxyNamespace] },
        selector: { matchLabels: { ...props.proxyPodLabels } },
        podMetricsEndpoints: [{ port: 'metrics', path: '/stats/prometheus', interval: '30s' }],
      },
    }));
  }
}
