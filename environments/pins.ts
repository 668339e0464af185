/**
 * Image pin files (environments/images/<env>.yaml): read, checked against the services the
 * environment defines (and their migrations that run an image of their own), and production's
 * digest rule applied, each problem naming the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isPlainObject } from './define';
import { check, fromIssue } from './messages';
import { DIGEST_REQUIRED, type Problem } from './rules';
import { ImageSchema } from './schema';

const PinsSchema = z.strictObject({
  services: z.record(z.string(), ImageSchema),
  /** Dedicated images of services' migrations (services.<name>.migration.image), by service. */
  migrations: z.record(z.string(), ImageSchema).optional(),
});

export interface Pins {
  /** Raw pin of each service, as the file has it (validated separately). */
  readonly images: Record<string, unknown>;
  /** Services whose pin has a problem already reported against the pin file ('all': the file is unusable). */
  readonly broken: Set<string> | 'all';
  /** Raw pin of each migration that has an image of its own, by service. */
  readonly migrationImages: Record<string, unknown>;
  /** Services whose migration pin has a problem already reported ('all': the file is unusable). */
  readonly brokenMigrations: Set<string> | 'all';
  readonly problems: Problem[];
}

/**
 * Read and check a pin file against the services the environment defines (undefined: unknown).
 * Production's digest rule is checked here too, so it is reported even when another field of the
 * same pin is wrong.
 */
export function readPins(
  file: string, root: string, production: boolean, services: readonly string[] | undefined, needsPin: (name: string) => boolean,
  migrating?: readonly string[],
): Pins {
  const unusable = (message: string): Pins => ({ images: {}, broken: 'all', migrationImages: {}, brokenMigrations: 'all', problems: [{ path: file, message }] });
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
  const brokenPins = new Set<string>();
  const brokenMigrationPins = new Set<string>();
  let fileBroken = false;
  for (const issue of issues) {
    for (const p of fromIssue(issue, PinsSchema)) problems.push({ path: p.path ? `${file}: ${p.path}` : file, message: p.message });
    if (issue.path[0] === 'services' && issue.path.length >= 2) brokenPins.add(String(issue.path[1]));
    else if (issue.path[0] === 'migrations' && issue.path.length >= 2) brokenMigrationPins.add(String(issue.path[1]));
    else if (issue.code !== 'unrecognized_keys') fileBroken = true;
  }
  const broken = fileBroken ? 'all' : brokenPins;
  const brokenMigrations = fileBroken ? 'all' : brokenMigrationPins;
  const images = isPlainObject(raw) && isPlainObject(raw.services) ? raw.services : {};
  const migrationImages = isPlainObject(raw) && isPlainObject(raw.migrations) ? raw.migrations : {};
  if (production) {
    for (const [section, pins, brokenSet] of [['services', images, brokenPins], ['migrations', migrationImages, brokenMigrationPins]] as const) {
      for (const [name, pin] of Object.entries(pins)) {
        if (isPlainObject(pin) && pin.digest === undefined) {
          problems.push({ path: `${file}: ${section}.${name}.digest`, message: DIGEST_REQUIRED });
          brokenSet.add(name);
        }
      }
    }
  }
  if (services && broken !== 'all') {
    for (const name of services) {
      if (!Object.hasOwn(images, name) && needsPin(name)) {
        problems.push({ path: `${file}: services.${name}`, message: 'is required: every service of the environment needs an image pin' });
        broken.add(name);
      }
    }
    for (const name of Object.keys(images)) {
      if (!services.includes(name)) problems.push({ path: `${file}: services.${name}`, message: 'pins an image for a service this environment does not have' });
    }
  }
  if (services && migrating && brokenMigrations !== 'all') {
    // A pin nothing runs would look like the image in use: refuse it rather than ignore it.
    for (const name of Object.keys(migrationImages)) {
      if (!services.includes(name)) problems.push({ path: `${file}: migrations.${name}`, message: 'pins a migration image for a service this environment does not have' });
      else if (!migrating.includes(name)) problems.push({ path: `${file}: migrations.${name}`, message: `pins a migration image, but services.${name} has no migration` });
    }
  }
  return { images, broken, migrationImages, brokenMigrations, problems };
}

