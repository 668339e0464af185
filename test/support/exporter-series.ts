/**
 * Input series for promtool rule tests as Prometheus stores them when kube-prometheus-stack scrapes
 * the exporters: the exporter's own labels plus the target labels the Prometheus Operator adds
 * (`job`, `instance`, `namespace`, `service`, `pod`, `container`, `endpoint`), the exporter's
 * winning on a clash (`honorLabels: true` on the kube-state-metrics and kubelet ServiceMonitors,
 * kube-prometheus-stack 88.5.3 values.yaml). A rule that forgot that every kube-state-metrics
 * series carries `service="kube-state-metrics"` passes a test with bare series and fails here.
 */

/** A series as promtool's `input_series` writes it. */
export function series(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** Target labels of the kube-state-metrics Service's endpoint. */
export const KSM_TARGET = {
  job: 'kube-state-metrics', service: 'kube-state-metrics', endpoint: 'http', instance: '10.42.3.17:8080',
  namespace: 'monitoring', pod: 'kube-state-metrics-6b8f9d7c4-2xk9p', container: 'kube-state-metrics',
} as const;

/** A kube-state-metrics series: its labels over the target's. */
export function ksm(name: string, labels: Readonly<Record<string, string>>): string {
  return series(name, { ...KSM_TARGET, ...labels });
}

/** Target labels of the kubelet's cAdvisor endpoint (kube-system's kubelet Service). */
export const KUBELET_TARGET = {
  job: 'kubelet', service: 'kube-prometheus-stack-kubelet', endpoint: 'https-metrics', instance: '10.0.1.21:10250',
  namespace: 'kube-system', metrics_path: '/metrics/cadvisor', node: 'node-a',
} as const;

/** A kubelet series (`/metrics/cadvisor`, or `/metrics` with `metrics_path`): its labels over the target's. */
export function kubelet(name: string, labels: Readonly<Record<string, string>>): string {
  return series(name, { ...KUBELET_TARGET, ...labels });
}

/** `kube_pod_owner` of a pod, as kube-state-metrics writes it (a pod without owner has empty owner labels, which Prometheus drops). */
export function podOwner(namespace: string, pod: string, owner?: { readonly kind: string; readonly name: string }): string {
  return ksm('kube_pod_owner', {
    namespace, pod, uid: `uid-${pod}`,
    ...(owner ? { owner_kind: owner.kind, owner_name: owner.name, owner_is_controller: 'true' } : {}),
  });
}

/**
 * Prometheus' `humanizeDuration` of a number of seconds ≥ 1 (template.go): `1d 2h 3m 4s`, leading
 * zero units left out.
 */
export function humanizeDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60];
  if (d !== 0) return `${d}d ${h}h ${m}m ${sec}s`;
  if (h !== 0) return `${h}h ${m}m ${sec}s`;
  if (m !== 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** promtool's expanding notation for `n` samples of `value`, with `_` (no sample) every other one when `gaps`. */
export function repeated(value: number, n: number, gaps = false): string {
  return Array.from({ length: n }, (_, i) => (gaps && i % 2 === 1 ? '_' : String(value))).join(' ');
}
