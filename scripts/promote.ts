/**
 * `npm run promote -- staging production`: production gets the images staging runs. Copies the
 * source environment's image pins (environments/images/<from>.yaml) into the target's pin file,
 * keeping that file's comments, and re-synthesizes the target with `npm run synth -- --env <to>`,
 * then shows what changed in dist/ and argocd/ (pipeline/object-diff.ts).
 *
 * Atomic: the new pin file is written beside the old one and synthesized in this process through
 * the whole gate (every environment's configuration, the target's objects through schema and
 * policy, the fields Kubernetes cannot change); only if that passes does it replace the pin file
 * (a rename), and only then does the real synthesis write dist/ and argocd/. If that synthesis
 * fails after all, the pin file is put back as it was.
 *
 * Refuses, writing nothing (exit 1): arguments that are not exactly two different known
 * environments; source pins without a digest (each offending service named: the target may be
 * production, which takes digests only, and a tag is not what was tested); environments whose
 * services differ (the services only in one named).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMap, isScalar, parse, parseDocument, type Document, type YAMLMap } from 'yaml';
import { isPlainObject, type EnvironmentDefinition } from '../environments/define';
import { environments } from '../environments/index';
import { ARGOCD_DIR as ARGOCD, DIST_DIR as DIST } from '../environments/model/delivery';
import { COLOURS, diffFolders, PLAIN, renderDiff, sameValue } from '../pipeline/object-diff';
import { readTree } from '../pipeline/tree-diff';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run promote -- <from> <to>      (for example: npm run promote -- staging production)

Copies <from>'s image pins into <to>'s pin file (environments/images/<to>.yaml, its comments kept),
synthesizes <to> with them through every check npm run synth makes, and only if that passes writes
the pin file, runs npm run synth -- --env <to> and shows what changed in ${DIST}/ and ${ARGOCD}/.
Review the diff, then commit the pin file with ${DIST}/ and ${ARGOCD}/.

Refuses, writing nothing, when a pin of <from> has no digest, when the two environments do not
have the same services, or when <to> does not pass the checks with the new pins.

Options:
  -h, --help   Print this text.

Exit status: 0 promoted (or nothing to promote), 1 refused or bad input, 2 a bug.
`;

/** Bad input or a refusal: the message is the whole story, no stack trace, nothing written. */
class Refusal extends Error {
  /** One reason, or a headline and the reasons under it. */
  constructor(readonly reasons: readonly string[], readonly headline?: string) {
    super([headline, ...reasons].filter(Boolean).join('\n'));
  }
}

function options(args: readonly string[]): { help: boolean; from: string; to: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new Refusal([`${(e as Error).message.split(/\.\s/)[0].replace(/\.$/, '')}; see npm run promote -- --help`]);
  }
  if (parsed.values.help) return { help: true, from: '', to: '' };
  const names = environments.map((d) => d.name);
  const [from, to] = parsed.positionals;
  if (parsed.positionals.length !== 2) {
    throw new Refusal([`give exactly two environments, the one to copy the images from and the one to copy them to (got ${parsed.positionals.length}): `
      + `npm run promote -- <from> <to>, with the environments ${names.join(', ')}`]);
  }
  const unknown = parsed.positionals.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new Refusal(unknown.map((n) => `unknown environment "${n}": the environments are ${names.join(', ')}`));
  }
  if (from === to) throw new Refusal([`"${from}" is given twice: promotion copies one environment's images to another`]);
  return { help: false, from, to };
}

