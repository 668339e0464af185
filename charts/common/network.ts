/**
 * Building blocks of NetworkPolicies shared by every construct that writes one: who a peer is,
 * what counts as the public internet, where Prometheus and the Kubernetes API are.
 */
import type { INetworkPolicyEgressRule, INetworkPolicyPeer, INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1';

/**
 * Address ranges that are never "the internet": private (RFC 1918), carrier-grade NAT (RFC 6598,
 * where some clusters put pods) and link-local (RFC 3927, the cloud metadata endpoint).
 */
export const NON_PUBLIC_RANGES = ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'];

/** Labels the Prometheus Operator puts on Prometheus server pods (not Grafana or Alertmanager). */
export const PROMETHEUS_POD_LABELS = { 'app.kubernetes.io/name': 'prometheus' } as const;

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

/** Where the object storage is: its endpoint (https only) and, when known, its address ranges. */
export interface ObjectStorageLocation {
  readonly endpointURL: string;
  /** Address ranges of the endpoint; absent: any public address. */
  readonly cidrs?: readonly string[];
}

/** TCP port of the object storage endpoint: the URL's, or 443 (the configuration takes https only). */
export function objectStoragePort(objectStorage: ObjectStorageLocation): number {
  const port = new URL(objectStorage.endpointURL).port;
  return port === '' ? 443 : Number(port);
}

/**
 * Egress to the object storage endpoint, which is outside the cluster: the configured address
 * ranges, or any public address (never the private, carrier-grade NAT and link-local ranges, so
 * not the cloud metadata endpoint or other in-cluster services). One rule for everything that
 * writes there: WAL archiving and base backups as much as the backup jobs.
 */
export function objectStorageEgress(objectStorage: ObjectStorageLocation): INetworkPolicyEgressRule {
  const to: INetworkPolicyPeer[] = objectStorage.cidrs
    ? objectStorage.cidrs.map((cidr) => ({ ipBlock: { cidr } }))
    : [PUBLIC_INTERNET];
  return { to, ports: [tcp(objectStoragePort(objectStorage))] };
}
