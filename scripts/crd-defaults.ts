/**
 * imports/defaults/: for every custom kind this project may emit (pipeline/schema-validation.ts's
 * registry), what the API server's structural defaulting reads of its CRD's served version, from the
 * CRD bundles charts/gitops/platform-releases.ts names (run by scripts/import-crds.sh; never edit the
 * output by hand):
 *
 *   node --import tsx scripts/crd-defaults.ts <output folder, replaced>
 *
 * The bundles are in ../shared (SHARED_DIR names another). Each file is defaultsOnly of the schema
 * (pipeline/crd-defaults.ts), not the whole schema: the gate reads nothing else, and the whole
 * schemas of these kinds are megabytes (the Argo CD, CloudNativePG and prometheus-operator ones above
 * all). A custom kind that no CRD of the bundles defines at its version is an error.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crdBundleFiles, PLATFORM_RELEASES, type CrdBundle, type PlatformRelease } from '../charts/gitops/platform-releases';
import { defaultsFileName, defaultsOnly, groupOf, KUBERNETES_GROUPS, type KindDefaults, type StructuralSchema } from '../pipeline/crd-defaults';
import { EMITTABLE_KINDS } from '../pipeline/schema-validation';

export interface Crd {
  readonly file: string;
  readonly bundle: CrdBundle;
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema?: { readonly openAPIV3Schema: StructuralSchema } }[];
}

/** Parsed files by path: some are megabytes (the tests generate more than once). */
const parsed = new Map<string, Omit<Crd, 'bundle'>[]>();

/** Every CRD of the bundles of `releases` in `shared`. */
export function tableCrds(shared: string, releases: Readonly<Record<string, PlatformRelease>>): Crd[] {
  return Object.values(releases).flatMap((release) => {
    const bundle = release.crds;
    if (!bundle) return [];
    const { dir, includes } = crdBundleFiles(bundle);
    return readdirSync(join(shared, dir)).filter(includes).sort().flatMap((f) => {
      const file = join(dir, f);
      const path = join(shared, file);
      if (!parsed.has(path)) {
        parsed.set(path, parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
          if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
          const crd = doc.toJS() as {
            kind?: string; metadata?: { name: string }; spec?: { group: string; names: { kind: string }; versions: Crd['versions'] };
          } | null;
          if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec || !crd.metadata) return [];
          return [{ file, name: crd.metadata.name, group: crd.spec.group, kind: crd.spec.names.kind, versions: crd.spec.versions }];
        }));
      }
      return parsed.get(path)!.map((crd) => ({ ...crd, bundle }));
    });
  });
}

/** `value` with every object's keys sorted, so that output does not depend on the input's order. */
export function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
}

/** An emitted custom kind, with the one CRD of the table's bundles that defines it and its served version. */
export interface ServedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly version: string;
  readonly crd: Crd;
  readonly served: Crd['versions'][number] & { readonly schema: { readonly openAPIV3Schema: StructuralSchema } };
}

/**
 * The custom kinds among `kinds` (`<apiVersion> <Kind>`, sorted), each with the one CRD of the bundles
 * of `releases` that defines it and serves its version with a schema; anything else is an error.
 */
export function servedKinds(
  shared: string,
  kinds: readonly string[] = EMITTABLE_KINDS,
  releases: Readonly<Record<string, PlatformRelease>> = PLATFORM_RELEASES,
): ServedKind[] {
  const crds = tableCrds(shared, releases);
  const out: ServedKind[] = [];
  for (const gvk of [...kinds].sort()) {
    const [apiVersion, kind] = gvk.split(' ');
    const group = groupOf(apiVersion);
    if (KUBERNETES_GROUPS.has(group)) continue;
    const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
    const defining = crds.filter((c) => c.group === group && c.kind === kind);
    if (defining.length !== 1) throw new Error(`${gvk}: defined by ${defining.length} CRDs of the bundles in charts/gitops/platform-releases.ts`);
    const [crd] = defining;
    const served = crd.versions.find((v) => v.name === version && v.served);
    if (!served?.schema) throw new Error(`${gvk}: ${crd.file} serves no version ${version} with a schema`);
    out.push({ apiVersion, kind, version, crd, served: served as ServedKind['served'] });
  }
  return out;
}

/** Every file of imports/defaults/: name → text (of `kinds`, from the bundles of `releases`). */
export function generateDefaults(
  shared: string,
  kinds: readonly string[] = EMITTABLE_KINDS,
  releases: Readonly<Record<string, PlatformRelease>> = PLATFORM_RELEASES,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const { apiVersion, kind, version, crd, served } of servedKinds(shared, kinds, releases)) {
    const file: KindDefaults = {
      $comment: `Generated by scripts/import-crds.sh (scripts/crd-defaults.ts) from ${crd.file}: what structural defaulting reads of the `
        + `openAPIV3Schema of CustomResourceDefinition ${crd.name}, version ${version}. Do not edit.`,
      apiVersion,
      kind,
      source: { crd: crd.name, project: crd.bundle.project, version: crd.bundle.version },
      schema: defaultsOnly(served.schema.openAPIV3Schema) ?? {},
    };
    out.set(defaultsFileName(apiVersion, kind), `${JSON.stringify(sorted(file), null, 2)}\n`);
  }
  return out;
}

/**
 * A generator's command line: `node --import tsx scripts/<tool>.ts <out-dir>` writes the files that
 * `generate` makes from ../shared (SHARED_DIR) into <out-dir>, replacing what was there.
 */
export function writeGenerated(tool: string, generate: (shared: string) => ReadonlyMap<string, string>): void {
  const [outDir] = process.argv.slice(2);
  if (!outDir) {
    process.stderr.write(`usage: node --import tsx ${basename(process.argv[1])} <out-dir>\n`);
    process.exit(2);
  }
  try {
    const files = generate(process.env.SHARED_DIR ?? '../shared');
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(outDir, name), text);
    process.stdout.write(`${tool}: wrote ${files.size} files to ${outDir}\n`);
  } catch (e) {
    process.stderr.write(`${tool}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) writeGenerated('crd-defaults', generateDefaults);
