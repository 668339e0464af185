/**
 * The log collector's configuration as synthesized into the alloy Application of each environment,
 * read with a port of Alloy's own parser (test/support/alloy-syntax.ts): it parses, every
 * component it references exists, and what it does to each line comes from log-streams.ts. The
 * labels it leaves on a stream are exactly LOG_LABELS (the labels every query may use, checked by
 * the queries' own tests), the rest goes to structured metadata, and the audit tenant receives
 * exactly the log types LOG_TYPES gives it.
 *
 * Alloy itself cannot run here (no Debian package). Its JSON stage's expressions are evaluated with
 * the JMESPath Community implementation for JavaScript (Alloy's stage.json uses the same
 * specification's Go implementation, jmespath-community/go-jmespath) on lines as real loggers
 * write them. Its Go templates cannot run: their structure is checked against LEVEL_ALIASES.
 */
import { search } from '@jmespath-community/jmespath';
import { PLATFORM_RELEASES } from '../charts/gitops/platform-releases';
import type { AlloyValues } from '../charts/gitops/values/alloy';
import {
  ACCESS_LOG_STATUS_FIELD, collectorConfig, ENVOY_CONTAINER, EVENT_LEVEL_FIELD, FALCO_CONTAINER, levelTemplate, type CollectorConfigProps,
} from '../charts/logging/collector-config';
import {
  KUBERNETES_AUDIT_LOG_DIR, KUBERNETES_AUDIT_LOG_FILE, LEVEL_ALIASES, LOG_LABELS, LOG_LEVELS, LOG_METADATA, LOG_TYPES, LOKI_TENANTS, type LogTypeName,
} from '../charts/logging/log-streams';
import { environments } from '../environments/index';
import { resolveEnvironment } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import {
  attribute, components, componentId, constantValue, findBlocks, parseFile, references, unresolvedReferences, type AlloyFile, type AlloyValue, type BlockStmt,
} from './support/alloy-syntax';
import { REPOSITORY_ROOT } from './support/fixtures';
import { parseLogql } from './support/logql';

/** The configuration Argo CD gives the alloy chart for an environment. */
function synthesizedConfig(name: 'staging' | 'production'): { text: string; env: ReturnType<typeof resolveEnvironment> } {
  const def = environments.find((e) => e.name === name);
  if (!def) throw new Error(`no environment ${name}`);
  const env = resolveEnvironment(def, REPOSITORY_ROOT);
  const model = buildModel(env);
  const app = argocdObjects(model, modelObjects(model)).find((o: K8sObject) => o.kind === 'Application' && o.metadata.name === 'alloy') as K8sObject;
  return { text: (app.spec.source.helm.valuesObject as AlloyValues).alloy.configMap.content, env };
}

const value = (block: BlockStmt, name: string): AlloyValue | undefined => {
  const expr = attribute(block, name);
  return expr ? constantValue(expr) : undefined;
};
const keysOf = (block: BlockStmt, name: string): string[] => Object.keys((value(block, name) ?? {}) as Record<string, AlloyValue>);
/** The stages of a loki.process, in order (nested ones under stage.match inside their match). */
const stages = (process: BlockStmt): BlockStmt[] => process.body.filter((s): s is BlockStmt => s.type === 'block' && s.name.startsWith('stage.'));

const LABELS: string[] = Object.values(LOG_LABELS).sort();
const METADATA: string[] = Object.values(LOG_METADATA).sort();

