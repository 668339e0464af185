/**
 * Server errors at the environment's gateway, per route rule: the Envoy cluster Envoy Gateway makes
 * for each rule (`httproute/<namespace>/<route>/rule/<n>`, environments/model/gateway.ts), on the
 * same per-cluster counters the availability objectives read (environments/model/slo.ts).
 *
 * The error budget alerts page for a service as a whole; this one says which path of which host
 * fails, and catches a path with little of its service's traffic failing outright, which moves
 * the service's error ratio too little to page (a path with 0.5 % of the requests, failing
 * completely, is 5 × the budget of 99.9 %: under the 6 × and 14.4 × that page, a ticket after
 * hours at best).
 */
import { Construct } from 'constructs';
import type { HostRoute } from '../../environments/model/gateway';
import type { AppIdentity } from '../../environments/model/identity';
import { AlertRules, type Alert } from './alert-rules';

export interface GatewayAlertsProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The environment's HTTPRoutes (hostRoutes). */
  readonly routes: readonly HostRoute[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule's name. */
export const GATEWAY_ALERTS = 'gateway-alerts';

/** Share of a route rule's requests answered with a 5xx over 5 minutes above which it alerts. */
export const GATEWAY_ERROR_RATIO = 0.05;

export class GatewayAlerts extends Construct {
  constructor(scope: Construct, id: string, props: GatewayAlertsProps) {
    super(scope, id);
    const { identity } = props;
    const alerts: Alert[] = props.routes.flatMap((host) => host.rules.map((rule) => {
      const cluster = `envoy_cluster_name="${rule.envoyCluster}"`;
      const errors = `sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{${cluster},envoy_response_code_class="5"}[5m]))`;
      const all = `sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_xx{${cluster}}[5m]))`;
      return {
        // 5 % of a path's requests failing for 5 minutes is no blip; at least one error a
        // minute, so that two requests in five minutes, one of them failed, are not 50 %.
        alert: 'GatewayServerErrors',
        expr: `${errors}\n/\n${all}\n> ${GATEWAY_ERROR_RATIO}\nand\n${errors} * 60 >= 1`,
        for: '5m',
        severity: 'warning' as const,
        // The service the rule routes to: the proxies' own namespace and pod say nothing of it.
        labels: { namespace: identity.namespace, service: rule.service },
        summary: `${rule.service}: server errors on https://${host.hostname}${rule.path}`,
        description: `{{ $value | humanizePercentage }} of the requests to https://${host.hostname}${rule.path} (HTTPRoute ${host.name}, `
          + `rule ${rule.index}, service ${rule.service}) were answered with a 5xx over the last 5 minutes, for 5 minutes.`,
      };
    }));
    if (alerts.length === 0) return;
    new AlertRules(this, 'rules', {
      identity,
      name: GATEWAY_ALERTS,
      labelName: 'gateway',
      runbookBase: props.runbookBase,
      groups: [{ name: 'gateway', alerts }],
    });
  }
}
