import { Construct } from 'constructs';
import type { INetworkPolicyEgressRule, INetworkPolicyIngressRule } from 'kubernetes-models/networking.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { Environment } from '../../environments/schema';
import { appMetadata } from '../common/labels';
import { selectorLabels } from '../../environments/model/identity';
import { ModelObject } from '../common/model-object';
import { namespacePeer, PUBLIC_INTERNET, tcp } from '../common/network';
import { ACME_SOLVER_POD_LABELS, ACME_SOLVER_PORT, DNS_NAMESPACE, DNS_POD_LABELS, DNS_PORT, POSTGRES_PORT, PROMETHEUS_POD_LABELS, REDIS_PORT, SENTINEL_PORT } from '../../environments/model/network';
import { dataEndpoints, FIXED_NAMES } from '../../environments/model/names';
import { gatewayProxyPodLabels } from '../../environments/model/gateway';

export interface AppNetworkPoliciesProps {
  /** Services, their flows and ports, and the namespaces of the gateway proxies and Prometheus. */
  readonly env: Environment;
}

/**
 * Default deny for the namespace, then one policy per service with exactly the flows it needs:
 * from this environment's gateway proxies to routed services, between services that call each
 * other, from Prometheus to metrics endpoints, to the data services a service uses, to DNS, and to
 * the internet only on the ports a service declares. Ports are the pods' container ports: a policy
 * sees traffic after the Service has translated its port.
 */
export class AppNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: AppNetworkPoliciesProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);
    const gatewayProxies = namespacePeer(env.gateway.proxyNamespace, gatewayProxyPodLabels(env));

    new ModelObject(this, FIXED_NAMES.defaultDeny, new NetworkPolicy({
      metadata: appMetadata(env, FIXED_NAMES.defaultDeny, FIXED_NAMES.defaultDeny, 'network-policy'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }));

    new ModelObject(this, FIXED_NAMES.allowDns, new NetworkPolicy({
      metadata: appMetadata(env, FIXED_NAMES.allowDns, FIXED_NAMES.allowDns, 'network-policy'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{
          to: [namespacePeer(DNS_NAMESPACE, DNS_POD_LABELS)],
          ports: [{ protocol: 'UDP', port: DNS_PORT }, tcp(DNS_PORT)],
        }],
      },
    }));

    // cert-manager runs a short-lived solver pod here for every HTTP-01 challenge; under the
    // default deny the gateway could not reach it, and certificates would silently never renew.
    new ModelObject(this, FIXED_NAMES.allowAcmeSolver, new NetworkPolicy({
      metadata: appMetadata(env, FIXED_NAMES.allowAcmeSolver, 'acme-http01-solver', 'network-policy'),
      spec: {
        podSelector: { matchLabels: { ...ACME_SOLVER_POD_LABELS } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [gatewayProxies], ports: [tcp(ACME_SOLVER_PORT)] }],
      },
    }));

    const routed = new Set(env.hosts.flatMap((h) => h.routes.map((r) => r.service)));
    for (const [name, s] of Object.entries(env.services)) {
      const ingress: INetworkPolicyIngressRule[] = [];
      if (routed.has(name)) {
        ingress.push({ from: [gatewayProxies], ports: [tcp(s.port)] });
      }
      const callers = Object.entries(env.services).filter(([, other]) => other.calls.includes(name)).map(([n]) => n);
      if (callers.length > 0) {
        ingress.push({ from: callers.map((c) => ({ podSelector: { matchLabels: selectorLabels(env, c) } })), ports: [tcp(s.port)] });
      }
      if (s.metrics) {
        ingress.push({ from: [namespacePeer(env.monitoringNamespace, PROMETHEUS_POD_LABELS)], ports: [tcp(s.port)] });
      }

      const egress: INetworkPolicyEgressRule[] = s.calls.map((target) => ({
        to: [{ podSelector: { matchLabels: selectorLabels(env, target) } }],
        ports: [tcp(env.services[target].port)],
      }));
      if (s.uses.includes('postgres')) {
        egress.push({
          to: [{ podSelector: { matchLabels: data.postgres.poolerPodLabels } }, { podSelector: data.postgres.instancePodSelector }],
          ports: [tcp(POSTGRES_PORT)],
        });
      }
      if (s.uses.includes('redis')) {
        egress.push({ to: [{ podSelector: { matchLabels: data.redis.podLabels } }], ports: [tcp(REDIS_PORT), tcp(SENTINEL_PORT)] });
      }
      if (s.internetEgressPorts.length > 0) {
        egress.push({
          to: [PUBLIC_INTERNET],
          ports: [...new Set(s.internetEgressPorts)].sort((a, b) => a - b).map(tcp),
        });
      }

      // Prefixed ids: a service name may equal another construct's id in this scope (the
      // configuration refuses equal object names with a clear message before this runs).
      new ModelObject(this, `service-${name}`, new NetworkPolicy({
        metadata: appMetadata(env, name, name, 'network-policy'),
        spec: {
          podSelector: { matchLabels: selectorLabels(env, name) },
          policyTypes: ['Ingress', 'Egress'],
          ingress,
          egress,
        },
      }));
    }
  }
}