describe.each(['staging', 'production'] as const)('%s', (name) => {
  const { text, env } = synthesizedConfig(name);
  const file: AlloyFile = parseFile(text, `${name}/alloy`);
  const processes = findBlocks(file, 'loki.process');

  test('parses as Alloy, and every component it references is declared', () => {
    expect(unresolvedReferences(file)).toEqual([]);
    expect(components(file).map(componentId)).toEqual([
      'discovery.kubernetes.pods', 'discovery.relabel.pods', 'local.file_match.pods', 'loki.source.file.pods', 'loki.process.pods',
      'loki.source.kubernetes_events.events', 'loki.process.events',
      'local.file_match.kubernetes_audit', 'loki.source.file.kubernetes_audit', 'loki.process.kubernetes_audit',
      'loki.relabel.application', 'loki.write.application', 'loki.relabel.audit', 'loki.write.audit',
    ]);
  });

  test('every source goes through a pipeline; every pipeline feeds each tenant\'s writer, which keeps only its tenant\'s log types', () => {
    // The components a block's forward_to names (`loki.process.pods.receiver` → loki.process.pods).
    const forwards = (block: BlockStmt) => references(block.body.filter((s) => s.type === 'attribute' && s.name.name === 'forward_to'))
      .map((r) => r.parts.slice(0, 3).join('.'));
    for (const source of [...findBlocks(file, 'loki.source.file'), ...findBlocks(file, 'loki.source.kubernetes_events')]) {
      expect(forwards(source)).toEqual([`loki.process.${source.label}`]);
    }
    for (const p of processes) expect(forwards(p)).toEqual(Object.values(LOKI_TENANTS).map((t) => `loki.relabel.${t}`));
    for (const tenant of Object.values(LOKI_TENANTS)) {
      const relabel = findBlocks(file, 'loki.relabel').find((b) => b.label === tenant) as BlockStmt;
      expect(forwards(relabel)).toEqual([`loki.write.${tenant}`]);
      const [rule] = findBlocks(relabel, 'rule');
      expect([value(rule, 'source_labels'), value(rule, 'action')]).toEqual([[LOG_LABELS.logType], 'keep']);
      // Prometheus relabelling anchors the regex: exactly the tenant's log types pass.
      const keep = new RegExp(`^(?:${value(rule, 'regex') as string})$`);
      expect(Object.keys(LOG_TYPES).filter((t) => keep.test(t))).toEqual(Object.keys(LOG_TYPES).filter((t) => LOG_TYPES[t as LogTypeName].tenant === tenant));
      const write = findBlocks(file, 'loki.write').find((b) => b.label === tenant) as BlockStmt;
      const [endpoint] = findBlocks(write, 'endpoint');
      expect(value(endpoint, 'tenant_id')).toBe(tenant);
      expect(value(endpoint, 'url')).toBe(`http://loki-gateway.${PLATFORM_RELEASES.loki.namespace}.svc.${env.clusterDomain}:80/loki/api/v1/push`);
      // The audit tenant's writer never gives up (0: no limit); the application's keeps Alloy's default.
      expect(value(endpoint, 'max_backoff_retries')).toBe(tenant === LOKI_TENANTS.audit ? 0 : undefined);
    }
    // No stage picks a tenant: the writer does.
    expect(findBlocks(file, 'stage.tenant')).toEqual([]);
  });

  test('every pipeline ends by moving the rest to structured metadata and leaving exactly the stream labels', () => {
    for (const p of processes) {
      const top = stages(p);
      const [metadata, keep] = top.slice(-2);
      expect(metadata.name).toBe('stage.structured_metadata');
      expect(keysOf(metadata, 'values').sort()).toEqual(METADATA);
      expect(keep.name).toBe('stage.label_keep');
      expect((value(keep, 'values') as string[]).slice().sort()).toEqual(LABELS);
    }
  });

  test('the labels any stage sets are stream labels, or a marker label_keep drops; every log type is set somewhere, and no other', () => {
    const set = new Set<string>();
    const types = new Set<string>();
    for (const p of processes) {
      for (const s of findBlocks(p, 'stage.static_labels')) {
        const values = value(s, 'values') as Record<string, string>;
        for (const [k, v] of Object.entries(values)) {
          set.add(k);
          if (k === LOG_LABELS.logType) types.add(v);
        }
      }
      for (const s of findBlocks(p, 'stage.labels')) for (const k of keysOf(s, 'values')) set.add(k);
    }
    // The discovery's rules (the writers' keep rules set no label).
    const relabelled = findBlocks(findBlocks(file, 'discovery.relabel'), 'rule').map((r) => value(r, 'target_label') as string).filter((l) => !l.startsWith('__'));
    const markers = [...set, ...relabelled].filter((l) => !LABELS.includes(l) && !METADATA.includes(l));
    expect(markers).toEqual(['audit_event']);
    expect([...types].sort()).toEqual(Object.keys(LOG_TYPES).sort());
    // Pod, container and node come from discovery as labels and leave as structured metadata.
    expect(relabelled.filter((l) => METADATA.includes(l)).sort()).toEqual([LOG_METADATA.container, LOG_METADATA.node, LOG_METADATA.pod]);
  });

  test('log types by where a line comes from; audit only from the application\'s namespaces and its own JSON', () => {
    const pods = processes.find((p) => p.label === 'pods') as BlockStmt;
    const matches = findBlocks(pods, 'stage.match').map((m) => ({
      selector: value(m, 'selector') as string,
      logType: findBlocks(m.body, 'stage.static_labels').map((s) => (value(s, 'values') as Record<string, string>)[LOG_LABELS.logType])[0],
    }));
    expect(matches).toEqual(expect.arrayContaining([
      { selector: `{namespace="${env.delivery.namespace}"}`, logType: 'delivery' },
      { selector: `{namespace="falco", container="${FALCO_CONTAINER}"}`, logType: 'security' },
      { selector: `{namespace="${env.gateway.proxyNamespace}", container="${ENVOY_CONTAINER}"} |= "\\"${ACCESS_LOG_STATUS_FIELD}\\":"`, logType: 'access' },
      { selector: `{audit_event="audit", namespace=~"${env.app.namespace}"}`, logType: 'audit' },
    ]));
    for (const { selector } of matches) expect(parseLogql(selector).errors).toEqual([]);
    // Argo CD's events are delivery records too; the API server's file is its own type.
    const events = processes.find((p) => p.label === 'events') as BlockStmt;
    expect(JSON.stringify(findBlocks(events, 'stage.match').map((m) => value(m, 'selector')))).toContain(`namespace=\\"${env.delivery.namespace}\\"`);
    const eventSource = findBlocks(file, 'loki.source.kubernetes_events')[0];
    expect(value(eventSource, 'namespaces')).toEqual([env.delivery.namespace, env.app.namespace]);
    // The file the API server writes, not its rotated backups (audit-<time>.log), and the time it answered.
    const auditFile = findBlocks(file, 'local.file_match').find((b) => b.label === 'kubernetes_audit') as BlockStmt;
    expect(JSON.stringify(attribute(auditFile, 'path_targets'))).toContain(JSON.stringify(`${KUBERNETES_AUDIT_LOG_DIR}/${KUBERNETES_AUDIT_LOG_FILE}`).slice(1, -1));
    const auditProcess = processes.find((p) => p.label === 'kubernetes_audit') as BlockStmt;
    const [json, timestamp] = stages(auditProcess);
    const key = Object.keys(value(json, 'expressions') as Record<string, string>)[0];
    expect(value(json, 'expressions')).toEqual({ [key]: 'stageTimestamp' });
    expect([value(timestamp, 'source'), value(timestamp, 'format')]).toEqual([key, 'RFC3339Nano']);
    expect(findBlocks(auditProcess, 'stage.template')).toEqual([]);
  });
});

