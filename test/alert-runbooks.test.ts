/**
 * Every alert has its runbook: each alert of every environment's PrometheusRules (dist/<env>/) and Loki
 * rule files (ConfigMaps in Loki's namespace, argocd/<env>/) links
 * `runbooks/<AlertName>.md` of this repository at the revision Argo CD syncs, the page exists and
 * says what the alert means, how to confirm it and how to mitigate it; and every alert-named page
 * (`runbooks/<CapitalizedName>.md`) belongs to an alert the output has, so none is left behind
 * when an alert goes. The commands of these pages name the objects of the output, as the recovery
 * runbooks' do (test/runbooks.test.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LOKI_RULES_SIDECAR } from '../charts/gitops/values/loki';
import { AUDIT_ALERT_NAMES } from '../charts/logging/audit-alerts';
import { repositoryFilesUrl, runbookUrl } from '../charts/observability/runbooks';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { Environment } from '../environments/schema';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import { REPO } from './support/repository-copy';

const RUNBOOKS = join(REPO, 'runbooks');
const envs = resolveEnvironments(environments, REPO);

const alertsOfGroups = (groups: readonly K8sObject[]) => groups.flatMap((g) => (g.rules as K8sObject[]).filter((x) => x.alert));

/** The alerting rules of the rule files of the ConfigMaps Loki's rules sidecar loads for the ruler (charts/gitops/values/loki.ts). */
const lokiAlertsOf = (objects: readonly K8sObject[]) => objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.[LOKI_RULES_SIDECAR.label] !== undefined)
  .flatMap((c) => Object.values(c.data as Record<string, string>).flatMap((file) => alertsOfGroups((parse(file) as K8sObject).groups)));

/** Every alerting rule of an environment's output: its PrometheusRules', and those of its Loki rule files. */
const alertsOf = (objects: readonly K8sObject[]) => [
  ...objects.filter((o) => o.kind === 'PrometheusRule').flatMap((r) => alertsOfGroups(r.spec.groups)),
  ...lokiAlertsOf(objects),
];

/** All an environment writes: dist/<env>/ and argocd/<env>/. */
const outputOf = (env: Environment): K8sObject[] => {
  const model = buildModel(env);
  const objects = modelObjects(model);
  return [...objects.map((o) => o.object), ...argocdObjects(model, objects)];
};

describe.each(envs.map((e) => [e.name, e] as const))('%s', (_name, env) => {
  const output = outputOf(env);
  const alerts = alertsOf(output);

  test('the Loki rule files are found (in argocd/<env>/): the audit trail\'s alerts that every environment has', () => {
    const loki = lokiAlertsOf(output).map((a) => a.alert as string);
    expect(loki).toEqual(expect.arrayContaining([AUDIT_ALERT_NAMES.loginFailures, AUDIT_ALERT_NAMES.tenantSilent]));
    expect(loki.every((a) => alerts.some((x) => x.alert === a))).toBe(true);
  });

  test('has alerts, each with a severity, a summary and a description', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
      expect(a.annotations?.summary).toEqual(expect.any(String));
      expect(a.annotations?.description).toEqual(expect.any(String));
    }
  });

  test('every alert links its own runbook page at the synced revision, and the page exists', () => {
    const files = repositoryFilesUrl(env.delivery.repoURL, env.delivery.targetRevision);
    for (const a of alerts) {
      expect(a.annotations?.runbook_url).toBe(runbookUrl(files, a.alert));
      expect(existsSync(join(RUNBOOKS, `${a.alert}.md`))).toBe(true);
    }
  });
});

const alertNames = new Set(envs.flatMap((env) => alertsOf(outputOf(env)).map((a) => a.alert as string)));
const alertPages = readdirSync(RUNBOOKS).filter((f) => /^[A-Z][A-Za-z0-9]*\.md$/.test(f));

test('every alert-named page belongs to an alert of the output (no orphan pages)', () => {
  expect(alertPages.length).toBeGreaterThan(0);
  expect(alertPages.filter((f) => !alertNames.has(f.replace(/\.md$/, '')))).toEqual([]);
});

test.each(alertPages)('runbooks/%s says what it means, how to confirm it and how to mitigate it', (file) => {
  const text = readFileSync(join(RUNBOOKS, file), 'utf8');
  expect(text.startsWith(`# ${file.replace(/\.md$/, '')}\n`)).toBe(true);
  expect(text).toMatch(/\*\*What it means\.\*\*/);
  expect(text).toMatch(/^## \d+\. Confirm$/m);
  expect(text).toMatch(/^## \d+\. Mitigate$/m);
});

test('the runbook address is the repository\'s web page of the file, for https and ssh clone URLs', () => {
  expect(repositoryFilesUrl('https://git.example.org/team/deploy.git', 'main')).toBe('https://git.example.org/team/deploy/blob/main');
  expect(repositoryFilesUrl('git@git.example.org:team/deploy.git', 'v2')).toBe('https://git.example.org/team/deploy/blob/v2');
  expect(repositoryFilesUrl('ssh://git@git.example.org:2222/team/deploy.git', 'main')).toBe('https://git.example.org/team/deploy/blob/main');
});
