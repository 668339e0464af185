/**
 * Alerts on the platform components the application depends on, from the metrics of their own
 * exporters (scraped by the monitors the platform charts' values turn on, charts/gitops/values):
 * certificates (cert-manager), secrets synced from the secret store (External Secrets), what Argo
 * CD delivers, critical vulnerabilities in the application's running images (Trivy Operator) and
 * Falco's critical runtime events. The rules live with the application's other rules; each alert's
 * `service` is the object that failed (the Certificate, the ExternalSecret, the Application, the
 * workload) or the component (`falco`), and its `namespace` the object's.
 *
 * Metric names and labels are those of the deployed versions: test/fixtures/metrics/{cert-manager,
 * external-secrets,argo-cd,trivy-operator,falcosidekick}.txt say where each comes from.
 */
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { PAGED_PRIORITIES } from '../gitops/values/falcosidekick';
import { AlertRules, type Alert, type AlertGroup } from './alert-rules';

/** The PrometheusRule's name. */
export const PLATFORM_ALERTS = 'platform-alerts';

export const CERTIFICATE_EXPIRING_ALERT = 'CertificateExpiringSoon';
export const CERTIFICATE_NOT_READY_ALERT = 'CertificateNotReady';
export const EXTERNAL_SECRET_ALERT = 'ExternalSecretSyncFailing';
export const ARGO_DEGRADED_ALERT = 'ArgoApplicationDegraded';
export const ARGO_OUT_OF_SYNC_ALERT = 'ArgoApplicationOutOfSync';
export const TRIVY_ALERT = 'TrivyCriticalVulnerabilities';
export const FALCO_ALERT = 'FalcoCriticalEvent';

/**
 * A ticket when a certificate whose renewal is overdue has less than this left. cert-manager renews
 * at two thirds of the lifetime unless `renewBefore` says otherwise (the hosts' certificates: 720 h,
 * `tls.renewBefore`), so a 90-day certificate is renewed with 30 days left: at 21 its renewal has
 * been failing for over a week, and there are three weeks to fix it.
 */
export const CERTIFICATE_WARNING_DAYS = 21;
/**
 * A page under this: what is left may not be enough for a fix that can take days (DNS, the ACME
 * account, Let's Encrypt's rate limits on failed validations and duplicate certificates, which
 * last up to a week). No certificate of this platform is due for renewal this late: the Barman
 * Cloud plugin's (`renewBefore` 360 h, its chart's default) renew with 15 days left.
 */
export const CERTIFICATE_CRITICAL_DAYS = 7;

/**
 * How long an Application may stay out of sync before the ticket: automated sync retries a failed
 * sync for about half an hour (charts/gitops/sync-policy.ts, SYNC_RETRY: 10 s doubling to 5 min,
 * 10 times), Argo CD compares every 3 minutes, and one sync of the data tier (a PostgreSQL
 * switchover) or with a long PreSync migration may take a quarter of an hour itself.
 */
export const ARGO_OUT_OF_SYNC_FOR = '45m';

/**
 * How long Trivy's findings of an image are remembered: the operator deletes each report when its
 * TTL ends (`scannerReportTTL`, 24 h) and scans again, and a ticket should not close and reopen
 * every day for the minutes the new scan takes. A finding also outlives its fixed image by this much.
 */
export const TRIVY_FINDINGS_MEMORY = '1h';

/** How long after Falco's critical event its alert stays firing (and repeated events stay one alert). */
export const FALCO_EVENT_WINDOW = '15m';

/**
 * A metric per watched object, labelled `namespace` (the object's), `name` and `service` (= name),
 * whichever way its monitor scrapes it: the charts' monitors keep `honorLabels: false`, so an
 * object's own `namespace` label arrives renamed `exported_namespace` (the target sets `namespace`
 * to the exporter's); with `honorLabels: true` it stays `namespace`. `max` also makes one series of
 * the same object seen by several replicas of the exporter (each cert-manager controller replica
 * exports every Certificate it caches).
 */
export function perObject(selector: string, by: readonly string[] = []): string {
  const labels = ['namespace', 'exported_namespace', 'name', ...by].join(', ');
  const normalized = `max without (exported_namespace) (label_replace(max by (${labels}) (${selector}), "namespace", "$1", "exported_namespace", "(.+)"))`;
  return `label_replace(${normalized}, "service", "$1", "name", "(.+)")`;
}