describe('what the JSON stage reads from real log lines (JMESPath, as Alloy evaluates it)', () => {
  const props: CollectorConfigProps = {
    pushURL: 'http://loki.test/loki/api/v1/push', appNamespaces: ['app-test'], argocdNamespace: 'argocd', gatewayNamespace: 'gw', securityNamespace: 'falco',
  };
  const file = parseFile(collectorConfig(props));
  const pods = findBlocks(file, 'loki.process').find((p) => p.label === 'pods') as BlockStmt;
  const expressions = value(findBlocks(pods, 'stage.json')[0], 'expressions') as Record<string, string>;
  const extract = (line: Record<string, unknown>) => Object.fromEntries(
    Object.entries(expressions).map(([k, e]) => [k, search(line as never, e) ?? undefined]),
  );

  test('Spring Boot\'s ECS format: log.level, and the MDC keys at the top level', () => {
    const line = { '@timestamp': '2026-12-01T10:00:00.000Z', 'log.level': 'WARN', message: 'slow', request_id: 'r-1', traceId: 't-1', 'ecs.version': '8.11' };
    expect(extract(line)).toEqual({ level: 'WARN', request_id: 'r-1', trace_id: 't-1', event_log_type: undefined });
  });

  test('Spring Boot 3.5\'s ECS format nests the level; OpenTelemetry-style trace.id nests the trace id', () => {
    expect(extract({ log: { level: 'ERROR', logger: 'x' }, message: 'boom', trace: { id: 't-9' } })).toMatchObject({ level: 'ERROR', trace_id: 't-9' });
  });

  test('pino: a numeric level; an audit event: its log_type', () => {
    expect(extract({ level: 50, msg: 'boom', request_id: 'r-2' })).toMatchObject({ level: 50, request_id: 'r-2' });
    expect(extract({ level: 'info', log_type: 'audit', actor: 'u-1', request_id: 'r-3' })).toMatchObject({ event_log_type: 'audit', request_id: 'r-3' });
  });

  test('Envoy Gateway\'s access log: its x-request-id is the request id; a line of no known shape gives nothing', () => {
    const access = { start_time: '2026-12-01T10:00:00.000Z', method: 'GET', response_code: 503, 'x-request-id': '0f1e2d3c', route_name: 'httproute/app-test/portal/rule/0' };
    expect(extract(access)).toMatchObject({ level: undefined, request_id: '0f1e2d3c' });
    expect(search(access as never, (value(findBlocks(pods, 'stage.json')[1], 'expressions') as Record<string, string>).status_code)).toBe(503);
    expect(extract({ message: 'no level, no id' })).toEqual({ level: undefined, request_id: undefined, trace_id: undefined, event_log_type: undefined });
  });

  test('a Kubernetes event\'s type is its level', () => {
    const events = findBlocks(file, 'loki.process').find((p) => p.label === 'events') as BlockStmt;
    const ex = value(findBlocks(events, 'stage.json')[0], 'expressions') as Record<string, string>;
    expect(ex).toEqual({ level: EVENT_LEVEL_FIELD });
    expect(search({ name: 'portal', kind: 'Application', type: 'Warning', msg: 'sync failed' } as never, ex.level)).toBe('Warning');
  });
});

