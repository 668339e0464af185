/** The environment's Gateway as the rest of the model sees it: its name and its proxy pods. */
import { byCodepoint } from '../order';
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

/** One rule of a host's HTTPRoute: a path prefix to a service. */
export interface RouteRule {
  readonly path: string;
  readonly service: string;
  /** Its position in the route's rules, which Envoy Gateway's names for it carry. */
  readonly index: number;
  /**
   * The Envoy cluster Envoy Gateway makes for the rule, `httproute/<namespace>/<route>/rule/<index>`
   * (envoyproxy/gateway internal/gatewayapi route translation; its proxy-metric task greps
   * `envoy_cluster_name="httproute/default/backend/rule/0"`): the `envoy_cluster_name` label of
   * the proxy's per-rule request metrics.
   */
  readonly envoyCluster: string;
}

/** A host's HTTPRoute: its name and its rules in the order they are written. */
export interface HostRoute {
  readonly hostname: string;
  readonly name: string;
  readonly rules: readonly RouteRule[];
}

/**
 * The HTTPRoute of every host. Rules longest prefix first, as the gateway decides (Gateway API
 * prefers the longest match), so the order reads as the routing does.
 */
export function hostRoutes(env: Environment): HostRoute[] {
  return env.hosts.map((host) => {
    const name = host.hostname.replaceAll('.', '-');
    const sorted = [...host.routes].sort((a, b) => b.path.length - a.path.length || byCodepoint(a.path, b.path));
    return {
      hostname: host.hostname,
      name,
      rules: sorted.map((r, index) => ({ path: r.path, service: r.service, index, envoyCluster: `httproute/${env.app.namespace}/${name}/rule/${index}` })),
    };
  });
}
