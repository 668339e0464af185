/**
 * What the API server does to a custom resource before storing it: structural defaulting from the
 * CRD's openAPIV3Schema. A field our manifest omits and the API server defaults inside a list item
 * makes Argo CD's comparison differ forever (a merge patch replaces the list, the server fills the
 * default in again), so the synthesized objects must already hold every default.
 *
 * The CRDs are those of the versions the platform pins: ../shared/crds (CloudNativePG, Barman Cloud)
 * and ../shared/platform-crds/<project>-<version>/ (cert-manager, Gateway API, External Secrets,
 * prometheus-operator, Argo CD). Tests read them there; the project never does.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO } from './repository-copy';

/** The part of a structural schema defaulting reads. */
export interface StructuralSchema {
  readonly type?: string;
  readonly nullable?: boolean;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, StructuralSchema>>;
  readonly additionalProperties?: StructuralSchema | boolean;
  readonly items?: StructuralSchema;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Defaults `value` in place as the API server does. After
 * k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting/algorithm.go (`Default`): a
 * property that is absent, or null where the schema does not allow null, gets a copy of its
 * default; then every property (defaulted ones too) and every map value and list item is
 * defaulted by its own schema.
 */
export function applyDefaults(value: unknown, schema: StructuralSchema | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!(key in value) || (value[key] === null && !prop.nullable)) value[key] = structuredClone(prop.default) as Json;
  }
  for (const [key, v] of Object.entries(value)) {
    const prop = schema.properties?.[key];
    if (prop) applyDefaults(v, prop);
    else if (typeof schema.additionalProperties === 'object') applyDefaults(v, schema.additionalProperties);
  }
}

/** Every path at which `after` differs from `before`, as JSON pointers with the value `after` has. */
export function differences(before: unknown, after: unknown, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => differences(before[k], after[k], `${path}/${k}`));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => differences(item, after[i], `${path}/${i}`));
  }
  return [`${path || '/'}: ${JSON.stringify(after)}`];
}

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