/** `2.15.0-rc.1@sha256:1a3c5e7f9b0d`: a pin in a line. */
function describePin(pin: unknown): string {
  if (!isPlainObject(pin)) return JSON.stringify(pin);
  const digest = typeof pin.digest === 'string' ? `@${pin.digest.slice(0, 19)}` : '';
  return `${String(pin.tag)}${digest}`;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(join(root, file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Refusal([`${file} cannot be read: ${(e as Error).message}`]);
  }
}

/** Every pin of a pin file: `services.web`, `migrations.api` (a section is a mapping of pins by service). */
function pinsOf(file: Record<string, unknown>): [section: string, name: string, pin: unknown][] {
  return Object.entries(file).flatMap(([section, pins]) => (isPlainObject(pins) ? Object.entries(pins) : [])
    .map(([name, pin]) => [section, name, pin] as [string, string, unknown]));
}

/** `web`, `api's migration`, or `workers.mailer` for a pin of another section than services. */
const pinName = (section: string, name: string) => (section === 'services' ? name : section === 'migrations' ? `${name}'s migration` : `${section}.${name}`);

/**
 * Why `from`'s pins cannot go to `to`: pins without a valid digest, services that only one of the
 * two environments has. Every reason at once.
 */
async function refusals(from: EnvironmentDefinition, to: EnvironmentDefinition, source: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  // The digest rule of the configuration schema.
  const { ImageSchema } = await import('../environments/schema');
  const digestOk = (digest: unknown) => digest !== undefined && ImageSchema.shape.digest.safeParse(digest).success;
  const undigested = pinsOf(source).filter(([, , pin]) => !isPlainObject(pin) || !digestOk(pin.digest));
  if (undigested.length > 0) {
    out.push(`${from.name}'s images are not all pinned by digest (${from.imagePinsFile}); promotion copies only what was tested, by digest: `
      + undigested.map(([section, name, pin]) => {
        const digest = isPlainObject(pin) ? pin.digest : undefined;
        const why = digest === undefined
          ? `tag ${isPlainObject(pin) ? String(pin.tag) : '?'}, no digest`
          : `digest ${JSON.stringify(digest)} is not sha256: and 64 lowercase hex digits`;
        return `${pinName(section, name)} (${why})`;
      }).join(', '));
  }
  // Every section that pins a workload's image (services, workers): the same workloads on both sides.
  const { WORKLOAD_SECTIONS } = await import('../environments/pins');
  for (const section of WORKLOAD_SECTIONS) {
    const names = (d: EnvironmentDefinition) => (isPlainObject(d.config[section]) ? Object.keys(d.config[section]) : []);
    const a = names(from);
    const b = names(to);
    const onlyFrom = a.filter((s) => !b.includes(s));
    const onlyTo = b.filter((s) => !a.includes(s));
    if (onlyFrom.length > 0 || onlyTo.length > 0) {
      const noun = section === 'services' ? 'service' : 'worker';
      out.push(`${from.name} and ${to.name} do not have the same ${section}: `
        + [onlyFrom.length > 0 ? `only ${from.name} has ${onlyFrom.join(', ')}` : '', onlyTo.length > 0 ? `only ${to.name} has ${onlyTo.join(', ')}` : '']
          .filter(Boolean).join('; ')
        + `; add or remove the ${noun} in environments/ first (promotion copies images, not ${section})`);
    }
  }
  return out;
}

/**
 * The target's pin file with exactly the source's pins (every section: services, migrations …):
 * edited in place, so its comments (the header that says who writes it), key order and layout stay.
 */
function promotedPinFile(target: Document | undefined, from: string, source: Record<string, unknown>): string {
  const doc = target ?? parseDocument(`# Image pins, promoted from ${from} by npm run promote.\n`);
  const keyOf = (key: unknown) => String(isScalar(key) ? key.value : key);
  const assign = (parent: YAMLMap | Document, key: string, value: unknown) => {
    if (!isPlainObject(value)) {
      // A scalar set in place keeps its comments; yaml quotes a string that would read as another type ("2.10").
      parent.set(key, value);
      return;
    }
    let map = parent.get(key);
    if (!isMap(map)) {
      map = doc.createNode({}) as YAMLMap;
      parent.set(key, map);
    }
    const m = map as YAMLMap;
    for (const item of [...m.items]) {
      if (!Object.hasOwn(value, keyOf(item.key))) m.delete(item.key);
    }
    for (const [k, v] of Object.entries(value)) assign(m, k, v);
  };
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as YAMLMap;
  const top = doc.contents as YAMLMap;
  for (const item of [...top.items]) {
    if (!Object.hasOwn(source, keyOf(item.key))) top.delete(item.key);
  }
  for (const [k, v] of Object.entries(source)) assign(top, k, v);
  return doc.toString({ lineWidth: 0 });
}

/** Write a file whole: beside it first, then renamed over it. */
function writeWhole(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const from = environments.find((d) => d.name === opts.from) as EnvironmentDefinition;
  const to = environments.find((d) => d.name === opts.to) as EnvironmentDefinition;

  const sourceText = readText(from.imagePinsFile);
  if (sourceText === undefined) throw new Refusal([`${from.imagePinsFile} does not exist: ${from.name} has no image pins to promote`]);
  let source: unknown;
  try {
    source = parse(sourceText);
  } catch (e) {
    throw new Refusal([`${from.imagePinsFile} is not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  if (!isPlainObject(source) || !isPlainObject(source.services)) {
    throw new Refusal([`${from.imagePinsFile} has no services: it must map services.<name> to { repository, tag, digest }`]);
  }
  const refused = await refusals(from, to, source);
  if (refused.length > 0) throw new Refusal(refused);

  const targetText = readText(to.imagePinsFile);
  let target: Document | undefined;
  if (targetText !== undefined) {
    target = parseDocument(targetText);
    if (target.errors.length > 0) {
      throw new Refusal([`${to.imagePinsFile} is not valid YAML: ${target.errors[0].message.split('\n')[0]}; fix it by hand before promoting to it`]);
    }
    if (sameValue(target.toJS(), source)) {
      process.stdout.write(`shipshape: ${to.name} already has ${from.name}'s images (${to.imagePinsFile}); nothing to promote, nothing written\n`);
      return 0;
    }
  }
  const current: unknown = target?.toJS();
  const currentPins = new Map(isPlainObject(current) ? pinsOf(current).map(([section, name, pin]) => [`${section}.${name}`, pin]) : []);
  const nextText = promotedPinFile(target, from.name, source);

  // The gate, on the new pins: read from a file beside the pin file, under the target's name.
  const candidate = `${to.imagePinsFile}.promote-${process.pid}.tmp`;
  const candidatePath = join(root, candidate);
  const committed = readTree(join(root, DIST));
  const committedArgocd = readTree(join(root, ARGOCD));
  // Loaded only now: the synthesis' modules take seconds to load, a refusal above needs none of them.
  const { environmentFileProblems } = await import('../environments/files');
  const { ConfigError } = await import('../environments/load');
  const { refusalMessage } = await import('../pipeline/immutable-fields');
  const { refusedChangesOf, synthesizeAll } = await import('../pipeline/pipeline');
  writeFileSync(candidatePath, nextText);
  try {
    try {
      const listed = environments.map((d) => d.name);
      const files = environmentFileProblems(root, listed);
      if (files.length > 0) throw new ConfigError(files);
      const defs = environments.map((d) => (d.name === to.name ? { ...d, imagePinsFile: candidate } : d));
      const synthesis = await synthesizeAll(defs, root, [to.name]);
      const immutable = refusedChangesOf(committed, synthesis, new Set(), committedArgocd);
      if (immutable.length > 0) throw new ConfigError(immutable.map(refusalMessage));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new Refusal(
        e.problems.map((p) => p.split(candidate).join(to.imagePinsFile)),
        `${to.name} does not pass the checks with ${from.name}'s images; fix these ${e.problems.length} problem(s):`,
      );
    }
    renameSync(candidatePath, join(root, to.imagePinsFile));
  } finally {
    rmSync(candidatePath, { force: true });
  }

  const synth = spawnSync(process.execPath, [join(root, 'scripts/synth.mjs'), '--env', to.name], { cwd: root, encoding: 'utf8' });
  if (synth.status !== 0) {
    // Back to what it was: a pin file never goes in without the output it synthesizes.
    if (targetText === undefined) rmSync(join(root, to.imagePinsFile), { force: true });
    else writeWhole(join(root, to.imagePinsFile), targetText);
    process.stderr.write(synth.stderr);
    throw new Refusal([`npm run synth -- --env ${to.name} failed with ${from.name}'s images (exit ${synth.status ?? synth.signal}); `
      + `${to.imagePinsFile} is back as it was`]);
  }

  const promoted = pinsOf(source).map(([section, name, pin]) => {
    const key = `${section}.${name}`;
    const was = currentPins.has(key) ? describePin(currentPins.get(key)) : '(none)';
    const now = describePin(pin);
    return `  ${pinName(section, name)}: ${was === now ? `${now} (unchanged)` : `${was} → ${now}`}`;
  });
  const gone = [...currentPins.keys()].filter((key) => !pinsOf(source).some(([section, name]) => `${section}.${name}` === key));
  for (const key of gone) promoted.push(`  ${pinName(key.split('.')[0], key.slice(key.indexOf('.') + 1))}: ${describePin(currentPins.get(key))} → (none)`);
  process.stdout.write(`shipshape: promoted ${from.name}'s images to ${to.name} (${to.imagePinsFile}):\n${promoted.join('\n')}\n`);
  const folders = diffFolders(
    new Map([[DIST, committed], [ARGOCD, committedArgocd]]),
    new Map([[DIST, readTree(join(root, DIST))], [ARGOCD, readTree(join(root, ARGOCD))]]),
    [to.name],
  );
  process.stdout.write(renderDiff(folders, process.stdout.isTTY && !process.env.NO_COLOR ? COLOURS : PLAIN));
  process.stdout.write(`shipshape: review the diff, then commit ${to.imagePinsFile} with ${DIST}/ and ${ARGOCD}/\n`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  if (e instanceof Refusal) {
    const head = e.headline ?? (e.reasons.length === 1 ? e.reasons[0] : `${e.reasons.length} reasons`);
    const list = e.headline !== undefined || e.reasons.length > 1 ? e.reasons : [];
    process.stderr.write(`shipshape: not promoted, nothing written: ${head}\n${list.map((l) => `  ${l}\n`).join('')}`);
    process.exitCode = 1;
    return;
  }
  // A bug, not bad input: say what failed; the stack only when asked for.
  process.stderr.write(`shipshape: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.SHIPSHAPE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exitCode = 2;
});