/** The certificates' alerts (cert-manager v1.21's controller: internal/collectors/certificate_collector.go). */
function certificateAlerts(): Alert[] {
  // 0 until the first issuance (status.notAfter unset): CertificateNotReady speaks for those.
  const left = `${perObject('certmanager_certificate_expiration_timestamp_seconds > 0')} - time()`;
  // status.renewalTime, 0 when unset; past means cert-manager should have renewed by now.
  const renewalDue = `${perObject('certmanager_certificate_renewal_timestamp_seconds')} < time()`;
  const object = '{{ $labels.namespace }}/{{ $labels.name }}';
  return [
    {
      // Only once the renewal is overdue, so that a certificate renewed later than 21 days before
      // expiry (the plugin's, at 15) does not warn while it waits for its normal renewal; the hour
      // is longer than an ACME issuance takes when it works.
      alert: CERTIFICATE_EXPIRING_ALERT,
      expr: `(${left} < ${CERTIFICATE_WARNING_DAYS} * 86400)\nand on (namespace, name)\n(${renewalDue})`,
      for: '1h',
      severity: 'warning',
      summary: `Certificate ${object} expires in {{ $value | humanizeDuration }} and has not been renewed`,
      description: `The Certificate ${object} expires in {{ $value | humanizeDuration }}, under ${CERTIFICATE_WARNING_DAYS} days, and the renewal `
        + 'cert-manager scheduled for it has not happened for an hour. Until it is renewed, whatever uses its Secret goes on with the old '
        + 'certificate; at expiry clients refuse it.',
    },
    {
      // At once: the threshold is crossed by the clock, not by a noisy measurement.
      alert: CERTIFICATE_EXPIRING_ALERT,
      expr: `${left} < ${CERTIFICATE_CRITICAL_DAYS} * 86400`,
      severity: 'critical',
      summary: `Certificate ${object} expires in {{ $value | humanizeDuration }}`,
      description: `The Certificate ${object} expires in {{ $value | humanizeDuration }}, under ${CERTIFICATE_CRITICAL_DAYS} days, and cert-manager `
        + 'has not renewed it. At expiry TLS clients refuse it: the host of a Gateway listener goes down for every visitor, the '
        + 'Barman Cloud plugin stops taking backups and archiving WAL.',
    },
    {
      // The Ready condition is False (or Unknown) when the Secret is missing, expired or does not
      // match the spec: a new host's certificate not issued, a changed one not re-issued. Issuance
      // through ACME HTTP-01 takes a minute or two when it works, retries included well under 15.
      // A ticket: a certificate that was issued keeps being served until CertificateExpiringSoon.
      alert: CERTIFICATE_NOT_READY_ALERT,
      expr: `${perObject('certmanager_certificate_ready_status{condition=~"False|Unknown"}')} == 1`,
      for: '15m',
      severity: 'warning',
      summary: `Certificate ${object} is not ready`,
      description: `cert-manager has reported the Certificate ${object} not Ready for 15 minutes: its Secret is missing, expired or `
        + 'does not match the Certificate\'s spec, and issuing a new one has not succeeded.',
    },
  ];
}

/** External Secrets v2.9 (pkg/controllers/externalsecret/esmetrics): the Ready condition of every ExternalSecret. */
function externalSecretAlerts(): Alert[] {
  return [{
    // The controller retries a failed sync with backoff; a store that throttles or restarts is
    // back within minutes. A ticket: the Secret keeps its last values, so nothing breaks until a
    // rotated credential is revoked at the source or a new Secret is needed.
    alert: EXTERNAL_SECRET_ALERT,
    expr: `${perObject('externalsecret_status_condition{condition="Ready",status="False"}')} == 1`,
    for: '15m',
    severity: 'warning',
    summary: 'ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} fails to sync',
    description: 'The ExternalSecret {{ $labels.namespace }}/{{ $labels.name }} has failed to sync from its secret store for 15 minutes '
      + '(condition Ready=False). Its Secret keeps the values it last got: a value rotated in the store does not reach the pods, and '
      + 'a Secret never synced stays missing.',
  }];
}

/** Argo CD's application controller (controller/metrics/metrics.go): `argocd_app_info` of every Application. */
function argoAlerts(): Alert[] {
  const app = 'Application {{ $labels.namespace }}/{{ $labels.name }}';
  return [
    {
      // Degraded is a resource's health check failing for good (a Deployment past its progress
      // deadline, a failed Job, a custom check of charts/gitops/health), not a rollout under way;
      // ten minutes rides out a check that recovers on the next reconciliation. A ticket: an
      // outage users see pages through the uptime checks and the SLOs.
      alert: ARGO_DEGRADED_ALERT,
      expr: perObject('argocd_app_info{health_status="Degraded"}', ['dest_namespace']),
      for: '10m',
      severity: 'warning',
      summary: `Argo CD ${app} is Degraded`,
      description: `Argo CD has reported the ${app} (into namespace {{ $labels.dest_namespace }}) Degraded for 10 minutes: one of its `
        + 'resources fails its health check.',
    },
    {
      // Past automated sync's retries: the sync failed for good, or something in the cluster keeps
      // changing what git says (a hand edit against selfHeal, a field that never converges), or
      // the manifests cannot be generated (Unknown). A ticket: what runs is the last synced version.
      alert: ARGO_OUT_OF_SYNC_ALERT,
      expr: perObject('argocd_app_info{sync_status=~"OutOfSync|Unknown"}', ['dest_namespace']),
      for: ARGO_OUT_OF_SYNC_FOR,
      severity: 'warning',
      summary: `Argo CD ${app} has not been in sync for ${ARGO_OUT_OF_SYNC_FOR}`,
      description: `The ${app} (into namespace {{ $labels.dest_namespace }}) has been OutOfSync or Unknown for ${ARGO_OUT_OF_SYNC_FOR}, longer `
        + 'than automated sync retries a failed sync: the cluster does not run what git says.',
    },
  ];
}

