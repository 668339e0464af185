/**
 * The probers of the uptime checks (./uptime-checks.ts): the Prometheus blackbox exporter, which asks
 * a public host over HTTPS when Prometheus scrapes its `/probe?module=…&target=…` and answers with
 * what it saw (`probe_success`, the status, the TLS handshake, the certificate's expiry). The
 * ServiceAccount and ConfigMap (blackbox.yml) the probers share, and for each prober a Deployment of
 * one pod and its Service. Who may reach them, and whom they may reach (Prometheus in; DNS and the
 * public hosts on 443 out), is the flows table's (environments/model/flows.ts, rendered by
 * charts/security/network-policies.ts).
 *
 * Two probers, each scraped through its own Service by Probes of its own, never on the same node:
 * each prober's results are series of their own (label `prober`), and the uptime alert fires only
 * when every prober sees the host fail. One prober's broken node, network or DNS then never pages
 * anyone about a host that is up, and a prober lost, drained or restarting leaves the other
 * checking. Two replicas behind one load-balanced Service would interleave their answers in one
 * series: a single broken replica would make it flap, and page at random. So each Deployment runs
 * one pod and has no PodDisruptionBudget: a drain takes one prober at a time as a matter of course,
 * the other being on another node.
 */
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IProbe } from 'kubernetes-models/v1';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Document, isSeq } from 'yaml';
import type { AppIdentity } from '../../environments/model/identity';
import { selectorLabels } from '../../environments/model/identity';
import { BLACKBOX_EXPORTER_PORT } from '../../environments/model/network';
import { BLACKBOX_EXPORTER_IMAGE } from '../common/images';
import { appMetadata, recommendedLabels } from '../common/labels';
import { ModelObject } from '../common/model-object';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../common/pod-security';
import { TERMINATION_MESSAGE } from '../common/termination-message';

/** Port name shared by the container, the Service and the probes. */
export const BLACKBOX_PORT_NAME = 'http';

/** Where the pod mounts the ConfigMap, and the configuration file in it. */
export const BLACKBOX_CONFIG_DIR = '/etc/blackbox-exporter';
export const BLACKBOX_CONFIG_FILE = 'blackbox.yml';

/** UID and GID the image runs as: BusyBox's nobody (the image sets no USER and needs no file of its own to be writable). */
export const BLACKBOX_EXPORTER_UID = 65534;

/**
 * The HTTPS check of a public host, a GET of the page a visitor opens first. A host is up when it
 * answers with one of these statuses itself: every 2xx and 3xx status RFC 9110 defines. Redirects
 * are not followed: a login page on another host (an identity provider) would make the check, and
 * its certificate metrics, be about that host rather than this one.
 */
export const HTTPS_MODULE = 'https_2xx';
export const ACCEPTED_STATUS_CODES: readonly number[] = [200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 307, 308];

/**
 * The same check for hosts whose issuer no client trusts (Let's Encrypt's staging environment): the
 * certificate is not verified, so such a host is judged on DNS, the connection, the handshake and the
 * status only. Its certificate's expiry is still measured (from what the server sends).
 */
export const HTTPS_UNVERIFIED_MODULE = 'https_2xx_unverified_certificate';

/**
 * The longest a check may take, connecting and TLS included: a first page slower than this is down
 * for a visitor too. The Probe's scrape timeout must leave room for it (the exporter takes the
 * smaller of the two, less half a second).
 */
export const PROBE_TIMEOUT_SECONDS = 10;

/** The module a host's check runs: verified against the system CAs unless its issuer is not publicly trusted. */
export function httpsModule(verifyCertificate: boolean): string {
  return verifyCertificate ? HTTPS_MODULE : HTTPS_UNVERIFIED_MODULE;
}

/**
 * blackbox.yml with the one module the environment's checks use. Keys as blackbox_exporter
 * v0.28.0 reads them (config/config.go, HTTPProbe; tls_config and follow_redirects from
 * prometheus/common's HTTPClientConfig).
 */
export function blackboxConfig(verifyCertificate: boolean): string {
  const module = httpsModule(verifyCertificate);
  const doc = new Document({
    modules: {
      [module]: {
        prober: 'http',
        timeout: `${PROBE_TIMEOUT_SECONDS}s`,
        http: {
          method: 'GET',
          valid_status_codes: [...ACCEPTED_STATUS_CODES],
          // The NetworkPolicies open IPv4 only: a host without an A record fails at resolution, saying
          // so, rather than at a connection the policy drops.
          preferred_ip_protocol: 'ip4',
          ip_protocol_fallback: false,
          follow_redirects: false,
          // An answer not over TLS fails, whatever its status.
          fail_if_not_ssl: true,
          // No ca_file: the image's system CAs, what visitors' clients trust.
          tls_config: { insecure_skip_verify: !verifyCertificate },
        },
      },
    },
  });
  // The status codes on one line.
  const codes = doc.getIn(['modules', module, 'http', 'valid_status_codes'], true);
  if (isSeq(codes)) codes.flow = true;
  return doc.toString();
}

/** The address of one prober, its Service's, as a Probe names it. */
export function proberAddress(prober: string, namespace: string, clusterDomain: string): string {
  return `${prober}.${namespace}.svc.${clusterDomain}:${BLACKBOX_EXPORTER_PORT}`;
}

