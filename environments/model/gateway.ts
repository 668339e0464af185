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

/**
 * The port the proxy pods listen on for a Gateway listener's port, which a NetworkPolicy sees when
 * the load balancer's address is translated to the pods inside the cluster: Envoy Gateway shifts
 * ports below 1024 by 10000, so that Envoy binds them without NET_BIND_SERVICE (envoyproxy/gateway
 * internal/gatewayapi: servicePortToContainerPort, minEphemeralPort 1024, wellKnownPortShift 10000).
 */
export function gatewayProxyContainerPort(listenerPort: number): number {
  return listenerPort < 1024 ? listenerPort + 10000 : listenerPort;
}
