import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { runbookUrl } from './runbooks';

/** How often alert groups are evaluated: one of the terms of the time from a failure to its page. */
export const ALERT_EVALUATION_INTERVAL = '30s';

/** What an alert means to whoever gets it: critical pages, warning tickets, info is read later. */
export type Severity = 'critical' | 'warning' | 'info';

/** One alerting rule, before its runbook address and the labels every alert carries are added. */
export interface Alert {
  /** The alert's name, also its runbook page `runbooks/<alert>.md`. */
  readonly alert: string;
  readonly expr: string;
  /** How long the condition holds before the alert fires. @default - at once */
  readonly for?: string;
  readonly severity: Severity;
  /** Labels beyond `severity`. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** One line, with the object that failed. */
  readonly summary: string;
  /** What was seen, with the values that matter (Go templates of `$labels` and `$value`). */
  readonly description: string;
}

/** Alerts evaluated together. */
export interface AlertGroup {
  /** The group's name, unique within the object. */
  readonly name: string;
  /** @default ALERT_EVALUATION_INTERVAL */
  readonly interval?: string;
  readonly alerts: readonly Alert[];
}

export interface AlertRulesProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The PrometheusRule's name. */
  readonly name: string;
  /** `app.kubernetes.io/name` of the object: what the alerts watch. */
  readonly labelName: string;
  readonly groups: readonly AlertGroup[];
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** A rule group in Prometheus' rule file format, which Loki's ruler reads too (charts/logging/audit-alerts.ts). */
export interface AlertRuleGroup {
  readonly name: string;
  readonly interval: string;
  readonly rules: (IRule & { readonly expr: string })[];
}

/**
 * A group of alerts as a rule group: each alert with its severity label, its summary, description
 * and runbook address, the group's interval ALERT_EVALUATION_INTERVAL unless it says otherwise.
 */
export function alertRuleGroup(g: AlertGroup, runbookBase: string): AlertRuleGroup {
  const rule = (a: Alert): IRule & { readonly expr: string } => ({
    alert: a.alert,
    expr: a.expr,
    ...(a.for === undefined ? {} : { for: a.for }),
    labels: { severity: a.severity, ...a.labels },
    annotations: { summary: a.summary, description: a.description, runbook_url: runbookUrl(runbookBase, a.alert) },
  });
  return { name: g.name, interval: g.interval ?? ALERT_EVALUATION_INTERVAL, rules: g.alerts.map(rule) };
}

/** A PrometheusRule of alerts, each with its severity, summary, description and runbook address. */
export class AlertRules extends Construct {
  constructor(scope: Construct, id: string, props: AlertRulesProps) {
    super(scope, id);
    new ModelObject(this, 'PrometheusRule', new PrometheusRule({
      metadata: appMetadata(props.identity, { name: props.name, labelName: props.labelName, component: 'monitoring' }),
      spec: { groups: props.groups.map((g) => alertRuleGroup(g, props.runbookBase)) },
    }));
  }
}
