/**
 * Argo CD notifications of the environment's two Applications (dist/<env>): a failed sync, a
 * Degraded health and a finished deployment, sent to the receivers alerts use (`alerting`).
 *
 * The format is notifications-engine's at the commit Argo CD v3.5.1's go.mod pins (0cff13b8a717),
 * which reads `argocd-notifications-cm` and `argocd-notifications-secret`:
 * - `service.<type>.<name>` entries are services named `<name>` of `<type>` (pkg/api/config.go:105-124);
 *   a `$key` in a service's strings is replaced by that key of the Secret (config.go:60-72), which
 *   may be absent (an empty Secret then, pkg/api/factory.go:113).
 * - `template.<name>` entries are notifications (config.go:98-104): `webhook.<service>` gives the
 *   method and body a webhook service sends (pkg/services/webhook.go:18-22, 117), `pagerdutyv2`
 *   the event's summary, severity, source and url (pkg/services/pagerdutyv2.go:14-23).
 * - `trigger.<name>` entries are lists of conditions with `when`, `send` and `oncePer`
 *   (config.go:126-132, pkg/triggers/service.go:17).
 * - An Application subscribes with the annotation `notifications.argoproj.io/subscribe.<trigger>.<service>:
 *   <recipients>` (pkg/subscriptions/annotations.go:36, 68: split at dots, so neither name has one);
 *   a pagerdutyv2 recipient names an entry of its `serviceKeys` (pagerdutyv2.go:128), a webhook's
 *   recipient is unused.
 * Subscriptions are annotations of the two Applications only: the platform ones do not notify.
 *
 * Slack is an incoming webhook (`alerting.slack.secretName` holds its URL), so a `webhook` service
 * posts Slack's JSON; Argo CD's `slack` service would need a bot token.
 */
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { REMOTE_REF_DEFAULTS, type SecretStoreConfig } from '../common/synced-secret';

/** The Secret the notifications controller reads `$key` references from (the chart's default name). */
export const NOTIFICATIONS_SECRET = 'argocd-notifications-secret';

/** The receivers notifications can use, each a service of argocd-notifications-cm. */
export type Receiver = 'slack' | 'pagerduty';

/**
 * Per receiver: the service's name, the key of argocd-notifications-secret its credential is in,
 * and the property of the receiver's secret-manager entry (`<keyPrefix>/<alerting.<receiver>.secretName>`)
 * it comes from. Alertmanager's receivers read the same entries.
 */
export const RECEIVERS = {
  slack: { service: 'slack-webhook', secretKey: 'slack-webhook-url', property: 'webhook-url' },
  pagerduty: { service: 'pagerdutyv2', secretKey: 'pagerduty-routing-key', property: 'routing-key' },
} as const satisfies Record<Receiver, { service: string; secretKey: string; property: string }>;

/** The secret-manager entry of each receiver: `<keyPrefix>/<alerting.<receiver>.secretName>`. */
export function receiverEntries(alerting: Environment['alerting'], keyPrefix: string, receivers: readonly Receiver[]): Partial<Record<Receiver, string>> {
  return Object.fromEntries(receivers.map((r) => {
    const secretName = alerting[r]?.secretName;
    if (secretName === undefined) throw new Error(`notifications go to ${r}, but alerting.${r} is not configured`);
    return [r, `${keyPrefix}/${secretName}`];
  }));
}

/** The pagerdutyv2 service's one `serviceKeys` entry, which subscriptions name as recipient. */
export const PAGERDUTY_RECIPIENT = 'on-call';

/** The events notified, by trigger name, each sending the template of the same event. */
export const EVENTS = {
  'on-sync-failed': 'app-sync-failed',
  'on-health-degraded': 'app-health-degraded',
  'on-deployed': 'app-deployed',
} as const;
export type Trigger = keyof typeof EVENTS;

/**
 * Who hears what, the way alerts are routed: a failed sync pages (PagerDuty where configured,
 * else Slack), because the release did not go out and nothing else says so. Degraded goes to
 * Slack only, production included: the alerts on the services' SLOs and the data tier already page
 * when users are affected, and a Degraded that is not (one pod crash-looping while the others
 * serve, a Certificate renewing) would page twice or for nothing. A deployment goes to Slack.
 * Email is not a receiver here: its SMTP server is not in the configuration.
 */
