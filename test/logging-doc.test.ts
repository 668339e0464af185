/**
 * docs/logging.md against the code it describes: the log types and their tenants, the labels and
 * structured metadata, the saved searches as production runs them, the audit trail's alerts with
 * their severities and runbooks, the retention defaults. A change to any of these without the page
 * fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AUDIT_ALERT_NAMES, AUDIT_ALERTS } from '../charts/logging/audit-alerts';
import { logSearches } from '../charts/logging/log-searches';
import { LOG_LABELS, LOG_METADATA, LOG_TYPES } from '../charts/logging/log-streams';
import { LOGGING_ALERT_NAMES, LOGGING_ALERTS } from '../charts/observability/logging-alerts';
import { environments } from '../environments/index';
import { resolveEnvironment } from '../environments/load';
import { buildModel } from '../environments/model/model';
import { EnvironmentSchema } from '../environments/schema';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { REPOSITORY_ROOT } from './support/fixtures';

const DOC = readFileSync(join(REPOSITORY_ROOT, 'docs/logging.md'), 'utf8');
const production = resolveEnvironment(environments.find((e) => e.name === 'production') as (typeof environments)[number], REPOSITORY_ROOT);

/** The cells of the table row whose first cell is `first`. */
function row(first: string): string[] | undefined {
  const line = DOC.split('\n').find((l) => l.startsWith(`| ${first} |`));
  return line?.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

test('every log type has its row, with its tenant; no row names a type that does not exist', () => {
  for (const [type, { tenant }] of Object.entries(LOG_TYPES)) expect(row(`\`${type}\``)?.[1]).toBe(`\`${tenant}\``);
  const section = DOC.slice(DOC.indexOf('## What is collected'), DOC.indexOf('### Labels and structured metadata'));
  const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).filter((t) => t !== LOG_LABELS.logType);
  expect(documented.sort()).toEqual(Object.keys(LOG_TYPES).sort());
});

test('the four labels have their rows, and every structured metadata key is named', () => {
  for (const label of Object.values(LOG_LABELS)) expect(row(`\`${label}\``)).toBeDefined();
  for (const key of Object.values(LOG_METADATA)) expect(DOC).toContain(`\`${key}\``);
});

test('the saved searches are production\'s, each with its tenant and its query as Grafana sends it', () => {
  const searches = logSearches({ appNamespace: production.app.namespace, gatewayNamespace: production.gateway.proxyNamespace });
  for (const s of Object.values(searches)) {
    expect(row(s.title)).toEqual([s.title, `\`${s.tenant}\``, `\`${s.query.replace(/\|/g, '\\|')}\``]);
  }
  const section = DOC.slice(DOC.indexOf('## Searching'), DOC.indexOf('A few more that answer'));
  expect(section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Search') && !l.startsWith('| ---'))).toHaveLength(Object.keys(searches).length);
});

test('the audit trail\'s alerts: each with the severity production gives it and a runbook that exists', () => {
  const model = buildModel(production);
  // In Loki's namespace, from argocd/<env>/, as the page says.
  const configMap = argocdObjects(model, modelObjects(model)).find((o) => o.kind === 'ConfigMap' && o.metadata.name === AUDIT_ALERTS);
  expect(DOC).toContain(`\`${AUDIT_ALERTS}\` in Loki's namespace (\`${configMap?.metadata.namespace}\`)`);
  const file = parse(Object.values(configMap?.data as Record<string, string>)[0]) as { groups: { rules: { alert: string; labels: { severity: string } }[] }[] };
  const rules = file.groups.flatMap((g) => g.rules);
  expect(rules.map((r) => r.alert).sort()).toEqual(Object.values(AUDIT_ALERT_NAMES).sort());
  for (const r of rules) {
    const cells = row(`[${r.alert}](../runbooks/${r.alert}.md)`);
    expect(cells?.[1]).toBe(r.labels.severity);
    expect(existsSync(join(REPOSITORY_ROOT, 'runbooks', `${r.alert}.md`))).toBe(true);
  }
});

test('the logging pipeline\'s alerts: each with its severities and a runbook that exists', () => {
  const model = buildModel(production);
  const rule = modelObjects(model).map((o) => o.object).find((o) => o.kind === 'PrometheusRule' && o.metadata.name === LOGGING_ALERTS);
  const rules = (rule?.spec.groups as { rules: { alert?: string; labels?: { severity: string } }[] }[]).flatMap((g) => g.rules).filter((r) => r.alert);
  const severities = new Map<string, Set<string>>();
  for (const r of rules) severities.set(r.alert as string, (severities.get(r.alert as string) ?? new Set()).add(r.labels?.severity as string));
  expect([...severities.keys()].sort()).toEqual(Object.values(LOGGING_ALERT_NAMES).sort());
  for (const [alert, levels] of severities) {
    const cells = row(`[${alert}](../runbooks/${alert}.md)`);
    expect(cells?.[1]).toBe(['critical', 'warning'].filter((l) => levels.has(l)).join(' / '));
    expect(existsSync(join(REPOSITORY_ROOT, 'runbooks', `${alert}.md`))).toBe(true);
  }
});

test('the retention table states the configuration\'s defaults', () => {
  const defaults = EnvironmentSchema.shape.logging.parse(undefined);
  const days = (d: string) => Number.parseInt(d, 10) / 24;
  expect(row('`application`')).toBeDefined();
  expect(DOC).toContain(`| \`application\` | \`application\`, \`access\` | ${days(defaults.retention.application)} days by default | \`logging.retention.application\` |`);
  expect(DOC).toContain(`| \`audit\` | \`audit\`, \`delivery\`, \`security\`, \`kubernetes_audit\` | ${days(defaults.retention.audit)} days by default; at least a year in production | \`logging.retention.audit\` |`);
});

test('the FERPA checklist: a row per requirement, each with what the repository does and what stays the institution\'s', () => {
  const section = DOC.slice(DOC.indexOf('## FERPA checklist'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Requirement') && !l.startsWith('| ---'));
  expect(rows.length).toBeGreaterThanOrEqual(6);
  for (const r of rows) expect(r.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()).every((c) => c.length > 0)).toBe(true);
  expect(section).toContain('99.32');
});
