import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import type { PlatformReleaseName } from '../gitops/platform-releases';

/**
 * The labels of Envoy Gateway's controller pods (gateway-helm v1.9.0,
 * templates/envoy-gateway-deployment.yaml): `control-plane: envoy-gateway` and the chart's selector
 * labels, whose instance is the Helm release's name.
 */
export function envoyGatewayPodLabels(releaseName: string): Record<string, string> {
  return { 'control-plane': 'envoy-gateway', 'app.kubernetes.io/instance': releaseName };
}

/** Envoy Gateway's Helm release: named after its Argo CD Application (charts/gitops/gitops-chart.ts). */
export const ENVOY_GATEWAY_RELEASE: PlatformReleaseName = 'envoy-gateway';

/** The monitor's name. */
export const ENVOY_GATEWAY_MONITOR = 'envoy-gateway-controller';

/** The controller container's port of its metrics (values.yaml `deployment.ports`: 19001). */
export const ENVOY_GATEWAY_METRICS_PORT = 'metrics';

export interface EnvoyGatewayMonitorProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Where Envoy Gateway's controller runs (`gateway.proxyNamespace`, beside its proxies). */
  readonly controllerNamespace: string;
}

/**
 * Scraping of Envoy Gateway's controller: how it translates Gateway API objects and pushes xDS to
 * the proxies (internal/metrics: controller-runtime's, client-go's and its own, served over plain
 * HTTP on 0.0.0.0:19001 `/metrics`). Its chart renders no monitor of its own (gateway-helm v1.9.0
 * has no ServiceMonitor or PodMonitor template), so this one selects the chart's controller pods,
 * every replica. The proxies are GatewayProxyMonitor's.
 */
export class EnvoyGatewayMonitor extends Construct {
  constructor(scope: Construct, id: string, props: EnvoyGatewayMonitorProps) {
    super(scope, id);
    new ModelObject(this, 'PodMonitor', new PodMonitor({
      metadata: appMetadata(props.identity, { name: ENVOY_GATEWAY_MONITOR, labelName: 'envoy-gateway', component: 'monitoring' }),
      spec: {
        namespaceSelector: { matchNames: [props.controllerNamespace] },
        selector: { matchLabels: envoyGatewayPodLabels(ENVOY_GATEWAY_RELEASE) },
        podMetricsEndpoints: [{ port: ENVOY_GATEWAY_METRICS_PORT, path: '/metrics', interval: '30s' }],
      },
    }));
  }
}
