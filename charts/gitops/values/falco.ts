/**
 * Values of the falco chart (9.1.0, Falco 0.44.1): runtime intrusion detection on every node with
 * the modern eBPF probe (built into Falco: no kernel module, no driver download). Events go as
 * JSON over HTTP to falcosidekick, its own release in the same namespace (the subchart here is off).
 * The DaemonSet is privileged: its namespace is the one Pod Security `privileged` exception.
 */
import { PLATFORM_RELEASES } from '../platform-releases';
import { serviceHost } from './common';
import type { PlatformValuesContext } from './context';
import { FALCOSIDEKICK_NAME, FALCOSIDEKICK_PORT } from './falcosidekick';

/** falcosidekick's HTTP input, by its Service's cluster DNS name in the shared namespace. */
export function falcosidekickURL(clusterDomain: string): string {
  return `http://${serviceHost(FALCOSIDEKICK_NAME, PLATFORM_RELEASES.falcosidekick.namespace, clusterDomain)}:${FALCOSIDEKICK_PORT}/`;
}

export interface FalcoValues {
  readonly driver: { readonly kind: 'modern_ebpf' };
  /** The bundled falcosidekick subchart (0.12.*): off, the falcosidekick release replaces it. */
  readonly falcosidekick: { readonly enabled: boolean };
  /** falco.yaml settings the chart sets itself when its subchart is on (templates/_helpers.tpl). */
  readonly falco: {
    /** falcosidekick reads JSON events. */
    readonly json_output: boolean;
    readonly json_include_output_property: boolean;
    readonly http_output: { readonly enabled: boolean; readonly url: string };
  };
  /** Falco's Prometheus metrics (the chart then turns on the webserver's /metrics) and their Service. */
  readonly metrics: { readonly enabled: boolean };
  readonly serviceMonitor: { readonly create: boolean };
}

export function falcoValues(ctx: PlatformValuesContext): FalcoValues {
  return {
    driver: { kind: 'modern_ebpf' },
    falcosidekick: { enabled: false },
    falco: {
      json_output: true,
      json_include_output_property: true,
      // The chart's own URL (with `fullfqdn`) hard-codes cluster.local; this one uses the cluster's domain.
      http_output: { enabled: true, url: falcosidekickURL(ctx.clusterDomain) },
    },
    metrics: { enabled: true },
    serviceMonitor: { create: true },
  };
}
