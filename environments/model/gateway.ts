/** The environment's Gateway as the rest of the model sees it: its name and its proxy pods. */
import type { Environment } from '../schema';
import { gatewayName } from './names';

/**
 * Labels Envoy Gateway puts on the proxy pods it runs for one Gateway, wherever they run (the
 * controller's namespace by default). Network policies name these pods rather than the whole
 * namespace, so another environment's gateway cannot reach this one's services.
 */
export function gatewayProxyPodLabels(env: Environment): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'envoy',
    'app.kubernetes.io/component': 'proxy',
    'gateway.envoyproxy.io/owning-gateway-name': gatewayName(env),
    'gateway.envoyproxy.io/owning-gateway-namespace': env.app.namespace,
  };
}
