/**
 * Values of the alloy chart (1.11.1, Alloy v1.18.1): the log collector, one per node (the chart's
 * default DaemonSet). Each reads its node's container log files from the host's /var/log (the
 * chart's `mounts.varlog`, read-only), the API server's audit log on control-plane nodes, and,
 * shared between them (Alloy clustering), the Kubernetes events of Argo CD's and the
 * applications' namespaces. Its configuration is charts/logging/collector-config.ts.
 *
 * Reading the host's files needs a hostPath volume, which Pod Security `baseline` refuses: the
 * collector has a namespace of its own at `privileged` (platform-releases.ts), and the container
 * itself is locked down as far as reading root's files allows: root without any capability, no
 * privilege escalation, a read-only root filesystem, the host's /var/log read-only.
 */
import { collectorConfig } from '../../logging/collector-config';
import { PLATFORM_RELEASES } from '../platform-releases';
import { serviceHost } from './common';
import type { PlatformValuesContext } from './context';
import { LOKI_GATEWAY_PORT, LOKI_GATEWAY_SERVICE } from './loki';

/** Loki's push endpoint, through its gateway Service in the logging namespace. */
export function lokiPushURL(clusterDomain: string): string {
  const host = serviceHost(LOKI_GATEWAY_SERVICE, PLATFORM_RELEASES.loki.namespace, clusterDomain);
  return `http://${host}:${LOKI_GATEWAY_PORT}/loki/api/v1/push`;
}

/**
 * Where each collector keeps its read positions (the file offsets of every log it tails, and the
 * events' resource versions): a directory of the node, so that a restarted or upgraded collector
 * goes on where the last one stopped instead of reading every file again from its start.
 */
export const ALLOY_STORAGE = { hostPath: '/var/lib/alloy-log-collector', mountPath: '/var/lib/alloy' } as const;

/** The collector's configuration for an environment's cluster. */
export function alloyConfig(ctx: PlatformValuesContext): string {
  return collectorConfig({
    pushURL: lokiPushURL(ctx.clusterDomain),
    appNamespaces: ctx.appNamespaces,
    argocdNamespace: ctx.argocdNamespace,
    gatewayNamespace: ctx.gatewayNamespace,
    securityNamespace: PLATFORM_RELEASES.falco.namespace,
  });
}

interface RbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

export interface AlloyValues {
  /** The PodLogs CRD of the chart: not used (pods are found by discovery.kubernetes). */
  readonly crds: { readonly create: boolean };
  readonly alloy: {
    /** The configuration the chart puts in its ConfigMap. */
    readonly configMap: { readonly content: string };
    /** Alloy's clustering: the collectors share the events' namespaces through the chart's headless Service. */
    readonly clustering: { readonly enabled: boolean };
    /** No anonymous usage reports to Grafana Labs from inside the cluster. */
    readonly enableReporting: boolean;
    /** `--storage.path`: the positions, on the node (ALLOY_STORAGE). */
    readonly storagePath: string;
    /** The host's /var/log, read-only (templates/containers/_agent.yaml), and the positions' directory. */
    readonly mounts: {
      readonly varlog: boolean;
      readonly dockercontainers: boolean;
      readonly extra: readonly { readonly name: string; readonly mountPath: string }[];
    };
    readonly securityContext: {
      /** Root: the kubelet's log files are root's, mode 0640. Without capabilities root reads only what it owns. */
      readonly runAsUser: 0;
      readonly runAsNonRoot: false;
      readonly allowPrivilegeEscalation: false;
      readonly readOnlyRootFilesystem: true;
      readonly capabilities: { readonly drop: readonly ['ALL'] };
      readonly seccompProfile: { readonly type: 'RuntimeDefault' };
    };
    /** Free-form upstream (`resources: {}`). */
    readonly resources: {
      readonly requests: { readonly cpu: string; readonly memory: string };
      readonly limits: { readonly memory: string };
    };
  };
  readonly controller: {
    readonly type: 'daemonset';
    /**
     * Every node, the tainted ones too (control-plane nodes, where the API server's audit log is,
     * and dedicated pools): a node without a collector is a node whose logs are lost.
     */
    readonly tolerations: readonly { readonly operator: 'Exists'; readonly effect: 'NoSchedule' }[];
    /** Linux nodes: the image is Linux's, and Windows nodes keep their logs elsewhere. */
    readonly nodeSelector: { readonly 'kubernetes.io/os': 'linux' };
    readonly volumes: {
      readonly extra: readonly { readonly name: string; readonly hostPath: { readonly path: string; readonly type: 'DirectoryOrCreate' } }[];
    };
  };
  /**
   * What the collector may read of the API: pods (discovery) and events. The chart's
   * default also reads every Secret and ConfigMap of the cluster, which nothing here needs.
   */
  readonly rbac: { readonly rules: readonly RbacRule[]; readonly clusterRules: readonly RbacRule[] };
  readonly serviceMonitor: { readonly enabled: boolean };
}

export function alloyValues(ctx: PlatformValuesContext): AlloyValues {
  return {
    crds: { create: false },
    alloy: {
      configMap: { content: alloyConfig(ctx) },
      clustering: { enabled: true },
      enableReporting: false,
      storagePath: ALLOY_STORAGE.mountPath,
      mounts: { varlog: true, dockercontainers: false, extra: [{ name: 'positions', mountPath: ALLOY_STORAGE.mountPath }] },
      securityContext: {
        runAsUser: 0,
        runAsNonRoot: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
      // A burst of logs is buffered in memory until Loki takes it: bounded, so one node's burst
      // cannot take the node's memory.
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    },
    controller: {
      type: 'daemonset',
      tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      volumes: { extra: [{ name: 'positions', hostPath: { path: ALLOY_STORAGE.hostPath, type: 'DirectoryOrCreate' } }] },
    },
    rbac: {
      rules: [
        { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
      ],
      clusterRules: [],
    },
    serviceMonitor: { enabled: true },
  };
}
