/**
 * From what an environment file says to a validated Environment: the merged configuration
 * (define.ts), the image pins (pins.ts), then every check, reporting every problem of every
 * environment at once, each naming the environment and the field (messages.ts).
 */
import { isPlainObject, mergeConfig, type EnvironmentDefinition } from './define';
import { ExtensionSchema, type ResolvedExtension } from './extension';
import { check, fromIssue, line } from './messages';
import { readPins, WORKLOAD_SECTIONS, type WorkloadSection } from './pins';
import { crossFieldProblems, type Problem } from './rules';
import { EnvironmentSchema, ServiceNameSchema, type Environment } from './schema';

/** Raised for input that cannot be built; `problems` are complete, user-facing lines. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Validate one environment. Returns the Environment, or throws ConfigError listing every problem
 * as `<env>: <path> <message>`.
 */
export function resolveEnvironment(def: EnvironmentDefinition, root: string): Environment {
  const config: unknown = def.config;
  const section = (key: WorkloadSection) => (isPlainObject(config) && isPlainObject(config[key]) ? config[key] : undefined);
  const services = section('services');
  const production = isPlainObject(config) && config.production === true;
  // A service whose name is invalid is reported by the schema; asking for its pin would only add noise.
  const migrating = services ? Object.keys(services).filter((name) => isPlainObject(services[name]) && isPlainObject(services[name].migration)) : [];
  // A job that runs another workload's image (`imageOf`) has no pin of its own.
  const imageOf = (w: unknown) => (isPlainObject(w) && typeof w.imageOf === 'string' ? w.imageOf : undefined);
  const defined = Object.fromEntries(WORKLOAD_SECTIONS.flatMap((key) => {
    const workloads = section(key);
    // Workers and jobs are optional: an environment without them has no pins to check either way.
    const pinned = workloads ? Object.keys(workloads).filter((name) => imageOf(workloads[name]) === undefined) : undefined;
    return pinned ? [[key, pinned]] : key === 'services' ? [] : [[key, []]];
  }));
  const jobs = section('jobs') ?? {};
  const borrowing = Object.fromEntries(Object.entries(jobs).flatMap(([name, j]) => (imageOf(j) === undefined ? [] : [[name, imageOf(j) as string]])));
  const pins = readPins(def.imagePinsFile, root, production, defined, (name) => ServiceNameSchema.safeParse(name).success, migrating, borrowing);
  const problems: Problem[] = [...pins.problems];
  let input = config;
  /** Jobs whose `imageOf` gives them no image, already reported. */
  const imageless = new Set<string>();
  for (const key of WORKLOAD_SECTIONS) {
    const workloads = section(key);
    if (!workloads) continue;
    const images: Record<string, unknown> = {};
    for (const [name, w] of Object.entries(workloads)) {
      if (isPlainObject(w) && w.image !== undefined) {
        problems.push({ path: `${key}.${name}.image`, message: `is set here, but images come only from ${def.imagePinsFile}` });
      }
      if (key === 'services' && isPlainObject(w) && isPlainObject(w.migration) && w.migration.image !== undefined) {
        problems.push({ path: `services.${name}.migration.image`, message: `is set here, but images come only from ${def.imagePinsFile} (migrations.${name})` });
      }
      const pinned: Record<string, unknown> = {};
      const of = imageOf(w);
      // The image of the service or worker named (a name of neither is the rules' to report).
      const shared = of === undefined ? undefined : [pins.images.services, pins.images.workers].find((p) => Object.hasOwn(p, of))?.[of];
      if (of !== undefined) {
        if (shared !== undefined) pinned.image = shared;
        // Without the image the schema would only say it is missing: say why, once (a workload
        // whose own pin is missing or broken has been reported against the pin file).
        else imageless.add(`${key}.${name}`);
        const workloads = ['services', 'workers'].map((k) => section(k as WorkloadSection));
        if (!workloads.some((w) => w && Object.hasOwn(w, of))) {
          problems.push({ path: `${key}.${name}.imageOf`, message: `("${of}") is not a service or a worker of this environment` });
        }
      } else if (Object.hasOwn(pins.images[key], name)) pinned.image = pins.images[key][name];
      if (key === 'services' && migrating.includes(name) && Object.hasOwn(pins.migrationImages, name)) pinned.migration = { image: pins.migrationImages[name] };
      if (Object.keys(pinned).length > 0) images[name] = pinned;
    }
    input = mergeConfig(input, { [key]: images });
  }
  const { data, issues } = check(EnvironmentSchema, input);
  // A pin the pin file's own check already reported would be reported again here, less precisely.
  const brokenPin = (key: PropertyKey, name: PropertyKey) => {
    const broken = pins.broken[key as WorkloadSection];
    return broken !== undefined && (broken === 'all' || broken.has(String(name)));
  };
  const reportedInPins = (path: readonly PropertyKey[]) =>
    (path[2] === 'image' && (brokenPin(path[0], path[1]) || imageless.has(`${String(path[0])}.${String(path[1])}`)))
    || (path[0] === 'services' && path[2] === 'migration' && path[3] === 'image'
      && (pins.brokenMigrations === 'all' || pins.brokenMigrations.has(String(path[1]))));
  problems.push(...issues.filter((i) => !reportedInPins(i.path)).flatMap((i) => fromIssue(i, EnvironmentSchema)));
  // The extensions: code, checked beside the configuration (environments/extension.ts).
  const extensions: ResolvedExtension[] = [];
  for (const [i, raw] of (def.extensions ?? []).entries()) {
    const checked = check(ExtensionSchema, raw);
    const at = `extensions[${i}]${isPlainObject(raw) && typeof raw.name === 'string' ? ` (${raw.name})` : ''}`;
    for (const issue of checked.issues) {
      for (const p of fromIssue(issue, ExtensionSchema)) problems.push({ path: p.path ? `${at}.${p.path}` : at, message: p.message });
    }
    if (checked.data) extensions.push(checked.data as ResolvedExtension);
  }
  const env = data ? { ...(data as Omit<Environment, 'extensions'>), extensions } as Environment : undefined;
  if (env) {
    problems.push(...crossFieldProblems(env, { imagePinsFile: def.imagePinsFile }));
    if (def.name !== env.name) {
      problems.push({ path: 'name', message: `("${env.name}") differs from the environment's file name (${def.name})` });
    }
  }
  if (problems.length > 0 || !env) {
    // The pin check and the cross-field rules both know production's digest rule: say it once.
    throw new ConfigError([...new Set(problems.map((p) => line(def.name, p)))]);
  }
  return env;
}

