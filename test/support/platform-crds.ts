/**
 * The CRD bundles charts/gitops/platform-releases.ts names, read from ../shared (SHARED_DIR
 * overrides): the CRDs of the versions the platform runs, which the checks validate against.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { crdBundleFiles, type CrdBundle } from '../../charts/gitops/platform-releases';
import { SHARED } from './crd-defaults';

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly schema?: { readonly openAPIV3Schema: Record<string, unknown> };
}

/** One CustomResourceDefinition of a bundle. */
export interface BundleCrd {
  /** Its file, relative to ../shared. */
  readonly file: string;
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly versions: readonly CrdVersion[];
}

/** The files of a bundle, relative to `shared`, sorted; none when its folder is missing. */
export function bundleFiles(bundle: CrdBundle, shared = SHARED): string[] {
  const { dir, includes } = crdBundleFiles(bundle);
  if (!existsSync(join(shared, dir))) return [];
  return readdirSync(join(shared, dir)).filter(includes).sort().map((f) => join(dir, f));
}

/** Parsed files, by their real path: some are megabytes, and the files do not change while tests run. */
const parsed = new Map<string, BundleCrd[]>();

/** Every CustomResourceDefinition in a bundle's files (its other documents, such as an admission policy, are not). */
export function bundleCrds(bundle: CrdBundle, shared = SHARED): BundleCrd[] {
  return bundleFiles(bundle, shared).flatMap((file) => {
    const path = realpathSync(join(shared, file));
    const crds = parsed.get(path) ?? fileCrds(file, readFileSync(path, 'utf8'));
    parsed.set(path, crds);
    return crds;
  });
}

function fileCrds(file: string, text: string): BundleCrd[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const crd = doc.toJS() as {
      kind?: string;
      metadata?: { name: string; annotations?: Record<string, string> };
      spec?: { group: string; names: { kind: string }; versions: CrdVersion[] };
    } | null;
    if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec || !crd.metadata) return [];
    return [{
      file, name: crd.metadata.name, group: crd.spec.group, kind: crd.spec.names.kind,
      annotations: crd.metadata.annotations ?? {}, versions: crd.spec.versions,
    }];
  });
}
