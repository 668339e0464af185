/**
 * Who may reach Loki. Loki's gateway passes on whatever tenant a request names (`X-Scope-OrgID`):
 * it authenticates nobody (the chart's nginx sets no tenant from a user). So anyone who reaches it
 * could read the audit trail. These policies are what keeps the audit tenant to the auditors:
 * inside Loki's namespace the pods talk to each other (gateway to Loki, the replicas' memberlist);
 * from outside, only the log collector and Grafana reach the gateway, and only Prometheus reaches
 * the metrics ports. Egress stays open: object storage, DNS, the API server (the rules sidecar)
 * and Alertmanager (the ruler) are Loki's to reach.
 *
 * Not the chart's own `networkPolicy`: in loki 18.11.0 its egress to Alertmanager selects only
 * the `backend` component (templates/networkpolicy.yaml, `egress-alertmanager`), so a single
 * binary's ruler could not send an alert once egress is restricted.
 */
import { Construct } from 'constructs';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { AppIdentity } from '../../environments/model/identity';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';

/**
 * The pods' `app.kubernetes.io/name` labels, each its chart's name: the loki chart's
 * `loki.selectorLabels` (loki 18.11.0 templates/_helpers.tpl), the alloy chart's, the grafana
 * chart's (grafana 12.11.1, kube-prometheus-stack's subchart), and what the Prometheus operator
 * puts on Prometheus' pods (prometheus-operator v0.93 pkg/prometheus/server/operator.go).
 */
export const POD_APP_NAMES = { loki: 'loki', alloy: 'alloy', grafana: 'grafana', prometheus: 'prometheus' } as const;

/** The loki chart's `gateway.containerPort` and `loki.server.http_listen_port` (values.yaml), kept as the chart's. */
export const LOKI_PORTS = { gateway: 8080, http: 3100 } as const;

/** A peer: pods of a given `app.kubernetes.io/name` in a namespace. */
export interface LokiClient {
  readonly namespace: string;
  /** Their `app.kubernetes.io/name` label. */
  readonly app: string;
}

export interface LokiNetworkPoliciesProps {
  readonly identity: AppIdentity;
  /** Loki's namespace. */
  readonly namespace: string;
  /** Loki's pods' `app.kubernetes.io/name` (the chart's `loki.selectorLabels`). */
  readonly lokiApp: string;
  /** The gateway container's port (`gateway.containerPort`). */
  readonly gatewayPort: number;
  /** Loki's HTTP port (`loki.server.http_listen_port`), which Prometheus scrapes. */
  readonly metricsPort: number;
  /** Who pushes and queries through the gateway: the collector, Grafana. */
  readonly gatewayClients: readonly LokiClient[];
  /** Who scrapes Loki's metrics: Prometheus. */
  readonly scrapers: readonly LokiClient[];
  readonly wave: number;
}

const peer = (c: LokiClient): INetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': c.app } },
});

/** `loki-deny-ingress`, `loki-gateway-ingress` and `loki-metrics-ingress` in Loki's namespace. */
export class LokiNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: LokiNetworkPoliciesProps) {
    super(scope, id);
    const policy = (name: string, spec: NetworkPolicy['spec']) => new ModelObject(this, name, new NetworkPolicy({
      metadata: {
        name,
        namespace: props.namespace,
        labels: recommendedLabels(props.identity, name, 'network-policy'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      spec,
    }));
    const loki = { 'app.kubernetes.io/name': props.lokiApp };
    // Every pod of the namespace: from outside it, nothing but what the policies below allow.
    policy('loki-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] });
    policy('loki-gateway-ingress', {
      podSelector: { matchLabels: { ...loki, 'app.kubernetes.io/component': 'gateway' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: props.gatewayClients.map(peer), ports: [{ protocol: 'TCP', port: props.gatewayPort }] }],
    });
    policy('loki-metrics-ingress', {
      podSelector: { matchLabels: loki },
      policyTypes: ['Ingress'],
      ingress: [{ from: props.scrapers.map(peer), ports: [{ protocol: 'TCP', port: props.metricsPort }] }],
    });
  }
}
