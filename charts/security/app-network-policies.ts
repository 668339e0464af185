import { Construct } from 'constructs';
import type { INetworkPolicyEgressRule, INetworkPolicyIngressRule, INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { Environment } from '../../environments/schema';
import { appMetadata, selectorLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { dataEndpoints, POSTGRES_PORT, REDIS_PORT, SENTINEL_PORT } from '../common/names';

export interface AppNetworkPoliciesProps {
  readonly env: Environment;
}

/** Address ranges that are never "the internet": private, carrier-grade NAT and link-local (cloud metadata). */
export const NON_PUBLIC_RANGES = ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'];

function namespacePeer(namespace: string, podLabels?: Record<string, string>): INetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
  };
}

const tcp = (port: number) => ({ protocol: 'TCP' as const, port });

/**
 * Default deny for the namespace, then one policy per service with exactly the flows it needs:
 * from the gateway's proxies to routed services, between services that call each other, from
 * Prometheus to metrics endpoints, to the data services a service uses, to DNS, and to the internet
 * only on the ports a service declares.
 */
export class AppNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: AppNetworkPoliciesProps) {
    super(scope, id);
    const { env } = props;
    const data = dataEndpoints(env);

    new ModelObject(this, 'default-deny', new NetworkPolicy({
      metadata: appMetadata(env, 'default-deny', 'default-deny', 'network-policy'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }));

    new ModelObject(this, 'allow-dns', new NetworkPolicy({
      metadata: appMetadata(env, 'allow-dns', 'allow-dns', 'network-policy'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{
          to: [namespacePeer('kube-system', { 'k8s-app': 'kube-dns' })],
          ports: [{ protocol: 'UDP', port: 53 }, tcp(53)],
        }],
      },
    }));

    const routed = new Set(env.hosts.flatMap((h) => h.routes.map((r) => r.service)));
    for (const [name, s] of Object.entries(env.services)) {
      const ingress: INetworkPolicyIngressRule[] = [];
      if (routed.has(name)) {
        ingress.push({ from: [namespacePeer(env.gateway.proxyNamespace)], ports: [tcp(s.port)] });
      }
      const callers = Object.entries(env.services).filter(([, other]) => other.calls.includes(name)).map(([n]) => n);
      if (callers.length > 0) {
        ingress.push({ from: callers.map((c) => ({ podSelector: { matchLabels: selectorLabels(env, c) } })), ports: [tcp(s.port)] });
      }
      if (s.metrics) {
        ingress.push({ from: [namespacePeer(env.monitoringNamespace)], ports: [tcp(s.port)] });
      }

      const egress: INetworkPolicyEgressRule[] = s.calls.map((target) => ({
        to: [{ podSelector: { matchLabels: selectorLabels(env, target) } }],
        ports: [tcp(env.services[target].port)],
      }));
      if (s.uses.includes('postgres')) {
        egress.push({
          to: [{ podSelector: { matchLabels: data.postgres.poolerPodLabels } }, { podSelector: { matchLabels: data.postgres.clusterPodLabels } }],
          ports: [tcp(POSTGRES_PORT)],
        });
      }
      if (s.uses.includes('redis')) {
        egress.push({ to: [{ podSelector: { matchLabels: data.redis.podLabels } }], ports: [tcp(REDIS_PORT), tcp(SENTINEL_PORT)] });
      }
      if (s.internetEgressPorts.length > 0) {
        egress.push({
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES } }],
          ports: [...s.internetEgressPorts].sort((a, b) => a - b).map(tcp),
        });
      }

      new ModelObject(this, name, new NetworkPolicy({
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
