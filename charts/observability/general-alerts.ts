/**
 * Two alerts about the monitoring itself, for the whole cluster: a scrape target that does not
 * answer, whose own alerts are then blind, and the Watchdog, which always fires so that a dead
 * man's switch outside the cluster notices when alerts stop arriving (Prometheus, Alertmanager or
 * the path between them down). They replace kube-prometheus-stack's own TargetDown and Watchdog,
 * which carry neither `service` nor a runbook of this repository.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { AlertRules } from './alert-rules';
import { podWorkload } from './workload-alerts';

export interface GeneralAlertsProps {
  /** The application in its environment: where the PrometheusRule lives. */
  readonly identity: AppIdentity;
  /** Prometheus' and Alertmanager's namespace (`monitoringNamespace`). */
  readonly monitoringNamespace: string;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule's name. */
export const GENERAL_ALERTS = 'general-alerts';
/** The always-firing alert Alertmanager routes to the dead man's switch. */
export const WATCHDOG = 'Watchdog';

export class GeneralAlerts extends Construct {
  constructor(scope: Construct, id: string, props: GeneralAlertsProps) {
    super(scope, id);
    const down = 'max by (namespace, pod, job, instance) (up == 0)';
    new AlertRules(this, 'rules', {
      identity: props.identity,
      name: GENERAL_ALERTS,
      labelName: 'prometheus',
      runbookBase: props.runbookBase,
      groups: [{
        name: 'monitoring',
        alerts: [
          {
            // Every alert on a target's metrics goes silent while it cannot be scraped, and
            // silence looks like health. 10 minutes: a pod restart or a node drain is over by then.
            // `service` is the workload that owns the target's pod (the same as in the workload
            // alerts, so a critical alert of that component inhibits this); for a target without
            // a known pod (the kubelet, a probe) the last part of its job (`<namespace>/<monitor>`
            // for a PodMonitor, the Service's name for a ServiceMonitor).
            alert: 'TargetDown',
            expr: `label_replace(\n  (\n    ${down}\n    * on (namespace, pod) group_left (service)\n    ${podWorkload('').replaceAll('\n', '\n    ')}\n  )\n`
              + `  or on (namespace, pod, job, instance)\n  label_replace(${down}, "service", "$2", "job", "(.*/)?([^/]+)"),\n`
              + `  "namespace", "${props.monitoringNamespace}", "namespace", ""\n)`,
            for: '10m',
            severity: 'warning',
            summary: '{{ $labels.service }}: Prometheus cannot scrape {{ $labels.instance }}',
            description: 'Prometheus has not been able to scrape target {{ $labels.instance }} of job {{ $labels.job }} '
              + '(namespace {{ $labels.namespace }}) for 10 minutes: alerts on its metrics cannot fire meanwhile.',
          },
          {
            // Fires always: its absence at the dead man's switch is the alert (Alertmanager routes
            // it there by its name). Info, so nothing else ever pages or tickets for it.
            alert: WATCHDOG,
            expr: 'vector(1)',
            severity: 'info',
            labels: { namespace: props.monitoringNamespace, service: 'prometheus' },
            summary: 'The alerting pipeline works: this alert always fires',
            description: 'This alert fires always, so that the dead man\'s switch receives it every few minutes. When it stops arriving there, '
              + 'Prometheus does not evaluate rules, or Alertmanager does not send, or the path between them is broken.',
          },
        ],
      }],
    });
  }
}
