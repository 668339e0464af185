/**
 * The second application, the laser-engraving box designer (test/support/fixtures.ts): one api with
 * PostgreSQL and uploaded files and no Redis, then with PostgreSQL only, then with no data at all.
 * Each goes through the whole gate `npm run synth` runs (pipeline/synth.ts: strict schema
 * validation and the policy rules; nothing is written), and the NetworkPolicies it would write are
 * held to its own flows table on each side with the evaluator (test/support/network-contract.ts).
 * What an application does not have leaves no trace: no object, injected variable, flow, backup or
 * documented row for it. A service that uses a component the environment does not configure is a
 * configuration error naming the environment and the field.
 */
import { parse } from 'yaml';
import type { EnvironmentDefinition } from '../environments/define';
import { mergeConfig } from '../environments/define';
import { ConfigError } from '../environments/load';
import { INJECTED_ENV } from '../environments/model/injected-env';
import { buildModel } from '../environments/model/model';
import { FIXED_NAMES } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import { FLOWS_DOC, flowsDocument } from '../pipeline/flows-doc';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthesizeAll } from '../pipeline/pipeline';
import { synthesizeEnvironment } from '../pipeline/synth';
import { boxDesigner, boxDesignerPostgresOnly, boxDesignerWithoutData, REPOSITORY_ROOT, shop, variant } from './support/fixtures';
import { catchAllPeers, contractDifferences, differencesReport, modelContract, uncastWorkloads, unstatedPolicyTypes } from './support/network-contract';
import { networkCast } from './support/network-endpoints';
import { only } from './support/synth-construct';

/** Another application's Gateway in the same proxy namespace, whose proxies must never pass for the box designer's. */
const neighbour = variant(shop);

interface Gated {
  readonly env: Environment;
  /** Problems the gate found (schema, policy, file names): none for a fixture. */
  readonly problems: readonly string[];
  /** Files as they would be written under dist/<env>/. */
  readonly files: ReadonlyMap<string, string>;
  /** The objects, read back from those files. */
  readonly objects: readonly K8sObject[];
  readonly document: string;
}

async function throughTheGate(env: Environment): Promise<Gated> {
  const { files, problems } = await synthesizeEnvironment(env);
  const objects = [...files.values()].map((text) => parse(text) as K8sObject);
  return { env, problems, files, objects, document: flowsDocument([buildModel(env)]) };
}

