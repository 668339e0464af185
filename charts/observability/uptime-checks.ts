/**
 * The uptime checks: every public host asked over HTTPS from inside the cluster, every 30 seconds,
 * by each of the two probers of the blackbox exporter (./blackbox-exporter.ts), through prometheus-operator
 * `Probe` objects, and the alerts on what they see. They judge the whole way a visitor's request
 * goes (DNS, the load balancer, the Gateway, its certificate, the route and the service behind it),
 * which pod health alone does not: every pod ready behind an expired certificate or a lost DNS
 * record is still an outage.
 *
 * One Probe per host and prober, `uptime-<route>-<n>` (the host's HTTPRoute name, the prober's
 * ordinal), all under the job label `uptime`. Each series carries `namespace` (the operator adds
 * the Probe's), `service` (`uptime-<route>`, uptimeService), `route` (the host's HTTPRoute), `prober` (the prober that asked) and `instance`
 * (the URL asked).
 */
import { Probe } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe';
import { Construct } from 'constructs';
import type { AppIdentity } from '../../environments/model/identity';
import { parseDuration } from '../../environments/quantity';
import { appMetadata } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { AlertRules, type Alert } from './alert-rules';
import { BlackboxExporter, PROBE_TIMEOUT_SECONDS } from './blackbox-exporter';

/** The `job` label of every uptime series (the Probes' jobName), in every environment's namespace. */
export const UPTIME_JOB = 'uptime';
/** `app.kubernetes.io/name` of the Probes and of their rules: `kubectl get probe,prometheusrule -l app.kubernetes.io/name=uptime`. */
export const UPTIME_LABEL_NAME = 'uptime';
/** How often each prober checks each host. */
export const PROBE_INTERVAL = '30s';

export const PROBE_FAILED_ALERT = 'UptimeProbeFailed';
export const CERTIFICATE_EXPIRING_ALERT = 'UptimeCertificateExpiring';
export const PROBER_DOWN_ALERT = 'UptimeProberDown';

/** The most warning a served certificate's expiry gives: two weeks to find why renewal did not reach the users. */
export const CERTIFICATE_WARNING_SECONDS = 14 * 86400;


/** A public host and the HTTPRoute that serves it (environments/model/gateway.ts, hostRoutes). */
export interface UptimeHost {
  readonly hostname: string;
  /** The host's HTTPRoute: the `route` label of its checks and alerts. */
  readonly route: string;
}

/** The URL a host's check asks: its root, the page a visitor opens first (no public health path is configured). */
export function uptimeTarget(hostname: string): string {
  return `https://${hostname}/`;
}

/** The Probe of one host from one prober. */
export function uptimeProbeName(route: string, ordinal: number): string {
  return `uptime-${route}-${ordinal}`;
}

/**
 * How close to expiry a served certificate may get before the warning: two weeks, or half of the
 * renewal window where that is shorter, so that a certificate waiting for its normal renewal never
 * warns. cert-manager renews `renewBefore` ahead of expiry (720 h here), so a certificate served
 * with less left was either not renewed or renewed without reaching the Gateway.
 */
export function certificateWarningSeconds(renewBefore: string): number {
  return Math.min(CERTIFICATE_WARNING_SECONDS, Math.floor(parseDuration(renewBefore) / 2));
}

export interface UptimeChecksProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** The exporter's shared objects' name (environments/model/names.ts, FIXED_NAMES.blackboxExporter). */
  readonly exporterName: string;
  /** The probers (environments/model/names.ts, UPTIME_PROBERS). */
  readonly probers: readonly string[];
  /** Every public host of the environment. */
  readonly hosts: readonly UptimeHost[];
  /** The cluster's DNS domain, in the probers' addresses. */
  readonly clusterDomain: string;
  /** Whether the hosts' certificates are verified: their issuer is publicly trusted (PUBLICLY_TRUSTED_ISSUER). */
  readonly verifyCertificate: boolean;
  /** How long before expiry cert-manager renews the hosts' certificates (`tls.renewBefore`). */
  readonly renewBefore: string;
  /** Where the runbooks are read: the repository's web address at the synced revision. */
  readonly runbookBase: string;
  /** Spread of the probers over zones. @default 'preferred' */
  readonly zoneSpread?: 'preferred' | 'required';
  /** PriorityClass of the probers. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

/**
 * The `service` of a host's checks and their alerts: `uptime-<route>`, the check itself, not the
 * HTTPRoute or the Certificate (both named after the host). Alertmanager holds back the warnings of
 * the same `service` while a critical fires: a host that is down must not silence the certificate
 * alert that says why. The HTTPRoute is the label `route`.
 */
export const uptimeService = (route: string) => `uptime-${route}`;

