/**
 * The service level objectives and their error budgets, read from the recording rules the SLO
 * rules write (charts/observability/slo-rules.ts): the budget left of the 30 days, the share of
 * good requests, and how fast each window burns the budget against the burn rates that page and
 * ticket (environments/model/slo.ts). Only recorded series: the dashboard shows what the alerts
 * see, and stays cheap over 30 days.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { BURN_RATE_ALERTS, SLO_WINDOWS, type ServiceObjective } from '../../../environments/model/slo';
import { BAD_REQUESTS_RECORD, BUDGET_REMAINING_RECORD, errorRatioRecord, REQUESTS_RECORD } from '../slo-rules';
import { buildDashboard, dashboardMeta, percent, stat, timeseries, type DashboardContext, type Section } from './kit';

export interface SloDashboardProps {
  readonly context: DashboardContext;
  /** The application's namespace, a label of every recorded series. */
  readonly namespace: string;
  /** Every objective the SLO rules record (environments/model/slo.ts, serviceObjectives). */
  readonly objectives: readonly ServiceObjective[];
}

export const SLO_DASHBOARD_KIND = 'slo';

/** Burn-rate colours from the slowest alerting rate up: a ticket, then a page. */
const BURN_COLORS = ['yellow', 'orange', 'red', 'dark-red'];

export function sloDashboard(props: SloDashboardProps): Dashboard {
  const factors = [...new Set(BURN_RATE_ALERTS.map((a) => a.factor))].sort((a, b) => a - b);
  const sections: Section[] = props.objectives.map((o) => {
    // The labels the SLO rules give each recorded series (slo-rules.ts, labelsOf).
    const selector = `namespace="${props.namespace}",service="${o.service}",slo="${o.slo}"`;
    const budget = Number((1 - o.objective).toPrecision(12));
    const what = o.slo === 'availability' ? 'answered without a server error' : 'answered within the latency threshold';
    return {
      title: `${o.service}: ${o.slo} (objective ${percent(o.objective)})`,
      panels: [
        stat({
          title: `${o.service} ${o.slo}: error budget left`,
          description: `Share of the 30-day error budget (${percent(budget)} of requests) not yet spent. Below zero the objective is missed.`,
          unit: 'percentunit', decimals: 1, width: 4,
          thresholds: { base: 'red', steps: [[0, 'orange'], [0.25, 'green']] },
          queries: [{ expr: `${BUDGET_REMAINING_RECORD}{${selector}}`, legend: 'budget left' }],
        }),
        stat({
          title: `${o.service} ${o.slo}: good requests, 30 days`,
          description: `Share of requests ${what} over the past 30 days, against the objective of ${percent(o.objective)}.`,
          unit: 'percentunit', decimals: 3, width: 4,
          thresholds: { base: 'red', steps: [[o.objective, 'green']] },
          queries: [{ expr: `1 - ${errorRatioRecord('30d')}{${selector}}`, legend: 'good' }],
        }),
        timeseries({
          title: `${o.service} ${o.slo}: burn rate by window`,
          description: 'How many times faster than the 30-day budget allows each window spends it (1 = the budget lasts exactly 30 days). '
            + `The dashed lines are the alerts' burn rates: ${BURN_RATE_ALERTS.map((a) => `${a.severity} at ${a.factor}× over ${a.long} and ${a.short}`).join('; ')}.`,
          width: 8, min: 0,
          thresholds: { base: 'green', steps: factors.map((f, i) => [f, BURN_COLORS[Math.min(i, BURN_COLORS.length - 1)]] as const) },
          queries: SLO_WINDOWS.map((w) => ({ expr: `${errorRatioRecord(w)}{${selector}} / ${budget}`, legend: w })),
        }),
        timeseries({
          title: `${o.service} ${o.slo}: error budget left over time`,
          description: 'Share of the 30-day error budget left: a steady slope is normal spending, a cliff an incident.',
          unit: 'percentunit', width: 8,
          thresholds: { base: 'red', steps: [[0, 'orange'], [0.25, 'green']] },
          queries: [{ expr: `${BUDGET_REMAINING_RECORD}{${selector}}`, legend: 'budget left' }],
        }),
        timeseries({
          title: `${o.service} ${o.slo}: requests and bad requests`,
          description: 'Requests a second the objective counts, and the bad ones, over 5 minutes: with little traffic, a few bad requests are a high ratio.',
          unit: 'reqps', width: 24, min: 0,
          queries: [
            { expr: `${REQUESTS_RECORD}{${selector}}`, legend: 'requests' },
            { expr: `${BAD_REQUESTS_RECORD}{${selector}}`, legend: 'bad' },
          ],
        }),
      ],
    };
  });
  return buildDashboard(
    dashboardMeta(props.context, SLO_DASHBOARD_KIND, 'SLOs and error budgets',
      'Each service\'s availability and latency objectives over 30 days: error budget left, good requests, and burn rate per window against the alerting rates.'),
    sections,
  );
}