export interface BlackboxExporterProps {
  /** The application in its environment: namespace and labels. */
  readonly identity: AppIdentity;
  /** Name of the ConfigMap and ServiceAccount the probers share (environments/model/names.ts, FIXED_NAMES.blackboxExporter). */
  readonly name: string;
  /**
   * The probers: each one's Deployment, Service and pods' `app.kubernetes.io/name`
   * (environments/model/names.ts, UPTIME_PROBERS), by which the exporter's NetworkPolicy selects them.
   */
  readonly probers: readonly string[];
  /** The cluster's DNS domain, in the probers' addresses. */
  readonly clusterDomain: string;
  /** Whether the certificates of the hosts are verified (their issuer is publicly trusted). */
  readonly verifyCertificate: boolean;
  /** Probers in distinct zones: `required` only where every node carries `topology.kubernetes.io/zone`. @default 'preferred' */
  readonly zoneSpread?: 'preferred' | 'required';
  /** PriorityClass of the pods. @default none (the cluster's default priority) */
  readonly priorityClassName?: string;
}

function healthProbe(failureThreshold: number): IProbe {
  return {
    httpGet: { path: '/-/healthy', port: BLACKBOX_PORT_NAME, scheme: 'HTTP' },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold,
    successThreshold: 1,
  };
}

export class BlackboxExporter extends Construct {
  /** The module every check of this exporter runs. */
  readonly module: string;
  /** Each prober and the address its Probes scrape. */
  readonly probers: readonly { readonly name: string; readonly address: string }[];

  constructor(scope: Construct, id: string, props: BlackboxExporterProps) {
    super(scope, id);
    const { identity, name } = props;
    if (props.probers.length < 2) throw new Error('the uptime checks need two probers at least: one alone pages for its own node\'s failures');
    const config = blackboxConfig(props.verifyCertificate);
    this.module = httpsModule(props.verifyCertificate);
    this.probers = props.probers.map((prober) => ({ name: prober, address: proberAddress(prober, identity.namespace, props.clusterDomain) }));

    const shared = appMetadata(identity, { name, component: 'monitoring' });
    const everyProber = {
      matchLabels: { 'app.kubernetes.io/instance': identity.instance },
      matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [...props.probers] }],
    };
    // They ask the public hosts only; a mounted token would only be something to steal.
    new ModelObject(this, 'ServiceAccount', new ServiceAccount({ metadata: shared, automountServiceAccountToken: false }));
    new ModelObject(this, 'ConfigMap', new ConfigMap({ metadata: shared, data: { [BLACKBOX_CONFIG_FILE]: config } }));

    for (const prober of props.probers) {
      const selector = selectorLabels(identity, prober);
      const metadata = appMetadata(identity, { name: prober, component: 'monitoring' });
      new ModelObject(this, `${prober}-Service`, new Service({
        metadata,
        spec: {
          type: 'ClusterIP',
          selector,
          ports: [{ name: BLACKBOX_PORT_NAME, port: BLACKBOX_EXPORTER_PORT, targetPort: BLACKBOX_PORT_NAME, protocol: 'TCP', appProtocol: 'http' }],
        },
      }));

      new ModelObject(this, `${prober}-Deployment`, new Deployment({
        metadata,
        spec: {
          replicas: 1,
          revisionHistoryLimit: 5,
          progressDeadlineSeconds: 600,
          selector: { matchLabels: selector },
          // The new pod checks before the old one stops: the prober's series has no gap.
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: {
              labels: recommendedLabels(identity, prober, 'monitoring'),
              // The exporter reads its file at start: a changed module rolls the probers.
              annotations: { 'checksum/config': createHash('sha256').update(config).digest('hex') },
            },
            spec: {
              serviceAccountName: name,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              ...(props.priorityClassName ? { priorityClassName: props.priorityClassName } : {}),
              securityContext: restrictedPodSecurityContext(BLACKBOX_EXPORTER_UID),
              // A check in flight ends within its timeout; the other prober goes on meanwhile.
              terminationGracePeriodSeconds: PROBE_TIMEOUT_SECONDS + 5,
              // Spread over the pods of every prober: with two nodes or more, no two probers share one
              // (that node's broken network would blind both); on a single node they still run.
              topologySpreadConstraints: [
                {
                  topologyKey: 'kubernetes.io/hostname',
                  maxSkew: 1,
                  whenUnsatisfiable: 'DoNotSchedule',
                  labelSelector: everyProber,
                  nodeTaintsPolicy: 'Honor',
                },
                {
                  topologyKey: 'topology.kubernetes.io/zone',
                  maxSkew: 1,
                  // Required only where the environment says its nodes are labelled with zones.
                  whenUnsatisfiable: props.zoneSpread === 'required' ? 'DoNotSchedule' : 'ScheduleAnyway',
                  labelSelector: everyProber,
                  nodeTaintsPolicy: 'Honor',
                },
              ],
              containers: [{
                name: 'blackbox-exporter',
                image: BLACKBOX_EXPORTER_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: [`--config.file=${BLACKBOX_CONFIG_DIR}/${BLACKBOX_CONFIG_FILE}`, `--web.listen-address=:${BLACKBOX_EXPORTER_PORT}`],
                ports: [{ name: BLACKBOX_PORT_NAME, containerPort: BLACKBOX_EXPORTER_PORT, protocol: 'TCP' }],
                // A handful of HTTPS requests a minute per host: small and steady (0.23 holds some 18 MiB
                // resident after a run of checks).
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
                // /-/healthy answers while the process serves; the checks themselves are judged by the alerts.
                livenessProbe: healthProbe(3),
                readinessProbe: healthProbe(2),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [{ name: 'config', mountPath: BLACKBOX_CONFIG_DIR, readOnly: true }],
                ...TERMINATION_MESSAGE,
              }],
              volumes: [{ name: 'config', configMap: { name, defaultMode: 0o444 } }],
            },
          },
        },
      }));
    }
  }
}
