/**
 * The recovery runbooks give exact commands against this repository's manifests, so every object a
 * command names must be one the synthesis makes (or one the operators make from it under a known
 * rule, such as a StatefulSet's pods or CloudNativePG's Services), in a namespace of an
 * environment, and every npm script, repository file and link they mention must exist. A renamed
 * CronJob or cluster fails here instead of during an incident. The other direction holds too: the
 * runbook for each kind of recovery names every object of that kind the output has.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PLATFORM_RELEASES, releaseNamespace, type PlatformRelease } from '../charts/gitops/platform-releases';
import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { dataEndpoints } from '../environments/model/names';
import type { K8sObject } from '../pipeline/k8s-object';
import { synthObjects } from '../pipeline/synth';
import { REPO } from './support/repository-copy';

const RUNBOOKS = join(REPO, 'runbooks');
/** The recovery runbooks this suite is about (the alert runbooks are checked by their own suite). */
const RECOVERY = [
  'restore-database-point-in-time.md',
  'restore-database-from-dump.md',
  'restore-uploaded-files.md',
  'redis-node-loss.md',
  'backup-failed.md',
  'change-immutable-field.md',
] as const;
const envs = resolveEnvironments(environments, REPO);
/**
 * The alert pages and the incident procedure: their commands are held to the same checks (the
 * structure of an alert page is test/alert-runbooks.test.ts's).
 */
const OPERATIONS = [
  'incident-response.md',
  ...readdirSync(join(REPO, 'runbooks')).filter((f) => /^[A-Z][A-Za-z0-9]*\.md$/.test(f)).sort(),
];
/**
 * Namespaces of the platform the runbooks may address besides the environments' own: every
 * platform release's. What the charts create there is not in the synthesized output, so names in
 * them are not checked.
 */
const PLATFORM_NAMESPACES = new Set(envs.flatMap((env) => {
  const configured = { argocd: env.delivery.namespace, monitoring: env.monitoringNamespace, gateway: env.gateway.proxyNamespace };
  return Object.values(PLATFORM_RELEASES).map((r: PlatformRelease) => releaseNamespace(r, configured));
}));

const objectsByEnv = new Map(envs.map((env) => [env.name, synthObjects(env).map((o) => o.object)]));
const namespaces = new Set(envs.map((env) => env.app.namespace));

/** `kubectl` kinds and short names → the object kind they name. */
const KINDS: Record<string, string> = {
  cronjob: 'CronJob', cronjobs: 'CronJob', cj: 'CronJob',
  job: 'Job', jobs: 'Job',
  pod: 'Pod', pods: 'Pod', po: 'Pod',
  statefulset: 'StatefulSet', statefulsets: 'StatefulSet', sts: 'StatefulSet',
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  service: 'Service', services: 'Service', svc: 'Service',
  pvc: 'PersistentVolumeClaim', persistentvolumeclaim: 'PersistentVolumeClaim',
  configmap: 'ConfigMap', cm: 'ConfigMap',
  secret: 'Secret', secrets: 'Secret',
  networkpolicy: 'NetworkPolicy', netpol: 'NetworkPolicy',
  externalsecret: 'ExternalSecret',
  cluster: 'Cluster', 'clusters.postgresql.cnpg.io': 'Cluster',
  pooler: 'Pooler', 'poolers.postgresql.cnpg.io': 'Pooler',
  scheduledbackup: 'ScheduledBackup', 'scheduledbackups.postgresql.cnpg.io': 'ScheduledBackup',
  backup: 'Backup', 'backups.postgresql.cnpg.io': 'Backup',
  objectstore: 'ObjectStore', 'objectstores.barmancloud.cnpg.io': 'ObjectStore',
  application: 'Application', 'applications.argoproj.io': 'Application',
  priorityclass: 'PriorityClass',
};