/** Rules across environments: they share a cluster, so they must not share names in it. */
function crossEnvironmentProblems(envs: readonly Environment[]): string[] {
  const out: string[] = [];
  const namespaces = new Map<string, string>();
  const hosts = new Map<string, string>();
  const buckets = new Map<string, string>();
  const prefixes = new Map<string, string>();
  for (const env of envs) {
    const ns = namespaces.get(env.app.namespace);
    if (ns !== undefined) out.push(`${env.name}: app.namespace ("${env.app.namespace}") is also the namespace of ${ns}: each environment needs its own`);
    else namespaces.set(env.app.namespace, env.name);
    for (const [i, h] of env.hosts.entries()) {
      const other = hosts.get(h.hostname);
      if (other !== undefined && other !== env.name) out.push(`${env.name}: hosts[${i}].hostname ("${h.hostname}") is also a host of ${other}`);
      else hosts.set(h.hostname, env.name);
    }
    // One bucket, one environment: the WAL archive, base backups and restic repositories live at
    // fixed paths in it (the cluster's server name, restic/<kind>), so two environments sharing a
    // bucket would write into each other's archive; and one secret-manager prefix each.
    if (env.objectStorage) {
      const key = `${env.objectStorage.endpointURL.replace(/\/$/, '')} ${env.objectStorage.bucket}`;
      const other = buckets.get(key);
      if (other !== undefined) {
        out.push(`${env.name}: objectStorage.bucket ("${env.objectStorage.bucket}" at ${env.objectStorage.endpointURL}) is also the bucket of ${other}: `
          + 'their WAL archives and backup repositories would be the same paths; each environment needs its own');
      } else buckets.set(key, env.name);
    }
    if (env.externalSecrets) {
      // The same prefix in another secret store is another entry.
      const key = `${env.externalSecrets.storeKind}/${env.externalSecrets.store} ${env.externalSecrets.keyPrefix}`;
      const other = prefixes.get(key);
      if (other !== undefined) {
        out.push(`${env.name}: externalSecrets.keyPrefix ("${env.externalSecrets.keyPrefix}") is also the prefix of ${other} in the same store: they would share credentials; each environment needs its own`);
      } else prefixes.set(key, env.name);
    }
  }
  return out;
}

/** Validate every environment, collecting the problems of all of them before failing. */
export function resolveEnvironments(defs: readonly EnvironmentDefinition[], root: string): Environment[] {
  const problems: string[] = [];
  const envs: Environment[] = [];
  const names = new Set<string>();
  for (const [i, def] of defs.entries()) {
    // What index.ts imports from a file that exports nothing, or something else.
    const d: unknown = def;
    if (!isPlainObject(d) || typeof d.name !== 'string' || !isPlainObject(d.config) || typeof d.imagePinsFile !== 'string') {
      problems.push(`environments/index.ts: environments[${i}] is not an environment (${d === undefined ? 'undefined' : JSON.stringify(d)?.slice(0, 60) ?? typeof d}): `
        + 'each entry must be what its file exports from defineEnvironment({ name, … })');
      continue;
    }
    if (names.has(def.name)) problems.push(`${def.name}: name is used by two environments`);
    names.add(def.name);
    try {
      envs.push(resolveEnvironment(def, root));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  problems.push(...crossEnvironmentProblems(envs));
  if (problems.length > 0) throw new ConfigError(problems);
  return envs;
}