export function notificationRoutes(alerting: Environment['alerting']): Readonly<Record<Trigger, readonly Receiver[]>> {
  const slack: Receiver[] = alerting.slack ? ['slack'] : [];
  return {
    'on-sync-failed': alerting.pagerduty ? ['pagerduty'] : slack,
    'on-health-degraded': slack,
    'on-deployed': slack,
  };
}

/** What the notifications are made from: the narrow part of the environment they need. */
export interface NotificationsConfig {
  /** Argo CD's URL, the base of the links to an application. */
  readonly argocdUrl: string;
  /** The environment's name, in every message. */
  readonly environment: string;
  /** Receivers per trigger (notificationRoutes). */
  readonly routes: Readonly<Record<Trigger, readonly Receiver[]>>;
}

/** The receivers some trigger uses. */
export const usedReceivers = (routes: NotificationsConfig['routes']): Receiver[] =>
  (['slack', 'pagerduty'] as const).filter((r) => Object.values(routes).some((rs) => rs.includes(r)));

/** The triggers that send somewhere. */
export const usedTriggers = (routes: NotificationsConfig['routes']): Trigger[] =>
  (Object.keys(EVENTS) as Trigger[]).filter((t) => routes[t].length > 0);

/** The subscriptions of an Application, as its annotations. */
export function subscriptionAnnotations(routes: NotificationsConfig['routes']): Record<string, string> {
  return Object.fromEntries(usedTriggers(routes).flatMap((trigger) => routes[trigger].map((r) => [
    `notifications.argoproj.io/subscribe.${trigger}.${RECEIVERS[r].service}`, r === 'pagerduty' ? PAGERDUTY_RECIPIENT : '',
  ])));
}

/** Go template of the link to the application in Argo CD. */
const APP_LINK = '{{.context.argocdUrl}}/applications/{{.app.metadata.name}}';
/** The revision Argo CD syncs to (status.sync.revision: set once the Application has compared). */
const REVISION = '.app.status.sync.revision';

/** Per event: the message's first line, a printf format of the application, environment and revision; failures add the operation's message. */
const MESSAGES: Record<Trigger, { readonly emoji: string; readonly headline: string; readonly detail?: string; readonly operation?: boolean }> = {
  'on-sync-failed': { emoji: ':x:', headline: 'Sync of %s in %s failed at revision %s', detail: '.app.status.operationState.message', operation: true },
  'on-health-degraded': { emoji: ':warning:', headline: '%s in %s is Degraded at revision %s' },
  'on-deployed': { emoji: ':white_check_mark:', headline: '%s in %s is deployed: revision %s, synced and healthy' },
};
/** The link to the application (to its last operation for a failure). */
const linkOf = (trigger: Trigger) => `${APP_LINK}${MESSAGES[trigger].operation ? '?operation=true' : ''}`;

/** Slack's JSON: the text by printf, quoted by sprig's toJson (the operation's message may hold quotes and newlines). */
function slackBody(trigger: Trigger): string {
  const m = MESSAGES[trigger];
  const format = `${m.emoji} ${m.headline}${m.detail ? '\\n%s' : ''}\\n%s/applications/%s${m.operation ? '?operation=true' : ''}`;
  const args = ['.app.metadata.name', '.context.environment', REVISION, ...(m.detail ? [m.detail] : []), '.context.argocdUrl', '.app.metadata.name'];
  return `{"text": {{ printf "${format}" ${args.join(' ')} | toJson }}}`;
}