/** Shell code of a Markdown page: the fenced blocks, one logical line per command (`\` continued). */
function commands(markdown: string): string[] {
  // Every fenced block, so that a PromQL or YAML one is skipped whole rather than read from its closing fence.
  const blocks = [...markdown.matchAll(/^```([a-z]*)\n([\s\S]*?)^```/gm)].filter((m) => ['', 'sh', 'bash', 'shell', 'console'].includes(m[1])).map((m) => m[2]);
  return blocks.flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((l) => l.replace(/^\$ /, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

interface Reference { readonly kind: string; readonly name: string; readonly namespace?: string; readonly line: string }

/** An object name as written: placeholders are `<…>` or a shell variable (`$STAMP`, `$(date …)`). */
const NAME = String.raw`[a-z0-9<$][-a-z0-9.<>$A-Z_{}]*`;

/** Objects a command line names: `kind/name`, `kubectl <verb> <kind> <name>`, `kubectl cnpg <verb> <cluster>`. */
function references(line: string): Reference[] {
  const namespace = /(?:^|\s)(?:-n|--namespace)[ =]([a-z0-9-]+)/.exec(line)?.[1];
  const out: Reference[] = [];
  for (const m of line.matchAll(new RegExp(String.raw`(?:^|[\s=])([a-z.]+)/(${NAME})`, 'g'))) {
    const kind = KINDS[m[1]];
    if (kind) out.push({ kind, name: m[2], namespace, line });
  }
  for (const m of line.matchAll(new RegExp(String.raw`cnpg\.io/cluster=(${NAME})`, 'g'))) out.push({ kind: 'Cluster', name: m[1], namespace, line });
  for (const segment of line.split(/\s*(?:\||&&|;)\s*/)) {
    const words = segment.split(/\s+/).filter((w, i, all) => !(w.startsWith('-') || (i > 0 && /^(?:-n|--namespace|-l|-o|-c|--selector|--type|-p|--for|--timeout|--since|--tail)$/.test(all[i - 1]))));
    const k = words.indexOf('kubectl');
    if (k === -1) continue;
    const [verb, a, b] = words.slice(k + 1);
    if (verb === 'cnpg') {
      // kubectl cnpg status|psql|backup|promote|restart|destroy|report|logs cluster <cluster>
      const [sub, target, extra] = words.slice(k + 2);
      // `logs cluster <c>`, `report cluster <c>`, `hibernate on|off <c>`: the cluster is the third word.
      const name = sub === 'logs' || sub === 'report' || sub === 'hibernate' ? extra : target;
      if (sub && name && new RegExp(`^${NAME}$`).test(name)) out.push({ kind: 'Cluster', name, namespace, line });
      continue;
    }
    if (['get', 'describe', 'delete', 'edit', 'patch', 'annotate', 'label', 'scale', 'logs', 'exec', 'wait'].includes(verb) && a && b && KINDS[a] && !b.includes('/')) {
      out.push({ kind: KINDS[a], name: b, namespace, line });
    }
    if ((verb === 'logs' || verb === 'exec') && a && !a.includes('/') && !KINDS[a] && new RegExp(`^${NAME}$`).test(a)) {
      out.push({ kind: 'Pod', name: a, namespace, line });
    }
  }
  return out;
}

/** How restore-plan names a recovery cluster, before its time stamp (pipeline/restore-plan.ts). */
const recoveryPrefix = (app: string) => `${app}-db-restore-`;

/** Where a name may come from, for objects the synthesis does not write itself. */
function known(env: string, kind: string, name: string): boolean {
  const objects = objectsByEnv.get(env) as K8sObject[];
  const has = (k: string, n: string) => objects.some((o) => o.kind === k && o.metadata?.name === n);
  const cfg = envs.find((e) => e.name === env);
  if (!cfg) return false;
  const data = dataEndpoints(cfg);
  const appSecret = data.postgres?.appSecret;
  const clusters = objects.filter((o) => o.kind === 'Cluster');
  const statefulSets = objects.filter((o) => o.kind === 'StatefulSet');
  // A placeholder stands for a part only the incident knows (a time stamp, a job's suffix): the
  // fixed part before it must be an object's name (or the recovery cluster's, which restore-plan
  // names `<app>-db-restore-<stamp>`) followed by a dash.
  const placeholder = name.search(/[<$]/);
  // Wholly a placeholder (`<pod>`): which one, only the incident says.
  if (placeholder === 0) return true;
  if (placeholder !== -1) {
    const prefix = name.slice(0, placeholder);
    const owners = [...objects.map((o) => `${o.metadata?.name}-`), ...(data.postgres ? [recoveryPrefix(cfg.app.name)] : [])];
    return prefix.endsWith('-') && owners.some((o) => prefix === o || prefix.startsWith(o));
  }
  switch (kind) {
    case 'Pod':
      return statefulSets.some((s) => Array.from({ length: s.spec.replicas ?? 1 }, (_, i) => `${s.metadata.name}-${i}`).includes(name))
        || clusters.some((c) => Array.from({ length: c.spec.instances }, (_, i) => `${c.metadata.name}-${i + 1}`).includes(name));
    case 'PersistentVolumeClaim':
      return has(kind, name)
        || statefulSets.some((s) => (s.spec.volumeClaimTemplates ?? []).some((t: K8sObject) =>
          Array.from({ length: s.spec.replicas ?? 1 }, (_, i) => `${t.metadata.name}-${s.metadata.name}-${i}`).includes(name)))
        || clusters.some((c) => Array.from({ length: c.spec.instances }, (_, i) => [`${c.metadata.name}-${i + 1}`, `${c.metadata.name}-${i + 1}-wal`]).flat().includes(name));
    case 'Deployment':
      // CloudNativePG runs a Pooler as a Deployment of the same name.
      return has(kind, name) || has('Pooler', name);
    case 'Service':
      return has(kind, name) || has('Pooler', name) || clusters.some((c) => ['rw', 'ro', 'r'].map((s) => `${c.metadata.name}-${s}`).includes(name));
    case 'Secret':
      // Written by External Secrets, by cert-manager for a Certificate, by CloudNativePG for the owner.
      return objects.some((o) => (o.kind === 'ExternalSecret' && (o.spec?.target?.name ?? o.metadata.name) === name) || (o.kind === 'Certificate' && o.spec.secretName === name))
        || name === appSecret;
    case 'Job':
      return false; // only placeholders (`<cronjob>-<suffix>`) or jobs the runbook creates, checked below
    default:
      return has(kind, name);
  }
}

/**
 * A command that would change which cluster a Pooler serves: CloudNativePG refuses it (spec.cluster
 * is immutable), so a runbook relying on it fails during the incident.
 */
function patchesPoolerCluster(line: string): boolean {
  const pooler = /kubectl\s.*\b(?:patch|edit|replace|apply|set)\b.*\bpoolers?(?:\.postgresql\.cnpg\.io)?\b/.test(line);
  return pooler && (/\b(?:edit|replace)\b/.test(line) || /"cluster"\s*:|\/spec\/cluster/.test(line));
}

/** A command that turns Argo CD's automated sync off: the switch after a recovery is a commit, with sync left on. */
function turnsOffAutomatedSync(line: string): boolean {
  return /\/spec\/syncPolicy\/automated|"automated"\s*:\s*null|--sync-policy\s+(?:none|manual)/.test(line)
    || (/kubectl\s.*\bpatch\b.*\bapplications?(?:\.argoproj\.io)?\b/.test(line) && /syncPolicy/.test(line));
}

const pages = [...RECOVERY, ...OPERATIONS].map((file) => ({ file, text: existsSync(join(RUNBOOKS, file)) ? readFileSync(join(RUNBOOKS, file), 'utf8') : '' }));

test.each(RECOVERY)('runbooks/%s exists, has a title, a procedure and a way to verify the result', (file) => {
  const text = pages.find((p) => p.file === file)?.text ?? '';
  expect(text).toMatch(/^# \S/);
  expect(text).toMatch(/^## Verify/m);
  expect(commands(text).length).toBeGreaterThan(2);
});

describe.each([...RECOVERY, ...OPERATIONS])('runbooks/%s', (file) => {
  const text = () => pages.find((p) => p.file === file)?.text ?? '';

  test('every object a command names exists in the synthesized output of production', () => {
    const lines = commands(text());
    const created = new Set(lines.flatMap((l) => [...l.matchAll(new RegExp(String.raw`kubectl(?: -n [a-z0-9-]+)? create job (${NAME})`, 'g'))].map((m) => m[1])));
    const refs = lines.flatMap(references).filter((r) => !(r.namespace && PLATFORM_NAMESPACES.has(r.namespace)));
    if (RECOVERY.includes(file as (typeof RECOVERY)[number])) expect(refs.length).toBeGreaterThan(0);
    const unknown = refs.filter((r) => !(r.kind === 'Job' && created.has(r.name)) && !(r.kind === 'Application') && !known('production', r.kind, r.name))
      .map((r) => `${r.kind} ${r.name}: ${r.line}`);
    expect(unknown).toEqual([]);
  });

  test('every label selector matches objects of the output', () => {
    const production = objectsByEnv.get('production') as K8sObject[];
    const labelSets = production.flatMap((o) => [o.metadata?.labels, o.spec?.template?.metadata?.labels, o.spec?.jobTemplate?.spec?.template?.metadata?.labels])
      .filter((l): l is Record<string, string> => l !== undefined);
    const selectors = commands(text()).flatMap((l) => [...l.matchAll(/(?:\s-l|--selector)[ =]'?([^'\s]+)'?/g)].map((m) => m[1]));
    const unmatched = selectors.filter((sel) => {
      // Set by controllers, not by the synthesis: the Job controller, CloudNativePG (its cluster is
      // checked as a reference above), Envoy Gateway on its proxies.
      // Trivy on its reports.
      const terms = sel.split(',').filter((t) => !/^(?:job-name|cnpg\.io\/[A-Za-z]+|gateway\.envoyproxy\.io\/[a-z-]+|trivy-operator\.[a-z.]+)=/.test(t));
      const wanted = terms.filter((t) => !t.includes('!=')).map((t) => t.split('='));
      return wanted.length > 0 && !labelSets.some((labels) => wanted.every(([k, v]) => labels[k] === v));
    });
    expect(unmatched).toEqual([]);
  });

  test('every kubectl command says its namespace, and it is an environment\'s or the platform\'s', () => {
    const kubectl = commands(text()).flatMap((l) => l.split(/\s*(?:\||&&|;|\$\()\s*/)).filter((s) => /^kubectl\s/.test(s));
    const missing = kubectl.filter((s) => !/(?:\s-n[ =]|--namespace[ =]|\s-A\b|--all-namespaces|^kubectl apply -f|^kubectl delete -f|^kubectl config|^kubectl version|^kubectl cnpg version|^kubectl (?:get|describe) (?:nodes?|pv|persistentvolumes?|storageclass(?:es)?|priorityclass(?:es)?|gatewayclass(?:es)?|clustersecretstores?|clusterissuers?)\b)/.test(s));
    expect(missing).toEqual([]);
    const wrong = kubectl.map((s) => /(?:\s-n|--namespace)[ =]([a-z0-9-]+)/.exec(s)?.[1]).filter((ns): ns is string => ns !== undefined)
      .filter((ns) => !namespaces.has(ns) && !PLATFORM_NAMESPACES.has(ns));
    expect(wrong).toEqual([]);
  });

  test('no command changes a Pooler\'s cluster (immutable: a recovered cluster gets its own Pooler) or turns Argo CD\'s automated sync off', () => {
    const lines = commands(text());
    expect(lines.filter(patchesPoolerCluster)).toEqual([]);
    expect(lines.filter(turnsOffAutomatedSync)).toEqual([]);
  });

  test('every npm script, repository file and link it mentions exists', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const npm = [...text().matchAll(/npm run (?:-s |--silent )?([a-z][a-z0-9:-]*)/g)].map((m) => m[1]);
    expect(npm.filter((s) => !(s in scripts))).toEqual([]);
    const paths = [...text().matchAll(/(?:^|[\s`(])((?:charts|environments|runbooks|docs|scripts|bench|test|dist)\/[A-Za-z0-9_./-]*[A-Za-z0-9_])/g)].map((m) => m[1])
      .filter((p) => !p.includes('<'));
    expect(paths.filter((p) => !existsSync(join(REPO, p)))).toEqual([]);
    const links = [...text().matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.filter((l) => !existsSync(resolve(RUNBOOKS, l)))).toEqual([]);
  });
});

describe('each recovery runbook covers every object of its kind', () => {
  const production = objectsByEnv.get('production') as K8sObject[];
  const names = (kind: string) => production.filter((o) => o.kind === kind).map((o) => o.metadata.name as string);
  const mentions = (file: string) => new Set(commands(pages.find((p) => p.file === file)?.text ?? '').flatMap(references).map((r) => `${r.kind}/${r.name}`));

  test('the failed-backup runbook names every backup CronJob and the ScheduledBackup', () => {
    const m = mentions('backup-failed.md');
    // The backups' CronJobs, not the scheduled jobs' (their runbook is ScheduledJobStale.md).
    const backups = production.filter((o) => o.kind === 'CronJob' && o.metadata.labels['app.kubernetes.io/component'] === 'backup').map((o) => o.metadata.name as string);
    expect(backups.length).toBeGreaterThan(0);
    for (const n of backups) expect(m).toContain(`CronJob/${n}`);
    for (const n of names('ScheduledBackup')) expect(m).toContain(`ScheduledBackup/${n}`);
  });

  test('the point-in-time runbook names the cluster it recovers, the Pooler the services leave and the one they move to', () => {
    const file = 'restore-database-point-in-time.md';
    const m = mentions(file);
    expect(names('Cluster').length).toBeGreaterThan(0);
    for (const n of names('Cluster')) expect(m).toContain(`Cluster/${n}`);
    const text = pages.find((p) => p.file === file)?.text ?? '';
    expect(names('Pooler').length).toBeGreaterThan(0);
    for (const n of names('Pooler')) expect(text).toContain(`\`${n}\``);
    expect(text).toContain(`\`${recoveryPrefix(envs[0].app.name)}<yyyymmddhhmm>-pooler\``);
    // The switch is a commit of the configuration, which restore-plan prints.
    expect(text).toMatch(/```ts\ndata: \{\n\s+postgres: \{\n\s+name: '[^']+',\n\s+recovery: \{ source: '[^']+', targetTime: '[^']+' \},\n/);
    expect(text).toMatch(/Automated sync stays on/);
    // The adoption prunes the old cluster's NetworkPolicy, and Prune=false keeps the Cluster: left
    // running under default deny it would restart in a loop, so the runbook hibernates it (and the
    // way back hibernates the recovered one).
    for (const n of names('Cluster')) expect(text).toContain(`kubectl cnpg hibernate on ${n} -n`);
    expect(text).toContain(`kubectl cnpg hibernate on ${recoveryPrefix(envs[0].app.name)}<yyyymmddhhmm> -n`);
    expect(text).toMatch(/resourceTrackingMethod: annotation/);
  });

  test('the Redis runbook names the StatefulSet and every one of its pods', () => {
    const m = mentions('redis-node-loss.md');
    const sets = production.filter((o) => o.kind === 'StatefulSet' && o.metadata.name === dataEndpoints(envs[0]).redis?.name);
    expect(sets).toHaveLength(1);
    expect(m).toContain(`StatefulSet/${sets[0].metadata.name}`);
    for (let i = 0; i < sets[0].spec.replicas; i++) expect(m).toContain(`Pod/${sets[0].metadata.name}-${i}`);
  });

  test('the uploaded-files runbook names the volume it restores into', () => {
    const claim = dataEndpoints(envs[0]).uploads?.claim;
    expect(claim).toBeDefined();
    expect(mentions('restore-uploaded-files.md')).toContain(`PersistentVolumeClaim/${claim}`);
  });
});

test('restore-plan points at the point-in-time runbook, and the docs link every recovery runbook', () => {
  expect(readFileSync(join(REPO, 'pipeline/restore-plan.ts'), 'utf8')).toContain("'runbooks/restore-database-point-in-time.md'");
  const doc = readFileSync(join(REPO, 'docs/disaster-recovery.md'), 'utf8');
  for (const file of RECOVERY) expect(doc).toContain(`](../runbooks/${file})`);
  const links = [...doc.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
  expect(links.filter((l) => !existsSync(resolve(join(REPO, 'docs'), l)))).toEqual([]);
});

test('the reference parser finds what the runbooks write', () => {
  // The checks above are only as good as this parser: pin what it reads.
  expect(references('kubectl -n student-portal create job backup-database-manual-1 --from=cronjob/backup-database')).toEqual([
    { kind: 'CronJob', name: 'backup-database', namespace: 'student-portal', line: expect.any(String) },
  ]);
  expect(references('kubectl cnpg status student-portal-db -n student-portal').map((r) => `${r.kind}/${r.name}`)).toEqual(['Cluster/student-portal-db']);
  expect(references('kubectl -n student-portal logs student-portal-redis-0 -c redis').map((r) => `${r.kind}/${r.name}`)).toEqual(['Pod/student-portal-redis-0']);
  expect(references('kubectl -n student-portal get pvc data-student-portal-redis-1').map((r) => `${r.kind}/${r.name}`)).toEqual(['PersistentVolumeClaim/data-student-portal-redis-1']);
  expect(known('production', 'Cluster', 'no-such-cluster')).toBe(false);
  expect(known('production', 'Cluster', `${recoveryPrefix(envs[0].app.name)}<yyyymmddhhmm>`)).toBe(true);
  expect(known('production', 'Cluster', 'student-portal-db-restore')).toBe(false);
  expect(patchesPoolerCluster('kubectl -n student-portal patch pooler student-portal-db-pooler --type merge -p \'{"spec":{"cluster":{"name":"x"}}}\'')).toBe(true);
  expect(patchesPoolerCluster('kubectl -n student-portal patch poolers.postgresql.cnpg.io/student-portal-db-pooler --type json -p \'[{"op":"replace","path":"/spec/cluster/name","value":"x"}]\''))
    .toBe(true);
  expect(patchesPoolerCluster('kubectl -n student-portal edit pooler student-portal-db-pooler')).toBe(true);
  expect(patchesPoolerCluster('kubectl -n student-portal get pooler student-portal-db-pooler')).toBe(false);
  expect(turnsOffAutomatedSync('kubectl -n argocd patch application "$APP" --type json -p \'[{"op":"remove","path":"/spec/syncPolicy/automated"}]\'')).toBe(true);
  expect(turnsOffAutomatedSync('argocd app set student-portal-production --sync-policy none')).toBe(true);
  expect(turnsOffAutomatedSync('kubectl -n argocd get applications')).toBe(false);
  expect(known('production', 'CronJob', 'no-such-<suffix>')).toBe(false);
});
