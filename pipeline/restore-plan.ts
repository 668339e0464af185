/**
 * What `npm run restore-plan -- --env production --to 2026-11-22T03:15:00Z` does (its command line is
 * scripts/restore-plan.ts): the objects of a
 * point-in-time recovery, synthesized for review and written to restore/<env>-<stamp>.yaml. Never
 * touches dist/: a recovery is an incident action applied with kubectl, not a change to what Argo
 * CD syncs. Procedure: runbooks/restore-database-point-in-time.md.
 *
 * The plan is what the environment will have once it adopts the recovered cluster (data.postgres
 * name and recovery; environments/model/names.ts) and does not have today, made by the same code
 * as npm run synth:
 *   Cluster <app>-db-restore-<yyyymmddhhmm>   bootstrapped from the object store (base backup + WAL of
 *       server name --source, default the cluster serving today) up to --to, then archiving to its
 *       own, new server name (= its name): the old archive path stays as it was, for another attempt
 *   PodMonitor <restore>                      its metrics
 *   NetworkPolicy <restore>                   its pods' flows (under the default deny, recovery cannot
 *                                             even reach the object store without it)
 *   Pooler <restore>-pooler, its PodDisruptionBudget, PodMonitor and NetworkPolicy: a Pooler's
 *       cluster cannot change, so the switch is to another Pooler, by the adopting commit
 *   ScheduledBackup <restore>                 base backups of the new server name
 * Applied with kubectl now, they are already what git will say after the adoption: Argo CD then
 * adopts them unchanged, moves the services to the new Pooler and prunes the old one.
 *
 * Every object goes through the gate synthesis uses (strict schema, then the policy rules over the
 * environment's objects plus these). Bad input: one line, exit 1, no stack trace, nothing written.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mergeConfig, type EnvironmentDefinition } from '../environments/define';
import { environments } from '../environments/index';
import { ConfigError, resolveEnvironment, resolveEnvironments } from '../environments/load';
import { dataEndpoints, type PostgresEndpoints } from '../environments/model/names';
import type { Environment } from '../environments/schema';
import { parseRfc3339 } from '../environments/time';
import { ref, type K8sObject } from './k8s-object';
import { policyProblems, renderObject, schemaProblems, synthObjects } from './synth';

const RUNBOOK = 'runbooks/restore-database-point-in-time.md';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Bad input: the message is the whole story, no stack trace. */
class UsageError extends Error {}

const USAGE = 'usage: npm run restore-plan -- --env <environment> --to <RFC 3339 time> [--source <server name>] [--out <file>]';

const HELP = `${USAGE}

Plans a point-in-time recovery of an environment's PostgreSQL: a new CloudNativePG Cluster
recovered from the archive up to --to, with its Pooler, monitors, budget, NetworkPolicies and base
backups, checked like everything npm run synth writes, written to restore/ for review (never
dist/). It prints what to review, what to apply and the configuration that adopts the recovered
cluster. Runbook: runbooks/restore-database-point-in-time.md

  --env <name>        the environment (staging, production, …)
  --to <time>         the last moment to keep, RFC 3339 with a zone (2026-11-22T03:15:00Z)
  --source <server>   the archive to read (default: the cluster the environment runs)
  --out <file>        where to write the plan (default: restore/<env>-<time>.yaml)
  -h, --help          this text
`;

interface Options {
  readonly help?: boolean;
  readonly env: string;
  readonly to: string;
  readonly source?: string;
  readonly out?: string;
}