describe('levels and the app label', () => {
  test('the level template has one branch per level, in LOG_LEVELS\' order, each with its aliases (lowercase, distinct)', () => {
    const template = levelTemplate();
    const branches = [...template.matchAll(/(?:if|else if) eq \$l ((?:"[^"]*" ?)+)\}\}([a-z]+)/g)]
      .map((m) => ({ level: m[2], aliases: [...m[1].matchAll(/"([^"]*)"/g)].map((a) => a[1]) }));
    expect(branches.map((b) => b.level)).toEqual([...LOG_LEVELS]);
    for (const b of branches) expect(b.aliases).toEqual([...LEVEL_ALIASES[b.level as keyof typeof LEVEL_ALIASES]]);
    const all = Object.values(LEVEL_ALIASES).flat();
    expect(new Set(all).size).toBe(all.length);
    for (const a of all) expect(a).toBe(a.toLowerCase());
    // The events' Normal and Warning, pino's numbers.
    expect(LEVEL_ALIASES.info).toContain('normal');
    expect(LEVEL_ALIASES.warn).toContain('warning');
    expect(LEVEL_ALIASES.error).toContain('50');
  });

  test('app: app.kubernetes.io/name, else app, else the container (Prometheus relabelling: the regex matches the whole joined value)', () => {
    const { text } = synthesizedConfig('production');
    const rule = findBlocks(parseFile(text), 'rule').find((r) => value(r, 'target_label') === LOG_LABELS.app) as BlockStmt;
    const regex = new RegExp(`^(?:${value(rule, 'regex') as string})$`);
    const app = (...sources: string[]) => sources.join(value(rule, 'separator') as string).replace(regex, '$1');
    expect(app('api', 'legacy', 'main')).toBe('api');
    expect(app('', 'legacy', 'main')).toBe('legacy');
    expect(app('', '', 'main')).toBe('main');
  });
});
