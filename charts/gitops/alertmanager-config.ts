/**
 * Alertmanager's configuration, made from the environment's `alerting`, and the Secret its receivers
 * read their credentials from. kube-prometheus-stack writes `alertmanager.config` whole into the
 * Secret Alertmanager loads (templates/alertmanager/secret.yaml at the chart's commit: `toYaml
 * .Values.alertmanager.config`, Helm's merge over the chart's default config first: every key the
 * default has, we set). The chart runs Alertmanager v0.34.0 (values.yaml `alertmanager.alertmanagerSpec.image.tag`);
 * the fields below are those of its config structs at v0.34.0: config/config.go:887-905 (Route),
 * config/common/inhibitrule.go:27-48 (InhibitRule), notify/pagerduty/config.go:54 `routing_key_file`,
 * config/notifiers.go:321 `api_url_file` (Slack), config/notifiers.go:160-178 (email: `smarthost`,
 * `auth_username`, `auth_password_file`, `require_tls`), notify/webhook/config.go:40 `url_file`
 * (Alertmanager 0.26.0 and newer: CHANGELOG "Webhook Integration: Support `url_file`", #3223).
 *
 * The Prometheus operator (v0.93) loads this configuration with upstream's config.Load and its own
 * structs, which keep every field used here (pkg/alertmanager/types.go: pagerdutyConfig
 * `routing_key_file`, slackConfig `api_url_file`, emailConfig `auth_password_file`, webhookConfig
 * `url_file`; amcfg.go:2979 drops `url_file` only for an Alertmanager older than 0.26.0).
 *
 * Secrets: each receiver reads its credential per notification from a file (pagerduty.go:226,
 * slack.go:149, email.go:414, webhook.go:118 at v0.34.0), so a rotated value is used as soon as the
 * kubelet updates the mounted Secret, with no reload.
 */
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import type { Environment } from '../../environments/schema';
import { recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { REMOTE_REF_DEFAULTS, type SecretStoreConfig } from '../common/synced-secret';
// Every severity an alert of ours can have has its route (a Record over it: one added there needs one here).
import type { Severity } from '../observability/alert-rules';
import { WATCHDOG } from '../observability/general-alerts';
import { RECEIVERS } from './notifications';

export type Alerting = Environment['alerting'];

/** The Secret (and its ExternalSecret) in the monitoring namespace holding every receiver's credential. */
export const ALERTMANAGER_SECRET = 'alertmanager-receivers';

/**
 * Where the Secret is mounted: the directory the operator would mount `spec.secrets` at
 * (prometheus-operator pkg/alertmanager/statefulset.go:51 `secretsDir`, + the Secret's name). We
 * mount it ourselves, optional (alertmanagerSecretMount below), at the same path.
 */
export const ALERTMANAGER_SECRETS_DIR = '/etc/alertmanager/secrets';

/** The receivers with a credential in the secret manager. */
export type CredentialReceiver = 'pagerduty' | 'slack' | 'email' | 'deadMansSwitch';

/**
 * Per receiver: the key of the Secret (the file's name) and the property of the receiver's
 * secret-manager entry (`<keyPrefix>/<alerting.<receiver>.secretName>`) it comes from. Slack and
 * PagerDuty share their entries and properties with Argo CD's notifications.
 */
export const RECEIVER_CREDENTIALS = {
  pagerduty: { secretKey: RECEIVERS.pagerduty.secretKey, property: RECEIVERS.pagerduty.property },
  slack: { secretKey: RECEIVERS.slack.secretKey, property: RECEIVERS.slack.property },
  email: { secretKey: 'smtp-password', property: 'password' },
  deadMansSwitch: { secretKey: 'dead-mans-switch-url', property: 'url' },
} as const satisfies Record<CredentialReceiver, { secretKey: string; property: string }>;

/** The file a receiver's credential is read from. */
export const credentialFile = (receiver: CredentialReceiver): string =>
  `${ALERTMANAGER_SECRETS_DIR}/${ALERTMANAGER_SECRET}/${RECEIVER_CREDENTIALS[receiver].secretKey}`;

/** Receiver names in the configuration (what `amtool config routes test` prints). */
export const RECEIVER_NAMES = {
  pagerduty: 'pagerduty', slack: 'slack', email: 'email', deadMansSwitch: 'dead-mans-switch',
  /** No integration: where the Watchdog goes when nothing outside listens for it. */
  none: 'null',
} as const;

/**
 * The alert that always fires while Prometheus and Alertmanager work: charts/observability/general-alerts.ts
 * (test/alertmanager-config.test.ts finds it by this name in the synthesized rules).
 */
export const WATCHDOG_ALERT = WATCHDOG;

/** Labels an alert group shares: one notification per alert, namespace and watched component. */
export const GROUP_BY = ['alertname', 'namespace', 'service'] as const;

/**
 * Timing of notifications.
 * - groupWait: how long the first alert of a group waits for others before its notification. It is
 *   the last term of the time from a failure to its page (scrape 30s + evaluation 30s + `for` at
 *   most 3m + group_wait), which must stay under 5 minutes; 30s still lets the alerts of one
 *   failure (every pod of a Deployment) arrive as one page.
 * - groupInterval: how long a group already notified waits before it tells of alerts that joined it
 *   (Prometheus' default): one outage does not send a message per pod.
 * - repeatInterval: a still-firing warning is repeated twice in a working day, so a ticket that
 *   fell through is seen again without burying the channel; a critical every hour (PagerDuty keeps
 *   it in the open incident by its group key, and re-opens one closed while the alert still fires);
 *   info once a day, as mail read later.
 * - watchdog: the dead man's switch hears from Alertmanager at every group interval once the
 *   repeat interval has passed (notify/dedup_stage.go:52-97 at v0.34.0: a repeat is sent at the
 *   first flush after repeat_interval), so with both at 1m every 1 to 2 minutes; the switch is set
 *   to raise the alarm after a few minutes of silence.
 */
export const ALERTMANAGER_TIMING = {
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '4h',
  criticalRepeatInterval: '1h',
  infoRepeatInterval: '24h',
  watchdogGroupInterval: '1m',
  watchdogRepeatInterval: '1m',
} as const;

export interface AlertmanagerRoute {
  readonly receiver: string;
  readonly matchers?: readonly string[];
  readonly continue?: boolean;
  readonly group_by?: readonly string[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
  readonly routes?: readonly AlertmanagerRoute[];
}

export interface InhibitRule {
  readonly source_matchers: readonly string[];
  readonly target_matchers: readonly string[];
  readonly equal: readonly string[];
}

export interface PagerdutyConfig {
  readonly routing_key_file: string;
  readonly send_resolved: boolean;
  readonly severity: string;
  readonly links: readonly { readonly href: string; readonly text: string }[];
}

export interface SlackConfig {
  readonly api_url_file: string;
  readonly channel: string;
  readonly send_resolved: boolean;
  readonly text: string;
}

export interface EmailConfig {
  readonly to: string;
  readonly from: string;
  readonly smarthost: string;
  readonly auth_username?: string;
  readonly auth_password_file?: string;
  readonly require_tls: boolean;
  readonly send_resolved: boolean;
}

export interface WebhookConfig {
  readonly url_file: string;
  readonly send_resolved: boolean;
}

export interface AlertmanagerReceiver {
  readonly name: string;
  readonly pagerduty_configs?: readonly PagerdutyConfig[];
  readonly slack_configs?: readonly SlackConfig[];
  readonly email_configs?: readonly EmailConfig[];
  readonly webhook_configs?: readonly WebhookConfig[];
}

export interface AlertmanagerConfig {
  readonly global: { readonly resolve_timeout: string };
  readonly route: AlertmanagerRoute & { readonly group_by: readonly string[]; readonly routes: readonly AlertmanagerRoute[] };
  readonly inhibit_rules: readonly InhibitRule[];
  readonly receivers: readonly AlertmanagerReceiver[];
  readonly templates: readonly string[];
}

/** The receivers configured, in the order their credentials are listed. */
export function credentialReceivers(alerting: Alerting): CredentialReceiver[] {
  return (['slack', 'pagerduty', 'email', 'deadMansSwitch'] as const).filter((r) => (r === 'email' ? alerting.email?.secretName !== undefined : alerting[r] !== undefined));
}

/** Slack's message: per alert its summary, where, what was seen and the runbook (Go template). */
const SLACK_TEXT = [
  '{{ range .Alerts }}*{{ .Labels.severity }}* {{ .Annotations.summary }}'
    + '{{ if .Labels.namespace }} ({{ .Labels.namespace }}{{ if .Labels.service }}/{{ .Labels.service }}{{ end }}){{ end }}',
  '{{ .Annotations.description }}{{ if .Annotations.runbook_url }}',
  'Runbook: {{ .Annotations.runbook_url }}{{ end }}',
  '{{ end }}',
].join('\n');

/**
 * Which configured receiver hears each severity: critical pages (PagerDuty, production only) and
 * is written to Slack, or to email without Slack; warning goes to Slack (a ticket), else email;
 * info to email (read later), else Slack. The default receiver takes what carries none of these
 * severities (another chart's alert, an alert without a severity): Slack, else email, so that an
 * alert nobody classified still reaches a person. The configuration rules guarantee Slack or email.
 */
export function severityReceivers(alerting: Alerting): { readonly routes: Readonly<Record<Severity, readonly string[]>>; readonly fallback: string } {
  const chat = alerting.slack ? RECEIVER_NAMES.slack : alerting.email ? RECEIVER_NAMES.email : undefined;
  const mail = alerting.email ? RECEIVER_NAMES.email : chat;
  if (chat === undefined || mail === undefined) throw new Error('alerting: neither slack nor email is configured: warnings would go nowhere');
  return {
    routes: { critical: [...(alerting.pagerduty ? [RECEIVER_NAMES.pagerduty] : []), chat], warning: [chat], info: [mail] },
    fallback: chat,
  };
}

/** The routes of each severity: one per receiver, each but the last with `continue` so the next hears it too. */
function severityRoutes(severity: Severity, receivers: readonly string[]): AlertmanagerRoute[] {
  const repeat = severity === 'critical' ? ALERTMANAGER_TIMING.criticalRepeatInterval : severity === 'info' ? ALERTMANAGER_TIMING.infoRepeatInterval : undefined;
  return receivers.map((receiver, i) => ({
    receiver,
    matchers: [`severity="${severity}"`],
    ...(i < receivers.length - 1 ? { continue: true } : {}),
    ...(repeat ? { repeat_interval: repeat } : {}),
  }));
}

/**
 * A critical alert holds back the warnings and info alerts of the same namespace and service, and
 * a warning the info alerts: the page says it already, and the lesser alerts of the same failure
 * would only bury it. A source without a `service` label inhibits nothing (Alertmanager counts a
 * label missing on both sides as equal, so one such critical would hold back every unlabelled
 * warning of its namespace), and the Watchdog is never held back: a critical that silenced it would
 * set off the dead man's switch.
 */
export const INHIBIT_RULES: readonly InhibitRule[] = [
  { source_matchers: ['severity="critical"', 'service=~".+"'], target_matchers: ['severity=~"warning|info"', `alertname!="${WATCHDOG_ALERT}"`], equal: ['namespace', 'service'] },
  { source_matchers: ['severity="warning"', 'service=~".+"'], target_matchers: ['severity="info"', `alertname!="${WATCHDOG_ALERT}"`], equal: ['namespace', 'service'] },
];

/** The receivers the configuration names, each with its integration reading its credential from its file. */
function receivers(alerting: Alerting): AlertmanagerReceiver[] {
  const { pagerduty, slack, email, deadMansSwitch } = alerting;
  return [
    ...(pagerduty ? [{
      name: RECEIVER_NAMES.pagerduty,
      pagerduty_configs: [{
        routing_key_file: credentialFile('pagerduty'),
        // Resolving the alert resolves the incident.
        send_resolved: true,
        // Only critical alerts come here; PagerDuty's urgency follows the event's severity.
        severity: 'critical',
        links: [{ href: '{{ .CommonAnnotations.runbook_url }}', text: 'Runbook' }],
      }],
    }] : []),
    ...(slack ? [{
      name: RECEIVER_NAMES.slack,
      slack_configs: [{ api_url_file: credentialFile('slack'), channel: slack.channel, send_resolved: true, text: SLACK_TEXT }],
    }] : []),
    ...(email ? [{
      name: RECEIVER_NAMES.email,
      email_configs: [{
        to: email.to,
        from: email.from,
        smarthost: email.smarthost,
        ...(email.username === undefined ? {} : { auth_username: email.username, auth_password_file: credentialFile('email') }),
        // Never send the password, or the alerts, in the clear (Alertmanager's default, written out).
        require_tls: true,
        // Mail is read later: what is still firing is what matters, not every resolution.
        send_resolved: false,
      }],
    }] : []),
    ...(deadMansSwitch ? [{
      name: RECEIVER_NAMES.deadMansSwitch,
      // No resolved notification: a Watchdog that resolves means the pipeline stopped, and a call
      // saying so would count as a sign of life for the switch.
      webhook_configs: [{ url_file: credentialFile('deadMansSwitch'), send_resolved: false }],
    }] : [{ name: RECEIVER_NAMES.none }]),
  ];
}

/** Alertmanager's configuration for the environment's `alerting`: the chart's `alertmanager.config`. */
export function alertmanagerConfig(alerting: Alerting): AlertmanagerConfig {
  const { routes, fallback } = severityReceivers(alerting);
  const watchdog: AlertmanagerRoute = alerting.deadMansSwitch
    ? {
      receiver: RECEIVER_NAMES.deadMansSwitch, matchers: [`alertname="${WATCHDOG_ALERT}"`],
      group_interval: ALERTMANAGER_TIMING.watchdogGroupInterval, repeat_interval: ALERTMANAGER_TIMING.watchdogRepeatInterval,
    }
    // Nothing outside listens: the Watchdog, always firing, would only repeat in a channel.
    : { receiver: RECEIVER_NAMES.none, matchers: [`alertname="${WATCHDOG_ALERT}"`] };
  return {
    // The chart's default, written out (Prometheus sets every alert's end, so it does not apply to ours).
    global: { resolve_timeout: '5m' },
    route: {
      receiver: fallback,
      group_by: GROUP_BY,
      group_wait: ALERTMANAGER_TIMING.groupWait,
      group_interval: ALERTMANAGER_TIMING.groupInterval,
      repeat_interval: ALERTMANAGER_TIMING.repeatInterval,
      // The Watchdog first, whatever its severity: nothing else may hear it, nor it be missed.
      routes: [watchdog, ...(['critical', 'warning', 'info'] as const).flatMap((s) => severityRoutes(s, routes[s]))],
    },
    inhibit_rules: INHIBIT_RULES,
    receivers: receivers(alerting),
    // No template files: the chart's default globs /etc/alertmanager/config/*.tmpl, where there are none.
    templates: [],
  };
}

/** The Secret's volume and mount for the chart's `alertmanager.alertmanagerSpec`. */
export interface AlertmanagerSecretMount {
  readonly volumes: readonly { readonly name: string; readonly secret: { readonly secretName: string; readonly optional: true } }[];
  readonly volumeMounts: readonly { readonly name: string; readonly mountPath: string; readonly readOnly: true }[];
}

/**
 * The Secret mounted as an optional volume rather than through `alertmanagerSpec.secrets`, which
 * the operator mounts as required: until External Secrets has made the Secret (after the secret
 * store, made by hand once External Secrets runs, exists: root wave ROOT_WAVES.alertReceivers) the
 * pod would not start, the Alertmanager object would turn Degraded (Argo CD's health check of
 * monitoring.coreos.com/Alertmanager) and with it kube-prometheus-stack's Application in wave -8,
 * which fails the root's sync before External Secrets is even installed. Optional, Alertmanager
 * starts at once, notifications fail (and say so in its log and metrics) until the Secret exists,
 * and the kubelet fills in the files when it does. None when no receiver has a credential.
 */
export function alertmanagerSecretMount(alerting: Alerting): AlertmanagerSecretMount | undefined {
  if (credentialReceivers(alerting).length === 0) return undefined;
  return {
    volumes: [{ name: ALERTMANAGER_SECRET, secret: { secretName: ALERTMANAGER_SECRET, optional: true } }],
    volumeMounts: [{ name: ALERTMANAGER_SECRET, mountPath: `${ALERTMANAGER_SECRETS_DIR}/${ALERTMANAGER_SECRET}`, readOnly: true }],
  };
}

export interface AlertmanagerSecretProps {
  readonly identity: AppIdentity;
  /** The monitoring namespace, Alertmanager's. */
  readonly namespace: string;
  readonly store: SecretStoreConfig;
  readonly alerting: Alerting;
  readonly wave: number;
}

/**
 * The ExternalSecret of Alertmanager's receivers: from each configured receiver's entry, the one
 * property its credential is in, to the key its file is named after. External Secrets owns the
 * Secret and re-reads the entries every refreshInterval.
 */
export class AlertmanagerSecret extends Construct {
  constructor(scope: Construct, id: string, props: AlertmanagerSecretProps) {
    super(scope, id);
    const { store, alerting } = props;
    const entry = (r: CredentialReceiver) => {
      const secretName = r === 'email' ? alerting.email?.secretName : alerting[r]?.secretName;
      if (secretName === undefined) throw new Error(`alerting.${r} has no secretName`);
      return `${store.keyPrefix}/${secretName}`;
    };
    new ModelObject(this, 'ExternalSecret', new ExternalSecret({
      metadata: {
        name: ALERTMANAGER_SECRET,
        namespace: props.namespace,
        labels: recommendedLabels(props.identity, ALERTMANAGER_SECRET, 'monitoring'),
        annotations: { 'argocd.argoproj.io/sync-wave': String(props.wave) },
      },
      spec: {
        refreshInterval: store.refreshInterval,
        secretStoreRef: { name: store.store, kind: store.storeKind },
        target: { name: ALERTMANAGER_SECRET, creationPolicy: 'Owner', deletionPolicy: 'Retain' },
        data: credentialReceivers(alerting).map((r) => ({
          secretKey: RECEIVER_CREDENTIALS[r].secretKey,
          remoteRef: { key: entry(r), property: RECEIVER_CREDENTIALS[r].property, ...REMOTE_REF_DEFAULTS },
        })),
      },
    }));
  }
}