/**
 * Trivy Operator 0.32 (pkg/metrics/collector.go): `trivy_image_vulnerabilities`, the counts per
 * severity of each VulnerabilityReport. Reports are those of running workloads: with
 * `vulnerabilityScannerScanOnlyCurrentRevisions` (its default) the operator scans only a
 * Deployment's current ReplicaSet and deletes the reports of older ones (pkg/operator/workload).
 */
function trivyAlerts(appNamespace: string): Alert[] {
  const critical = (kind: string) => `max_over_time(trivy_image_vulnerabilities{namespace="${appNamespace}",severity="Critical",${kind}}[${TRIVY_FINDINGS_MEMORY}])`;
  // `service`: the workload. A ReplicaSet's name is its Deployment's and the pod-template hash
  // (Kubernetes' SafeEncodeString alphabet).
  const byWorkload = `label_replace(${critical('resource_kind="ReplicaSet"')}, "service", "$1", "resource_name", "(.+)-[bcdfghjklmnpqrstvwxz2456789]+")\n`
    + `or\nlabel_replace(${critical('resource_kind!="ReplicaSet"')}, "service", "$1", "resource_name", "(.+)")`;
  const labels = 'namespace, service, resource_kind, resource_name, container_name, image_registry, image_repository, image_tag';
  return [{
    // A ticket: the fix is a rebuilt or upgraded image, work for the day, not the night.
    alert: TRIVY_ALERT,
    expr: `max by (${labels}) (\n${byWorkload}\n) > 0`,
    severity: 'warning',
    summary: '{{ $labels.service }} runs an image with {{ $value }} critical vulnerabilities',
    description: 'Trivy found {{ $value }} vulnerabilities of severity Critical in {{ $labels.image_registry }}/{{ $labels.image_repository }}:'
      + '{{ $labels.image_tag }}, which container {{ $labels.container_name }} of {{ $labels.resource_kind }} {{ $labels.namespace }}/'
      + '{{ $labels.resource_name }} runs.',
  }];
}

/**
 * Falco's events as falcosidekick 2.32 counts them (stats_prometheus.go): every event Falco sends
 * it, by rule, priority (`priority_raw`: emergency … debug) and the pod's namespace and name.
 * falcosidekick's, not Falco's own `falcosecurity_falco_rules_matches_total`, which has neither.
 */
function falcoAlerts(): Alert[] {
  const events = `falcosecurity_falcosidekick_falco_events_total{priority_raw=~"${PAGED_PRIORITIES.join('|')}"}`;
  // Events in the window. A counter appears at 1 with its first event (a new rule, pod or
  // falcosidekick replica), which increase() cannot see: a series that did not exist a window ago
  // counts from 0 (`or … * 0`).
  const inWindow = `${events} - (${events} offset ${FALCO_EVENT_WINDOW} or ${events} * 0)`;
  // The event's namespace; a host's event (no pod) keeps the target's, falcosidekick's.
  const inNamespace = `label_replace(${inWindow}, "namespace", "$1", "k8s_ns_name", "(.+)")`;
  return [{
    // Critical and above are the rules' "someone is attacking or has broken in" (a shell in a
    // container, a write below /etc, a sensitive file read): at once, as a page.
    alert: FALCO_ALERT,
    expr: `sum by (namespace, k8s_pod_name, hostname, rule, priority_raw) (\n${inNamespace}\n) > 0`,
    severity: 'critical',
    labels: { service: 'falco' },
    summary: 'Falco: {{ $labels.rule }} ({{ $labels.priority_raw }}) in {{ $labels.namespace }}',
    description: `Falco reported {{ $value }} event(s) of the rule "{{ $labels.rule }}" at priority {{ $labels.priority_raw }} in the last ${FALCO_EVENT_WINDOW}, `
      + 'on node {{ $labels.hostname }}{{ if $labels.k8s_pod_name }} in pod {{ $labels.namespace }}/{{ $labels.k8s_pod_name }}{{ end }}.',
  }];
}

/** The alerts of the platform, by component. */
export function platformAlertGroups(appNamespace: string): AlertGroup[] {
  return [
    { name: 'certificates', alerts: certificateAlerts() },
    { name: 'external-secrets', alerts: externalSecretAlerts() },
    { name: 'argo-cd', alerts: argoAlerts() },
    { name: 'trivy', alerts: trivyAlerts(appNamespace) },
    { name: 'falco', alerts: falcoAlerts() },
  ];
}

export interface PlatformAlertsProps {
  /** The application in its environment: the rules' namespace and labels, Trivy's findings' namespace. */
  readonly identity: AppIdentity;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
}

/** The PrometheusRule of the platform's alerts. */
export class PlatformAlerts extends Construct {
  constructor(scope: Construct, id: string, props: PlatformAlertsProps) {
    super(scope, id);
    new AlertRules(this, 'Rules', {
      identity: props.identity, name: PLATFORM_ALERTS, labelName: 'platform', groups: platformAlertGroups(props.identity.namespace), runbookBase: props.runbookBase,
    });
  }
}