/** The alerts on the checks of one namespace's hosts. */
export function uptimeAlerts(namespace: string, verifyCertificate: boolean, renewBefore: string, exporterName: string): Alert[] {
  const selector = `namespace="${namespace}",job="${UPTIME_JOB}"`;
  const byHost = 'namespace, service, route, instance';
  const warning = certificateWarningSeconds(renewBefore);
  const status = `{{ with printf "max(probe_http_status_code{${selector.replaceAll('"', '\'')},instance='%s'})" $labels.instance | query }}`
    + '{{ . | first | value }}{{ end }}';
  return [
    {
      // What a visitor meets: the host does not answer, or not over HTTPS with a good certificate, or
      // with an error. Every prober, each over four consecutive checks and some two minutes: one
      // prober's broken node, a restarting proxy or a dropped packet pages nobody, and the page still
      // comes within 5 minutes (30 s scrape, 30 s evaluation, 2 m, Alertmanager's group wait).
      alert: PROBE_FAILED_ALERT,
      expr: `max by (${byHost}) (probe_success{${selector}}) == 0`,
      for: '2m',
      severity: 'critical',
      summary: '{{ $labels.instance }} is down: no prober gets a good answer',
      description: 'Every prober has failed to get a 2xx or 3xx answer over HTTPS'
        + `${verifyCertificate ? ' with a valid certificate' : ''} from {{ $labels.instance }} (HTTPRoute {{ $labels.route }}) for 2 minutes. `
        + `The last HTTP status was ${status} (0: no HTTP answer at all, so DNS, the connection or TLS failed).`,
    },
    {
      // What the users are served, not what cert-manager holds: also a renewed certificate that never
      // reached the Gateway. The lowest expiry over an hour, so one proxy still serving the old
      // certificate is seen even when most checks reach the others.
      alert: CERTIFICATE_EXPIRING_ALERT,
      expr: `min by (${byHost}) (min_over_time(probe_ssl_earliest_cert_expiry{${selector}}[1h])) - time() < ${warning}`,
      severity: 'warning',
      summary: 'The certificate {{ $labels.instance }} serves expires in {{ $value | humanizeDuration }}',
      description: '{{ $labels.instance }} (HTTPRoute {{ $labels.route }}) served a certificate in the last hour that expires in '
        + `{{ $value | humanizeDuration }}. cert-manager renews ${renewBefore} before expiry: the renewal has failed, or the renewed `
        + 'certificate has not reached the Gateway.',
    },
    {
      // The checks are blind: no prober has answered a scrape (Probes not picked up, the exporter down
      // or unreachable through its NetworkPolicy), so UptimeProbeFailed could not fire. A ticket: no
      // host is known to be down.
      alert: PROBER_DOWN_ALERT,
      expr: `absent(up{${selector}} == 1)`,
      for: '10m',
      severity: 'warning',
      labels: { namespace, service: exporterName },
      summary: `The uptime checks of ${namespace} are blind: no prober answers`,
      description: `Prometheus has had no answer from any ${exporterName} prober for 10 minutes, so no public host of ${namespace} is checked `
        + `and ${PROBE_FAILED_ALERT} cannot fire.`,
    },
  ];
}

export class UptimeChecks extends Construct {
  constructor(scope: Construct, id: string, props: UptimeChecksProps) {
    super(scope, id);
    const { identity } = props;
    const exporter = new BlackboxExporter(this, 'exporter', {
      identity,
      name: props.exporterName,
      probers: props.probers,
      clusterDomain: props.clusterDomain,
      verifyCertificate: props.verifyCertificate,
      zoneSpread: props.zoneSpread,
      priorityClassName: props.priorityClassName,
    });

    for (const [i, host] of props.hosts.entries()) {
      for (const [ordinal, prober] of exporter.probers.entries()) {
        const name = uptimeProbeName(host.route, ordinal);
        // Ids by position: two hosts may share a dashed name, which synthesis then reports as two
        // objects for one file instead of failing here.
        new ModelObject(this, `probe-${i}-${ordinal}`, new Probe({
          metadata: appMetadata(identity, { name, labelName: UPTIME_LABEL_NAME, component: 'monitoring' }),
          spec: {
            jobName: UPTIME_JOB,
            interval: PROBE_INTERVAL,
            // Room for the module's own timeout, which then decides.
            scrapeTimeout: `${PROBE_TIMEOUT_SECONDS + 5}s`,
            module: exporter.module,
            prober: { url: prober.address, scheme: 'http', path: '/probe' },
            targets: {
              staticConfig: {
                static: [uptimeTarget(host.hostname)],
                labels: { service: uptimeService(host.route), route: host.route, prober: prober.name },
              },
            },
          },
        }));
      }
    }

    new AlertRules(this, 'rules', {
      identity,
      name: UPTIME_LABEL_NAME,
      labelName: UPTIME_LABEL_NAME,
      runbookBase: props.runbookBase,
      groups: [{ name: 'uptime', alerts: uptimeAlerts(identity.namespace, props.verifyCertificate, props.renewBefore, props.exporterName) }],
    });
  }
}