/** A notification template: what each used receiver of the trigger is sent. */
function template(trigger: Trigger, receivers: readonly Receiver[]): Record<string, unknown> {
  const m = MESSAGES[trigger];
  const headline = m.headline.replace('%s', '{{.app.metadata.name}}').replace('%s', '{{.context.environment}}').replace('%s', `{{${REVISION}}}`);
  return {
    ...(receivers.includes('slack') ? { webhook: { [RECEIVERS.slack.service]: { method: 'POST', body: slackBody(trigger) } } } : {}),
    ...(receivers.includes('pagerduty') ? {
      pagerdutyv2: {
        summary: `${headline}${m.detail ? `: {{${m.detail}}}` : ''}`,
        severity: trigger === 'on-sync-failed' ? 'critical' : 'warning',
        source: '{{.context.argocdUrl}}',
        url: linkOf(trigger),
      },
    } : {}),
  };
}

/**
 * The conditions of Argo CD's catalog (notifications_catalog/triggers/<trigger>.yaml at v3.5.1),
 * once per synced revision.
 */
const CONDITIONS: Record<Trigger, string> = {
  'on-sync-failed': "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
  'on-health-degraded': "app.status.health.status == 'Degraded'",
  'on-deployed': "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'"
    + ' and (!time.Parse(app.status.health.lastTransitionTime).Add(1 * time.Minute).Before(time.Parse(app.status.operationState.finishedAt))'
    + ' or time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app.status.operationState.startedAt)))',
};
const ONCE_PER = 'app.status.operationState?.syncResult?.revision';

/** go-yaml reads these back; no folding, so a `{{ }}` never breaks across lines. */
const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });

/** The chart's `notifications` values for the ConfigMap: services, templates and triggers, only those used. */
export function notificationsSettings(config: NotificationsConfig): {
  notifiers: Record<string, string>; templates: Record<string, string>; triggers: Record<string, string>;
} {
  const { routes } = config;
  const receivers = usedReceivers(routes);
  const notifiers: Record<string, string> = {};
  if (receivers.includes('slack')) {
    notifiers[`service.webhook.${RECEIVERS.slack.service}`] = yaml({
      url: `$${RECEIVERS.slack.secretKey}`,
      headers: [{ name: 'Content-Type', value: 'application/json' }],
    });
  }
  if (receivers.includes('pagerduty')) {
    notifiers[`service.${RECEIVERS.pagerduty.service}`] = yaml({ serviceKeys: { [PAGERDUTY_RECIPIENT]: `$${RECEIVERS.pagerduty.secretKey}` } });
  }
  const triggers = usedTriggers(routes);
  return {
    notifiers,
    templates: Object.fromEntries(triggers.map((t) => [`template.${EVENTS[t]}`, yaml(template(t, routes[t]))])),
    triggers: Object.fromEntries(triggers.map((t) => [`trigger.${t}`, yaml([{ when: CONDITIONS[t], send: [EVENTS[t]], oncePer: ONCE_PER }])])),
  };
}

export interface NotificationsSecretProps {
  readonly identity: AppIdentity;
  /** Argo CD's namespace. */
  readonly namespace: string;
  readonly store: SecretStoreConfig;
  /** Secret-manager entries (full keys) of the receivers used. */
  readonly entries: Readonly<Partial<Record<Receiver, string>>>;
  readonly wave: number;
}

/**
 * argocd-notifications-secret, from the receivers' entries in the secret manager: the keys the
 * services reference and nothing else. External Secrets owns it; the chart does not make one.
 */
export class NotificationsSecret extends Construct {
  constructor(scope: Construct, id: string, props: NotificationsSecretProps) {
    super(scope, id);
    const { store } = props;
    const entries = (Object.entries(props.entries) as [Receiver, string][]);
    new ModelObject(this, 'ExternalSecret', new ExternalSecret({
      metadata: {
        name: NOTIFICATIONS_SECRET,
        namespace: props.namespace,
        labels: recommendedLabels(props.identity, NOTIFICATIONS_SECRET, 'delivery'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      spec: {
        refreshInterval: store.refreshInterval,
        secretStoreRef: { name: store.store, kind: store.storeKind },
        target: { name: NOTIFICATIONS_SECRET, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: entries.map(([receiver, key]) => ({
          secretKey: RECEIVERS[receiver].secretKey,
          remoteRef: { key, property: RECEIVERS[receiver].property, ...REMOTE_REF_DEFAULTS },
        })),
      },
    }));
  }
}
