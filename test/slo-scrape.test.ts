/**
 * The SLO rules on series as Prometheus scrapes them: a fixture serves the two kinds of request
 * metrics the objectives are measured on, in the exporters' own exposition (Envoy's per-route
 * counters and request-time histogram, as the gateway's proxies expose them; Micrometer's
 * `http_server_requests_seconds` histogram, as Spring Boot's Actuator does, with its own tags), a
 * real Prometheus (Debian's 2.42) scrapes them with the labels the synthesized monitors give
 * (`namespace` and `service` of a ServiceMonitor's target) and evaluates production's synthesized
 * recording rules; the recorded error ratios are what the fixture's traffic says. A rule whose
 * names or labels do not meet the scraped series records nothing, and this fails.
 * The histogram's `le` is served as Prometheus 3 stores it (`500.0` for Envoy's `500`): 2.42 keeps
 * what it reads, 3.x normalizes (environments/model/slo.ts, prometheusFloat).
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorRatioRecord } from '../charts/observability/slo-rules';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { hostRoutes } from '../environments/model/gateway';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { startPrometheus, type RunningPrometheus } from './support/debian-prometheus';
import { waitFor } from './support/wait';

type Json = Record<string, any>;

const production = resolveEnvironments(environments, process.cwd()).find((e) => e.name === 'production');
if (!production) throw new Error('no production environment');
const NS = production.app.namespace;
const sloRules = synthObjects(production).map((o) => o.object).filter((o) => o.kind === 'PrometheusRule' && o.metadata.name.endsWith('-slo'));
const webCluster = hostRoutes(production).flatMap((h) => h.rules.filter((r) => r.service === 'web').map((r) => r.envoyCluster))[0];

/** Requests a second the fixture reports: web at the gateway, api by its own timer. */
const WEB = { ok: 18, errors: 2, fast: 15 };
const API = { ok: 9, errors: 1, fast: 8, actuator: 50 };

const children: ChildProcess[] = [];
let server: Server | undefined;
let prometheus: RunningPrometheus | undefined;

afterAll(async () => {
  prometheus?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (server) await new Promise((resolve) => { server?.closeAllConnections(); server?.close(resolve); });
});

/**
 * The exposition at `t` seconds: every counter at its rate × the whole seconds passed, so that any
 * two scrapes differ by whole seconds' worth of every counter and the ratios are exact however the
 * scrapes fall (rounding each counter on its own could make one grow without another on a loaded
 * machine, and a short window's ratio wrong).
 */
function exposition(t: number): string {
  const n = (perSecond: number) => perSecond * Math.floor(t);
  const envoy = `envoy_cluster_name="${webCluster}"`;
  const api = (labels: string) => `method="GET",${labels},exception="none",error="none"`;
  const courses = api('uri="/courses/{id}"');
  return [
    '# TYPE envoy_cluster_upstream_rq_xx counter',
    `envoy_cluster_upstream_rq_xx{${envoy},envoy_response_code_class="2"} ${n(WEB.ok)}`,
    `envoy_cluster_upstream_rq_xx{${envoy},envoy_response_code_class="5"} ${n(WEB.errors)}`,
    '# TYPE envoy_cluster_upstream_rq_time histogram',
    `envoy_cluster_upstream_rq_time_bucket{${envoy},le="250.0"} ${n(WEB.fast - 5)}`,
    `envoy_cluster_upstream_rq_time_bucket{${envoy},le="500.0"} ${n(WEB.fast)}`,
    `envoy_cluster_upstream_rq_time_bucket{${envoy},le="+Inf"} ${n(WEB.ok + WEB.errors)}`,
    `envoy_cluster_upstream_rq_time_sum{${envoy}} ${n(WEB.ok + WEB.errors) * 100}`,
    `envoy_cluster_upstream_rq_time_count{${envoy}} ${n(WEB.ok + WEB.errors)}`,
    '# TYPE http_server_requests_seconds histogram',
    ...[['200', 'SUCCESS', API.ok, API.fast], ['503', 'SERVER_ERROR', API.errors, API.errors]].flatMap(([status, outcome, all, fast]) => {
      const labels = `${courses},status="${status}",outcome="${outcome}"`;
      return [
        `http_server_requests_seconds_bucket{${labels},le="0.5"} ${n(fast as number)}`,
        `http_server_requests_seconds_bucket{${labels},le="+Inf"} ${n(all as number)}`,
        `http_server_requests_seconds_count{${labels}} ${n(all as number)}`,
        `http_server_requests_seconds_sum{${labels}} ${n(all as number) * 0.2}`,
      ];
    }),
    // The Actuator's probes, failing: not the users' requests, not counted.
    `http_server_requests_seconds_count{${api('uri="/actuator/health/{*path}"')},status="503",outcome="SERVER_ERROR"} ${n(API.actuator)}`,
    '',
  ].join('\n');
}

test('production\'s SLO rules record the error ratios of the scraped gateway and Spring Boot series', async () => {
  const started = Date.now();
  server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition((Date.now() - started) / 1000)); });
  const port = await new Promise<number>((resolve) => server?.listen(0, '127.0.0.1', () => resolve((server?.address() as AddressInfo).port)));
  const target = `127.0.0.1:${port}`;
  // Recorded every second (a pure delay); what is recorded is the synthesized rules'.
  const shortened = sloRules.map((r: K8sObject) => ({ groups: (r.spec.groups as Json[]).map((g) => ({ ...g, interval: '1s' })) }));
  prometheus = await startPrometheus({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: shortened.map((_r, i) => `rules-${i}.yml`),
    scrape_configs: [
      // The proxies' PodMonitor: Envoy's labels are its own.
      { job_name: `${production.gateway.proxyNamespace}/gateway-proxy`, metrics_path: '/stats/prometheus', static_configs: [{ targets: [target] }] },
      // The api's ServiceMonitor: its targets carry the Service's namespace and name.
      { job_name: 'api', static_configs: [{ targets: [target], labels: { namespace: NS, service: 'api' } }] },
    ],
  }, Object.fromEntries(shortened.map((r, i) => [`rules-${i}.yml`, r])), children);

  const recorded = async (service: string, slo: string) => {
    const query = encodeURIComponent(`${errorRatioRecord('5m')}{namespace="${NS}",service="${service}",slo="${slo}"}`);
    const r = await fetch(`${prometheus?.url}/api/v1/query?query=${query}`).then((x) => x.json() as Promise<Json>).catch(() => undefined);
    const value = r?.data?.result?.[0]?.value?.[1];
    return value === undefined ? undefined : Number(value);
  };
  // A few scrapes in, every rate has two samples.
  const values = await waitFor('all four error ratios recorded', 60_000, async () => {
    const v = [await recorded('web', 'availability'), await recorded('web', 'latency'), await recorded('api', 'availability'), await recorded('api', 'latency')];
    return v.every((x) => x !== undefined && Number.isFinite(x)) && Date.now() - started > 6_000 ? v : undefined;
  }, { intervalMs: 500, context: () => prometheus?.logs() ?? '' });
  const [webAvailability, webLatency, apiAvailability, apiLatency] = values as number[];
  expect(webAvailability).toBeCloseTo(WEB.errors / (WEB.ok + WEB.errors), 1);
  expect(webLatency).toBeCloseTo(1 - WEB.fast / (WEB.ok + WEB.errors), 1);
  expect(apiAvailability).toBeCloseTo(API.errors / (API.ok + API.errors), 1);
  expect(apiLatency).toBeCloseTo(1 - (API.fast + API.errors) / (API.ok + API.errors), 1);
}, 90_000);