function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        env: { type: 'string' }, to: { type: 'string' }, source: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const option = /'([^']*)'/.exec((e as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}\n${USAGE}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${option?.split(' ')[0] ?? 'an option'} needs a value\n${USAGE}`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument ${option}\n${USAGE}`);
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (parsed.values.help) return { help: true, env: '', to: '' };
  // parseArgs keeps the last of a repeated option: two --to must not silently become one.
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once: give it once\n${USAGE}`);
    seen.add(t.name);
  }
  const { env, to, source, out } = parsed.values;
  const names = environments.map((d) => d.name).join(', ');
  if (env === undefined) throw new UsageError(`--env is required: one of ${names}\n${USAGE}`);
  if (!environments.some((d) => d.name === env)) throw new UsageError(`unknown environment "${env}": one of ${names}`);
  if (to === undefined) throw new UsageError(`--to is required: the moment to recover to, in RFC 3339 (for example 2026-11-22T03:15:00Z)\n${USAGE}`);
  if (source !== undefined && !DNS_LABEL.test(source)) {
    throw new UsageError(`--source "${source}" is not a server name: the name of the cluster whose archive to read (lowercase letters, digits and '-')`);
  }
  return { env, to, source, out };
}

/** Oldest moment the retention policy (Barman recovery window: 30d, 4w, 3m) keeps recoverable. */
function retentionStart(policy: string, now: Date): Date {
  const m = /^([1-9][0-9]*)([dwm])$/.exec(policy);
  if (!m) throw new Error(`unexpected retention policy ${policy}`);
  const n = Number(m[1]);
  const start = new Date(now);
  if (m[2] === 'm') start.setUTCMonth(start.getUTCMonth() - n);
  else start.setUTCDate(start.getUTCDate() - n * (m[2] === 'w' ? 7 : 1));
  return start;
}

/** `30d` → `30 days`. */
function describeRetention(policy: string): string {
  const n = Number(policy.slice(0, -1));
  const unit = { d: 'day', w: 'week', m: 'month' }[policy.slice(-1)] ?? policy.slice(-1);
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** `202611220315`: the target minute in UTC, for names. */
function stamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

/** To the second, for messages. */
const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
/** The instant in UTC as precisely as given (milliseconds only when there are any). */
const utc = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');

interface RestorePlan {
  /** The recovered cluster's name (and archive path). */
  readonly name: string;
  readonly sourceServerName: string;
  /** What the environment says once it adopts the recovered cluster: `data.postgres`'s name and recovery. */
  readonly adoption: { readonly name: string; readonly recovery: { readonly source: string; readonly targetTime: string } };
  readonly objects: K8sObject[];
}

const objectKey = (o: K8sObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/**
 * The plan: the environment as it will be once it adopts the recovered cluster, synthesized by the
 * same code as npm run synth, less what the environment has today. So the objects applied now are
 * exactly those the adopting commit later puts in git, and Argo CD finds nothing to change.
 */
function buildPlan(
  def: EnvironmentDefinition, env: Environment, postgres: PostgresEndpoints, existing: readonly K8sObject[],
  targetTime: string, target: Date, root: string, source?: string,
): RestorePlan {
  const name = `${env.app.name}-db-restore-${stamp(target)}`;
  if (!DNS_LABEL.test(name)) throw new UsageError(`the recovery cluster's name ${name} is longer than 63 characters: shorten app.name`);
  const sourceServerName = source ?? postgres.cluster;
  // A name taken already would make a plan without the objects of that name (they exist today), or
  // a cluster archiving where it reads from: refuse, as the minute of --to is all that names it.
  for (const [taken, what] of [[postgres.cluster, `the cluster serving ${env.name} today (data.postgres.name)`], [sourceServerName, 'the archive it reads (--source)']]) {
    if (name === taken) {
      throw new UsageError(`--to ${targetTime} names the recovery cluster ${name}, the name of ${what}: a recovery needs a new name and archive path; pick a --to in another minute`);
    }
  }
  const adoption = { name, recovery: { source: sourceServerName, targetTime } };
  const adopted = resolveEnvironment({ ...def, config: mergeConfig(def.config, { data: { postgres: adoption } }) }, root);
  const today = new Set(existing.map(objectKey));
  const objects = synthObjects(adopted).map((o) => o.object).filter((o) => !today.has(objectKey(o)));
  return { name, sourceServerName, adoption, objects };
}

function header(env: Environment, postgres: PostgresEndpoints, plan: RestorePlan, targetTime: string, target: Date, generatedAt: Date): string {
  return [
    `# Point-in-time recovery plan for ${env.name}, written by npm run restore-plan at ${iso(generatedAt)}.`,
    '# Not synced by Argo CD: review it, then apply it with kubectl as the runbook says',
    `# (${RUNBOOK}).`,
    `#   recover:  ${postgres.database} of server name ${plan.sourceServerName} (ObjectStore ${postgres.objectStore}, ${postgres.barmanDestinationPath}/${plan.sourceServerName})`,
    `#   to:       ${targetTime}${utc(target) === targetTime ? '' : ` (${utc(target)})`}, the last transaction committed at or before it`,
    `#   into:     Cluster ${env.app.namespace}/${plan.name}, which archives to the new server name ${plan.name}`,
    '',
  ].join('\n');
}