const names = (objects: readonly K8sObject[], kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
const apiEnv = (g: Gated): string[] => only(g.objects, 'Deployment', 'api').spec.template.spec.containers.flatMap((c: K8sObject) => (c.env ?? []).map((e: K8sObject) => e.name));

const cases = [
  ['with PostgreSQL and uploaded files', variant(boxDesigner)],
  ['with PostgreSQL only', boxDesignerPostgresOnly()],
  ['without data', boxDesignerWithoutData()],
] as const;

describe.each(cases)('the box designer %s', (_name, env) => {
  let gated: Gated;
  beforeAll(async () => {
    gated = await throughTheGate(env);
  });

  test('passes the whole gate: schema validation and every policy rule, no problem', () => {
    expect(gated.problems).toEqual([]);
    expect(gated.files.size).toBe(gated.objects.length);
  });

  test('its NetworkPolicies are written under security/, one per subject of its flows table plus the default deny', () => {
    const policyFiles = [...gated.files.keys()].filter((f) => f.includes('networkpolicy-')).sort();
    expect(policyFiles.every((f) => f.startsWith('security/'))).toBe(true);
    expect(names(gated.objects, 'NetworkPolicy')).toEqual(['default-deny', ...buildModel(env).network.subjects.map((s) => s.name)].sort());
  });

  test('each side of every connection equals its flows table (evaluator, every pod it runs and strangers)', () => {
    const c = networkCast(env, neighbour, gated.objects);
    expect(uncastWorkloads(c)).toEqual([]);
    expect(catchAllPeers(c.policies)).toEqual([]);
    expect(unstatedPolicyTypes(c.policies)).toEqual([]);
    expect(differencesReport(contractDifferences(c, modelContract(buildModel(env).network, c)))).toBe('');
  });

  test('no Redis: no object, injected variable, flow or documented row', () => {
    expect(env.data.redis).toBeUndefined();
    for (const [file, text] of gated.files) expect({ file, redis: /redis|sentinel/i.test(text) }).toEqual({ file, redis: false });
    expect(names(gated.objects, 'StatefulSet')).toEqual([]);
    expect(apiEnv(gated).filter((v) => INJECTED_ENV.redis.includes(v))).toEqual([]);
    expect(buildModel(env).network.flows.filter((f) => /redis|sentinel/i.test(JSON.stringify(f)))).toEqual([]);
    expect(gated.document).not.toMatch(/redis|sentinel/i);
  });

  test('the api gets the variables of exactly what it uses', () => {
    const injected = apiEnv(gated).filter((v) => Object.values(INJECTED_ENV).flat().includes(v));
    expect(injected).toEqual(env.services.api.uses.flatMap((d) => INJECTED_ENV[d]));
  });
});

test('with PostgreSQL only: no uploads volume, file backup, its flow or its documented row; the database and its backups stay', async () => {
  const env = boxDesignerPostgresOnly();
  const g = await throughTheGate(env);
  expect(env.data.uploads).toBeUndefined();
  expect(names(g.objects, 'PersistentVolumeClaim')).toEqual([]);
  expect(names(g.objects, 'CronJob')).toEqual(['backup-database', 'backup-verify']);
  expect(names(g.objects, 'ServiceAccount')).not.toContain('backup-files');
  expect(names(g.objects, 'NetworkPolicy')).not.toContain('backup-files');
  expect(apiEnv(g)).not.toContain('UPLOADS_DIR');
  const api = only(g.objects, 'Deployment', 'api').spec.template.spec;
  expect(JSON.stringify(api.volumes)).not.toContain('uploads');
  // The restore test checks only what is backed up: no files repository to restore from.
  expect(JSON.stringify(only(g.objects, 'CronJob', 'backup-verify'))).not.toContain('restic/uploads');
  expect(g.document).not.toMatch(/backup-files|uploads/);
  expect(names(g.objects, 'Cluster')).toEqual([buildModel(env).data.postgres!.cluster]);
});

test('without data: no database, pooler, backups, object storage, secrets or volumes; only the api, its edge, the smoke test, the uptime checks and their policies', async () => {
  const env = boxDesignerWithoutData();
  const g = await throughTheGate(env);
  for (const kind of ['Cluster', 'Pooler', 'ObjectStore', 'ScheduledBackup', 'ExternalSecret', 'CronJob', 'PersistentVolumeClaim', 'StatefulSet']) {
    expect({ kind, names: names(g.objects, kind) }).toEqual({ kind, names: [] });
  }
  // The PodMonitors left are the gateway's: its proxies' (the objectives are measured there) and its controller's.
  expect(names(g.objects, 'PodMonitor')).toEqual(['envoy-gateway-controller', FIXED_NAMES.gatewayProxyMonitor]);
  // The smoke test's script and check list, the uptime checks' module, the dashboards of what
  // there is (services, their objectives, capacity): the ConfigMaps left.
  // And the logs dashboard, as every application has (the audit trail's Loki rules are in Loki's namespace, argocd/<env>/).
  expect(names(g.objects, 'ConfigMap')).toEqual([
    'blackbox-exporter', 'grafana-dashboard-capacity', 'grafana-dashboard-logs', 'grafana-dashboard-services', 'grafana-dashboard-slo', 'smoke-test',
  ]);
  expect([...g.files.keys()].filter((f) => f.startsWith('data/') || f.startsWith('backup/'))).toEqual([]);
  expect(names(g.objects, 'NetworkPolicy')).toEqual(['allow-acme-http01-solver', 'allow-dns', 'api', 'blackbox-exporter', 'default-deny', 'smoke-test']);
  expect(apiEnv(g).filter((v) => Object.values(INJECTED_ENV).flat().includes(v))).toEqual([]);
  // Eight rows: name resolution, the solver, the api, the smoke test to the Gateway's proxies and to the load balancer,
  // Prometheus to the uptime probers and they to the Gateway's proxies and to the load balancer.
  expect(g.document.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| from |'))).toHaveLength(8);
  expect(g.document).not.toMatch(/PostgreSQL|PgBouncer|object storage|backup/);
});

describe('through synthesizeAll, as npm run synth runs it', () => {
  /** A definition of the box designer with these changes, as an environment file would say them. */
  const definition = (overrides: object): EnvironmentDefinition => ({ ...boxDesigner, config: mergeConfig(structuredClone(boxDesigner.config), overrides) });

  test('the box designer beside the shop: files of both, and the flows document with a section for each', async () => {
    const { files, documents } = await synthesizeAll([boxDesigner, shop], REPOSITORY_ROOT);
    expect([...files.keys()].filter((f) => f.startsWith('box-designer/security/'))).not.toHaveLength(0);
    expect([...files.keys()].filter((f) => f.startsWith('box-designer/') && /redis/.test(f))).toEqual([]);
    expect([...files.keys()].filter((f) => f.startsWith('shop/') && /redis/.test(f))).not.toHaveLength(0);
    const doc = documents.get(FLOWS_DOC)!;
    const box = doc.slice(doc.indexOf('## box-designer'), doc.indexOf('## shop'));
    expect(box).toContain('## box-designer (namespace box-designer)');
    expect(box).not.toMatch(/redis/i);
    expect(doc.slice(doc.indexOf('## shop'))).toMatch(/Redis/);
  });

  test('a service using Redis the box designer does not configure: one error naming the environment and the field', async () => {
    const bad = definition({ services: { api: { uses: ['postgres', 'redis', 'uploads'] } } });
    const error = await synthesizeAll([shop, bad], REPOSITORY_ROOT).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['box-designer: services.api.uses[1] ("redis") is not configured: add data.redis, or remove it from uses']);
  });

  test('using uploaded files after data.uploads was removed: the same kind of error, for that field', async () => {
    const bad = definition({});
    const config = bad.config as { data: Record<string, unknown>; backups: Record<string, unknown> };
    delete config.data.uploads;
    delete config.backups.filesSchedule;
    const error = await synthesizeAll([bad], REPOSITORY_ROOT).then(() => undefined, (e: unknown) => e);
    expect((error as ConfigError).problems).toEqual(['box-designer: services.api.uses[1] ("uploads") is not configured: add data.uploads, or remove it from uses']);
  });
});
