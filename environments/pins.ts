/**
 * Image pin files (environments/images/<env>.yaml): read, checked against the services, workers and
 * scheduled jobs the environment defines (and the services' migrations that run an image of their own), and
 * production's digest rule applied, each problem naming the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isPlainObject } from './define';
import { check, fromIssue } from './messages';
import { DIGEST_REQUIRED, type Problem } from './rules';
import { ImageSchema } from './schema';

/** The sections of a pin file that pin a workload's image, each by the key of its configuration section. */
export const WORKLOAD_SECTIONS = ['services', 'workers', 'jobs'] as const;
export type WorkloadSection = (typeof WORKLOAD_SECTIONS)[number];

/** What a pin of each section is for, in messages. */
const SECTION_NOUN: Record<WorkloadSection, string> = { services: 'service', workers: 'worker', jobs: 'scheduled job' };

const PinsSchema = z.strictObject({
  services: z.record(z.string(), ImageSchema),
  /** Workers' images (workers.<name>), present when the environment has workers. */
  workers: z.record(z.string(), ImageSchema).optional(),
  /** Scheduled jobs' images (jobs.<name>), for the jobs that do not run a service's or a worker's (imageOf). */
  jobs: z.record(z.string(), ImageSchema).optional(),
  /** Dedicated images of services' migrations (services.<name>.migration.image), by service. */
  migrations: z.record(z.string(), ImageSchema).optional(),
});

/** A section's names, ones whose pin has a problem already reported ('all': the file is unusable). */
type Broken = Set<string> | 'all';

export interface Pins {
  /** Raw pin of each workload, by section and name, as the file has it (validated separately). */
  readonly images: Record<WorkloadSection, Record<string, unknown>>;
  /** Workloads whose pin has a problem already reported against the pin file, by section. */
  readonly broken: Record<WorkloadSection, Broken>;
  /** Raw pin of each migration that has an image of its own, by service. */
  readonly migrationImages: Record<string, unknown>;
  /** Services whose migration pin has a problem already reported ('all': the file is unusable). */
  readonly brokenMigrations: Broken;
  readonly problems: Problem[];
}

/** The workloads an environment defines, by section (undefined: unknown, the configuration is unreadable there). */
export type DefinedWorkloads = Partial<Record<WorkloadSection, readonly string[]>>;

/**
 * Read and check a pin file against the workloads the environment defines. `needsPin` says which
 * names may have one (an invalid name is the schema's to report); `borrowing` names the scheduled
 * jobs that run another workload's image (imageOf), by that workload. Production's digest rule is
 * checked here too, so it is reported even when another field of the same pin is wrong.
 */
export function readPins(
  file: string, root: string, production: boolean, defined: DefinedWorkloads, needsPin: (name: string) => boolean,
  migrating?: readonly string[], borrowing: Readonly<Record<string, string>> = {},
): Pins {
  const none = () => Object.fromEntries(WORKLOAD_SECTIONS.map((k) => [k, {}])) as Record<WorkloadSection, Record<string, unknown>>;
  const unusable = (message: string): Pins => ({
    images: none(), broken: Object.fromEntries(WORKLOAD_SECTIONS.map((k) => [k, 'all'])) as Record<WorkloadSection, Broken>,
    migrationImages: {}, brokenMigrations: 'all', problems: [{ path: file, message }],
  });
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch (e) {
    return unusable((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    return unusable(`is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return unusable('is empty: it must map services.<name> to { repository, tag, digest }');
  const { issues } = check(PinsSchema, raw);
  const problems: Problem[] = [];
  const brokenPins = Object.fromEntries(WORKLOAD_SECTIONS.map((k) => [k, new Set<string>()])) as Record<WorkloadSection, Set<string>>;
  const brokenMigrationPins = new Set<string>();
  let fileBroken = false;
  for (const issue of issues) {
    for (const p of fromIssue(issue, PinsSchema)) problems.push({ path: p.path ? `${file}: ${p.path}` : file, message: p.message });
    const section = WORKLOAD_SECTIONS.find((k) => k === issue.path[0]);
    if (section && issue.path.length >= 2) brokenPins[section].add(String(issue.path[1]));
    else if (issue.path[0] === 'migrations' && issue.path.length >= 2) brokenMigrationPins.add(String(issue.path[1]));
    else if (issue.code !== 'unrecognized_keys') fileBroken = true;
  }
  const images = none();
  for (const section of WORKLOAD_SECTIONS) {
    const pins = isPlainObject(raw) ? raw[section] : undefined;
    if (isPlainObject(pins)) images[section] = pins;
  }
  const migrationImages = isPlainObject(raw) && isPlainObject(raw.migrations) ? raw.migrations : {};
  if (production) {
    const sections = [...WORKLOAD_SECTIONS.map((k) => [k, images[k], brokenPins[k]] as const), ['migrations', migrationImages, brokenMigrationPins] as const];
    for (const [section, pins, brokenSet] of sections) {
      for (const [name, pin] of Object.entries(pins)) {
        if (isPlainObject(pin) && pin.digest === undefined) {
          problems.push({ path: `${file}: ${section}.${name}.digest`, message: DIGEST_REQUIRED });
          brokenSet.add(name);
        }
      }
    }
  }
  if (!fileBroken) {
    for (const section of WORKLOAD_SECTIONS) {
      const names = defined[section];
      if (!names) continue;
      const noun = SECTION_NOUN[section];
      for (const name of names) {
        if (!Object.hasOwn(images[section], name) && needsPin(name)) {
          problems.push({ path: `${file}: ${section}.${name}`, message: `is required: every ${noun} of the environment needs an image pin` });
          brokenPins[section].add(name);
        }
      }
      for (const name of Object.keys(images[section])) {
        if (names.includes(name)) continue;
        const of = section === 'jobs' ? borrowing[name] : undefined;
        problems.push({
          path: `${file}: ${section}.${name}`,
          message: of === undefined
            ? `pins an image for a ${noun} this environment does not have`
            : `pins an image, but jobs.${name} runs ${of}'s (imageOf): remove the pin or imageOf`,
        });
      }
    }
  }
  const services = defined.services;
  if (services && migrating && !fileBroken) {
    // A pin nothing runs would look like the image in use: refuse it rather than ignore it.
    for (const name of Object.keys(migrationImages)) {
      if (!services.includes(name)) problems.push({ path: `${file}: migrations.${name}`, message: 'pins a migration image for a service this environment does not have' });
      else if (!migrating.includes(name)) problems.push({ path: `${file}: migrations.${name}`, message: `pins a migration image, but services.${name} has no migration` });
    }
  }
  return {
    images,
    broken: Object.fromEntries(WORKLOAD_SECTIONS.map((k) => [k, fileBroken ? 'all' : brokenPins[k]])) as Record<WorkloadSection, Broken>,
    migrationImages,
    brokenMigrations: fileBroken ? 'all' : brokenMigrationPins,
    problems,
  };
}
