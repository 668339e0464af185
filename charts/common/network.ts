/**
 * Building blocks of NetworkPolicies shared by every construct that writes one: who a peer is,
 * what counts as the public internet, where Prometheus and the Kubernetes API are.
 */
import type { INetworkPolicyPeer, INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1';
import { NON_PUBLIC_RANGES } from '../../environments/model/network';

/** Pods in another namespace (all of them, or those with these labels). */
export function namespacePeer(namespace: string, podLabels?: Record<string, string>): INetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
  };
}

/** Pods of this namespace with these labels. */
export function podPeer(labels: Record<string, string>): INetworkPolicyPeer {
  return { podSelector: { matchLabels: labels } };
}

export const tcp = (port: number): INetworkPolicyPort => ({ protocol: 'TCP', port });

/** Public addresses only: object storage and other services on the internet. */
export const PUBLIC_INTERNET: INetworkPolicyPeer = { ipBlock: { cidr: '0.0.0.0/0', except: NON_PUBLIC_RANGES } };

/**
 * The Kubernetes API, for pods whose process talks to it (operator instance managers). A policy
 * sees the API server's real address after the Service is translated, which differs per cluster
 * and is usually private, so any address is allowed, on the API server's ports only.
 */
export const KUBERNETES_API_EGRESS = { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443), tcp(6443)] };
