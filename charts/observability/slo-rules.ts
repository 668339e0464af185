import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { BURN_RATE_ALERTS, LONG_SLO_WINDOWS, SLO_WINDOWS, type ServiceObjective, type SloWindow } from '../../environments/model/slo';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { ALERT_EVALUATION_INTERVAL } from './alert-rules';
import { runbookUrl } from './runbooks';

export interface SloRulesProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The service whose objectives these are; the object is `<service>-slo`. */
  readonly service: string;
  /** Its objectives (environments/model/slo.ts). */
  readonly objectives: readonly ServiceObjective[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The recorded share of bad requests over a window. */
export const errorRatioRecord = (window: SloWindow) => `shipshape:slo_errors:ratio_rate${window}`;
/** An objective's requests and bad requests a second over the last 5 minutes. */
export const REQUESTS_RECORD = 'shipshape:slo_requests:rate5m';
export const BAD_REQUESTS_RECORD = 'shipshape:slo_bad_requests:rate5m';
/** The recorded share of the 30-day error budget that is left. */
export const BUDGET_REMAINING_RECORD = 'shipshape:slo_error_budget_remaining:ratio';
/** The one alert of every objective: how fast its error budget burns. */
export const BURN_ALERT = 'ErrorBudgetBurn';

/**
 * The error ratios of a service's objectives over every window, its error budget left, and the
 * multiwindow, multi-burn-rate alerts on them: a page when the budget would be gone in days, a
 * ticket when in weeks (environments/model/slo.ts). An alert needs both its long window (it has
 * burnt enough to matter) and its short one (it is still burning) over the rate, so it fires
 * within minutes of a real outage and stops soon after it ends.
 */
export class SloRules extends Construct {
  constructor(scope: Construct, id: string, props: SloRulesProps) {
    super(scope, id);
    const { identity, service, objectives } = props;
    // The application's namespace too: every application's rules load into the one Prometheus, and
    // two of them may each have an `api` (an AlertmanagerConfig of a namespace also matches only
    // alerts that carry its namespace).
    const labelsOf = (o: ServiceObjective) => ({ namespace: identity.namespace, service: o.service, slo: o.slo });
    const selector = (o: ServiceObjective) => `namespace="${identity.namespace}",service="${o.service}",slo="${o.slo}"`;

    const ratio = (o: ServiceObjective, w: SloWindow): IRule => ({
      record: errorRatioRecord(w),
      expr: `${o.badRate.replaceAll('$window', w)}\n/\n${o.totalRate.replaceAll('$window', w)}`,
      labels: labelsOf(o),
    });
    // The long windows are read off the 5-minute rates recorded every 30 s, not off the raw series:
    // a Spring Boot timer has a series per endpoint, status, method and pod, and 30 days of them
    // would load far more samples than a query may (Prometheus' --query.max-samples, 50 million).
    const rates = objectives.flatMap((o): IRule[] => [
      { record: BAD_REQUESTS_RECORD, expr: o.badRate.replaceAll('$window', '5m'), labels: labelsOf(o) },
      { record: REQUESTS_RECORD, expr: o.totalRate.replaceAll('$window', '5m'), labels: labelsOf(o) },
    ]);
    const fromRates = (o: ServiceObjective, w: SloWindow): IRule => ({
      record: errorRatioRecord(w),
      expr: `sum_over_time(${BAD_REQUESTS_RECORD}{${selector(o)}}[${w}])\n/\nsum_over_time(${REQUESTS_RECORD}{${selector(o)}}[${w}])`,
      labels: labelsOf(o),
    });
    const shortRecords = [...rates, ...objectives.flatMap((o) => SLO_WINDOWS.filter((w) => !LONG_SLO_WINDOWS.includes(w)).map((w) => ratio(o, w)))];
    const longRecords = objectives.flatMap((o) => [
      ...LONG_SLO_WINDOWS.map((w) => fromRates(o, w)),
      { record: BUDGET_REMAINING_RECORD, expr: `1 - ${errorRatioRecord('30d')}{${selector(o)}} / ${budget(o)}`, labels: labelsOf(o) },
    ]);

    const alerts: IRule[] = objectives.flatMap((o) => (['critical', 'warning'] as const).map((severity) => {
      const conditions = BURN_RATE_ALERTS.filter((a) => a.severity === severity).map((a) => {
        const rate = `${a.factor} * ${budget(o)}`;
        return `(${errorRatioRecord(a.long)}{${selector(o)}} > ${rate}\nand\n${errorRatioRecord(a.short)}{${selector(o)}} > ${rate})`;
      });
      const pace = severity === 'critical' ? 'days' : 'weeks';
      return {
        alert: BURN_ALERT,
        expr: conditions.join('\nor\n'),
        // Both windows already average minutes of traffic: a short `for` only rides out one
        // evaluation's noise, so the page still comes within five minutes of the outage.
        for: severity === 'critical' ? '2m' : '15m',
        labels: { severity, ...labelsOf(o) },
        annotations: {
          summary: `${o.service}: the ${o.slo} error budget would be gone in ${pace} at this rate`,
          description: `${o.service} promises ${percent(o.objective)} ${o.slo === 'availability' ? 'of requests answered without a server error' : 'of requests answered in time'} `
            + `over 30 days; {{ $value | humanizePercentage }} of requests were bad over the alert's longer window, `
            + `{{ with query \`${BUDGET_REMAINING_RECORD}{${selector(o)}}\` }}{{ . | first | value | humanizePercentage }}{{ end }} of the budget is left.`,
          runbook_url: runbookUrl(props.runbookBase, BURN_ALERT),
        },
      };
    }));

    new ModelObject(this, 'PrometheusRule', new PrometheusRule({
      metadata: appMetadata(identity, { name: `${service}-slo`, labelName: service, component: 'monitoring' }),
      spec: {
        groups: [
          { name: `${service}-slo.records`, interval: ALERT_EVALUATION_INTERVAL, rules: shortRecords },
          // Days of samples a window: every 5 minutes, apart from the short windows (environments/model/slo.ts).
          { name: `${service}-slo.records-long`, interval: '5m', rules: longRecords },
          { name: `${service}-slo.alerts`, interval: ALERT_EVALUATION_INTERVAL, rules: alerts },
        ],
      },
    }));
  }
}

/** The error budget as a share of requests: `1 - objective`, written exactly (0.999 → 0.001). */
function budget(o: ServiceObjective): string {
  return String(Number((1 - o.objective).toPrecision(12)));
}

/** `0.999` → `99.9%`. */
function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(12))}%`;
}
