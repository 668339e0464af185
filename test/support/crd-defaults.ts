/**
 * The CRDs of the platform, for tests of what the API server does to a custom resource before storing
 * it (structural defaulting from the CRD's openAPIV3Schema, pipeline/crd-defaults.ts).
 *
 * The CRDs are those of the versions the platform pins: ../shared/crds (CloudNativePG, Barman Cloud)
 * and ../shared/platform-crds/<project>-<version>/ (cert-manager, Gateway API, External Secrets,
 * prometheus-operator, Argo CD). Tests read them there; the project never does.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { StructuralSchema } from '../../pipeline/crd-defaults';
import { REPO } from './repository-copy';

// The API server's defaulting algorithm is the gate's (pipeline/crd-defaults.ts): one copy, which the
// tests run over the CRDs themselves and the gate over the extracts generated from them.
export { applyDefaults, differences, type StructuralSchema } from '../../pipeline/crd-defaults';

/** Where the CRDs are; SHARED_DIR overrides (as CRDS_DIR does for scripts/import-crds.sh). */
export const SHARED = process.env.SHARED_DIR ?? resolve(REPO, '..', 'shared');

const yamlFiles = (dir: string): string[] => readdirSync(dir).sort().flatMap((entry) => {
  const path = join(dir, entry);
  if (statSync(path).isDirectory()) return yamlFiles(path);
  return /\.ya?ml$/.test(entry) && entry !== 'kustomization.yaml' ? [path] : [];
});

interface CrdSpec {
  readonly group: string;
  readonly names: { readonly kind: string };
  readonly versions: readonly { readonly name: string; readonly served: boolean; readonly schema?: { readonly openAPIV3Schema: StructuralSchema } }[];
}

/** The schema of every served version of every CRD there, by `<apiVersion> <kind>`. */
export function crdSchemas(shared = SHARED): Map<string, StructuralSchema> {
  const schemas = new Map<string, StructuralSchema>();
  for (const dir of ['crds', 'platform-crds']) {
    if (!existsSync(join(shared, dir))) continue;
    for (const file of yamlFiles(join(shared, dir))) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const crd = doc.toJS() as { kind?: string; spec?: CrdSpec };
        if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        for (const v of crd.spec.versions) {
          if (v.served && v.schema) schemas.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
        }
      }
    }
  }
  return schemas;
}