async function planCommand(argv: readonly string[], context: RestorePlanContext): Promise<CommandOutput> {
  const { root, invocationDir } = context;
  const options = parseOptions(argv);
  if (options.help) return { status: 0, stdout: HELP, stderr: '' };
  const target = parseRfc3339(options.to);
  if (!target) {
    throw new UsageError(`--to "${options.to}" is not an RFC 3339 time with a time zone, such as 2026-11-22T03:15:00Z or 2026-11-22T04:15:00+01:00`);
  }
  const now = context.now ?? new Date();
  if (target.getTime() > now.getTime()) {
    throw new UsageError(`--to ${options.to} is in the future: recovery can only replay what has been archived`);
  }
  const env = resolveEnvironments(environments, root).find((e) => e.name === options.env) as Environment;
  const pg = env.data.postgres;
  const postgres = dataEndpoints(env).postgres;
  if (!pg || !postgres) throw new UsageError(`${env.name} has no PostgreSQL (data.postgres): there is nothing to recover`);
  if (target.getTime() < retentionStart(pg.retentionPolicy, now).getTime()) {
    throw new UsageError(`--to ${options.to} is older than the retention window of ${env.name} (data.postgres.retentionPolicy ${pg.retentionPolicy}): `
      + `base backups and WAL older than ${describeRetention(pg.retentionPolicy)} are not kept`);
  }

  const out = options.out ? resolve(invocationDir, options.out) : join(root, 'restore', `${env.name}-${stamp(target)}.yaml`);
  const shown = relative(invocationDir, out) || out;
  if (!relative(join(root, 'dist'), out).startsWith('..')) {
    throw new UsageError(`--out ${options.out} is inside dist/, which only npm run synth writes`);
  }
  if (existsSync(out)) throw new UsageError(`${shown} already exists: review or remove it, or give --out`);

  const environmentObjects = synthObjects(env).map((o) => o.object);
  const definition = environments.find((d) => d.name === env.name) as EnvironmentDefinition;
  const plan = buildPlan(definition, env, postgres, environmentObjects, options.to, target, root, options.source);
  // Schema for the new objects; the policy rules over the environment plus the plan, so that
  // rules across objects (network policy coverage, references) judge the plan in its context.
  const problems = [...await schemaProblems(env, plan.objects), ...policyProblems(env, [...environmentObjects, ...plan.objects])];
  if (problems.length > 0) return { status: 1, stdout: '', stderr: problemList(problems) };

  const body = plan.objects.map((o) => renderObject(env, o).replace(/^# Generated by shipshape[^\n]*\n/, '')).join('---\n');
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(tmp, header(env, postgres, plan, options.to, target, now) + body);
    renameSync(tmp, out);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was written there either.
    }
    const err = e as NodeJS.ErrnoException;
    if (!err.code) throw e;
    throw new UsageError(`--out ${shown} cannot be written (${err.code}: ${err.message.replace(/^[A-Z]+: /, '').split(',')[0]}): give --out a writable place`);
  }

  const ns = env.app.namespace;
  const lines = [
    `restore-plan: wrote ${shown} (${plan.objects.length} objects, checked like npm run synth's):`,
    ...plan.objects.map((o) => `  ${ref(o)}`),
    '',
    'Review before applying:',
    `  - spec.bootstrap.recovery.recoveryTarget.targetTime is ${options.to}${utc(target) === options.to ? '' : ` (${utc(target)})`}: just before the damage, not after it`,
    `  - externalClusters[0] reads server name ${plan.sourceServerName}; the new cluster archives to ${plan.name} (spec.plugins[0].parameters.serverName)`,
    `  - a base backup of ${plan.sourceServerName} older than the target exists: kubectl -n ${ns} get backups.postgresql.cnpg.io`,
    ...(now.getTime() - target.getTime() < pg.archiveTimeoutSeconds * 1000
      ? [`  - the target is less than archive_timeout (${pg.archiveTimeoutSeconds}s) ago: WAL after it may not be archived yet, and recovery fails if no commit after the target is archived`]
      : []),
    '',
    `Next (${RUNBOOK}):`,
    `  kubectl apply -f ${shown} -l 'app.kubernetes.io/component!=backup'`,
    `  kubectl -n ${ns} get cluster ${plan.name} -w`,
    `  kubectl cnpg psql ${plan.name} -n ${ns} -- -d ${postgres.database}   # check the data`,
    `  kubectl apply -f ${shown} -l 'app.kubernetes.io/component=backup'   # base backups of the new archive path`,
    `Then switch the application by adopting the recovered cluster in environments/${env.name}.ts, under data.postgres:`,
    `  name: '${plan.adoption.name}',`,
    `  recovery: { source: '${plan.adoption.recovery.source}', targetTime: '${plan.adoption.recovery.targetTime}' },`,
    `and npm run synth, review the diff (the services move to ${plan.name}-pooler), commit and push.`,
    `Runbook: ${RUNBOOK}`,
    '',
  ];
  return { status: 0, stdout: lines.join('\n'), stderr: '' };
}

/** What the command prints and its exit status. */
export interface CommandOutput {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RestorePlanContext {
  /** The repository: where restore/ and dist/ are and the environments resolve their files. */
  readonly root: string;
  /** Where the command was run from (npm's INIT_CWD): a relative --out is taken from here. */
  readonly invocationDir: string;
  /**
   * The present, against which --to is judged (future, retention window).
   * @default the current time
   */
  readonly now?: Date;
}

const problemList = (problems: readonly string[]) =>
  `restore-plan: nothing was written; fix these ${problems.length} problem(s):\n${problems.map((p) => `  ${p}\n`).join('')}`;

/**
 * `npm run restore-plan` with these arguments: bad input and a plan the gate refuses are exit 1
 * with the message (nothing written); anything else thrown is a bug for the caller to report.
 */
export async function restorePlanCommand(argv: readonly string[], context: RestorePlanContext): Promise<CommandOutput> {
  try {
    return await planCommand(argv, context);
  } catch (e) {
    if (e instanceof UsageError) return { status: 1, stdout: '', stderr: `restore-plan: ${e.message}\n` };
    if (e instanceof ConfigError) return { status: 1, stdout: '', stderr: problemList(e.problems) };
    throw e;
  }
}
