/**
 * Who is who on the network: the ports every component listens on and the labels of the pods this
 * application exchanges traffic with, each stated once. The flows (flows.ts) and everything that
 * opens a port or selects a pod read them from here.
 */

export const POSTGRES_PORT = 5432;
/** Status port of CloudNativePG's instance manager, in instance and pooler pods. */
export const INSTANCE_MANAGER_PORT = 8000;
/** Metrics ports of the PostgreSQL instances and of PgBouncer (CloudNativePG's exporters). */
export const POSTGRES_METRICS_PORT = 9187;
export const PGBOUNCER_METRICS_PORT = 9127;

export const REDIS_PORT = 6379;
export const SENTINEL_PORT = 26379;
/** redis_exporter's port (its default listen address is :9121). */
export const REDIS_EXPORTER_PORT = 9121;

/** The blackbox exporter's port (its default listen address is :9115), where Prometheus asks for the uptime checks. */
export const BLACKBOX_EXPORTER_PORT = 9115;

/** Ports of the Gateway's listeners: plain HTTP (which only redirects) and HTTPS, as the public knows them. */
export const GATEWAY_HTTP_PORT = 80;
export const GATEWAY_HTTPS_PORT = 443;

/** Port the cert-manager HTTP-01 solver pod listens on (fixed in cert-manager). */
export const ACME_SOLVER_PORT = 8089;
/** Label cert-manager puts on every HTTP-01 solver pod. */
export const ACME_SOLVER_POD_LABELS = { 'acme.cert-manager.io/http01-solver': 'true' } as const;

/** Cluster DNS as kubeadm and most distributions deploy it; CoreDNS listens on 53 in the pod. */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_POD_LABELS = { 'k8s-app': 'kube-dns' } as const;
export const DNS_PORT = 53;

/** Labels the Prometheus Operator puts on Prometheus server pods (not Grafana or Alertmanager). */
export const PROMETHEUS_POD_LABELS = { 'app.kubernetes.io/name': 'prometheus' } as const;

/** Ports of the Kubernetes API server, which operators' in-pod managers talk to. */
export const KUBERNETES_API_PORTS = [443, 6443] as const;

/** Link-local addresses (RFC 3927): the cloud metadata endpoint, never a server of ours. */
export const LINK_LOCAL_RANGE = '169.254.0.0/16';

/**
 * Address ranges that are never "the internet": private (RFC 1918), carrier-grade NAT (RFC 6598,
 * where some clusters put pods) and link-local.
 */
export const NON_PUBLIC_RANGES = ['10.0.0.0/8', '100.64.0.0/10', LINK_LOCAL_RANGE, '172.16.0.0/12', '192.168.0.0/16'];

/** TCP port of the object storage endpoint: the URL's, or 443 (the configuration takes https only). */
export function objectStoragePort(objectStorage: { readonly endpointURL: string }): number {
  const port = new URL(objectStorage.endpointURL).port;
  return port === '' ? 443 : Number(port);
}
