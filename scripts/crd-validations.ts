/**
 * imports/validations/: for every custom kind this project may emit (pipeline/schema-validation.ts's
 * registry), what the gate's CEL pass (pipeline/cel-gate.ts) reads of its CRD's served version, from
 * the CRD bundles charts/gitops/platform-releases.ts names (run by scripts/import-crds.sh; never edit
 * the output by hand):
 *
 *   node --import tsx scripts/crd-validations.ts <output folder, replaced>
 *
 * Each file is validationsOnly of the schema: the nodes on the way to an `x-kubernetes-validations`
 * rule, with the list types and map keys that correlate an old list item with a new one (transition
 * rules), and below each rule the whole structural schema CEL types `self` with (properties, items,
 * formats, int-or-string, embedded resources), without descriptions, patterns or enums; and each
 * rule's expression already parsed (pipeline/cel/ast.ts: parsing is most of what compiling the rules
 * costs a fresh synth). A kind whose CRD has no rule (Argo CD's) gets a file with an empty schema,
 * so that a missing file is an error.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from '@bufbuild/cel';
import { PLATFORM_RELEASES, type PlatformRelease } from '../charts/gitops/platform-releases';
import { encodeExpr, type EncodedExpr } from '../pipeline/cel/ast';
import { ruleSites } from '../pipeline/cel/rules';
import type { SchemaNode } from '../pipeline/cel/types';
import type { KindValidations } from '../pipeline/cel-gate';
import { defaultsFileName } from '../pipeline/crd-defaults';
import { EMITTABLE_KINDS } from '../pipeline/schema-validation';
import { servedKinds, sorted, writeGenerated } from './crd-defaults';

type Mutable = { -readonly [K in keyof SchemaNode]: SchemaNode[K] };

/** What typing and evaluating `self` reads at a node besides its children. */
const TYPING_KEYS = [
  'type', 'format', 'nullable', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
  'x-kubernetes-validations', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys',
] as const;

/** What walking to a rule reads at a node on the way: its type and how its list items correlate with old ones. */
const PATH_KEYS = ['type', 'x-kubernetes-embedded-resource', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys'] as const;

function pick(schema: SchemaNode, keys: readonly string[]): Mutable {
  const out: Mutable = {};
  for (const k of keys) if (schema[k] !== undefined) out[k] = schema[k];
  return out;
}

/** The whole structural schema below a rule: what `self` is typed and converted with. */
function typingSchema(schema: SchemaNode): SchemaNode {
  const out = pick(schema, TYPING_KEYS);
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, typingSchema(s)]));
  if (schema.items) out.items = typingSchema(schema.items);
  if (schema.additionalProperties !== undefined) {
    out.additionalProperties = typeof schema.additionalProperties === 'object' ? typingSchema(schema.additionalProperties) : schema.additionalProperties;
  }
  return out;
}

/** The part of `schema` the CEL pass reads; undefined when no rule is at or below it. */
export function validationsOnly(schema: SchemaNode | undefined): SchemaNode | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  if (schema['x-kubernetes-validations']?.length) return typingSchema(schema);
  const out = pick(schema, PATH_KEYS);
  const properties = Object.entries(schema.properties ?? {}).flatMap(([k, s]) => {
    const kept = validationsOnly(s);
    return kept ? [[k, kept] as const] : [];
  });
  if (properties.length > 0) out.properties = Object.fromEntries(properties);
  const items = validationsOnly(schema.items);
  if (items) out.items = items;
  const additional = typeof schema.additionalProperties === 'object' ? validationsOnly(schema.additionalProperties) : undefined;
  if (additional) out.additionalProperties = additional;
  return properties.length > 0 || items || additional ? out : undefined;
}

/** Status is a subresource: the gate validates objects without it, as the API server an update of the object. */
function withoutStatus(root: SchemaNode): SchemaNode {
  const { status: _, ...properties } = root.properties ?? {};
  return root.properties ? { ...root, properties } : root;
}

/**
 * Every rule's and messageExpression's parsed expression, by source (parsing is most of what compiling
 * costs at synthesis); one that does not parse is left to the gate to report.
 */
function expressionsOf(schema: SchemaNode): Record<string, EncodedExpr> {
  const sources = ruleSites(schema).flatMap(({ rule }) => [rule.rule, ...(rule.messageExpression === undefined ? [] : [rule.messageExpression])]);
  return Object.fromEntries([...new Set(sources)].sort().flatMap((source) => {
    try {
      return [[source, encodeExpr(parse(source).expr)]];
    } catch {
      return [];
    }
  }));
}

/** Every file of imports/validations/: name → text (of `kinds`, from the bundles of `releases`). */
export function generateValidations(
  shared: string,
  kinds: readonly string[] = EMITTABLE_KINDS,
  releases: Readonly<Record<string, PlatformRelease>> = PLATFORM_RELEASES,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const { apiVersion, kind, version, crd, served } of servedKinds(shared, kinds, releases)) {
    const schema = validationsOnly(withoutStatus(served.schema.openAPIV3Schema as SchemaNode)) ?? {};
    const file: KindValidations = {
      $comment: `Generated by scripts/import-crds.sh (scripts/crd-validations.ts) from ${crd.file}: the x-kubernetes-validations rules of the `
        + `openAPIV3Schema of CustomResourceDefinition ${crd.name}, version ${version}, with what evaluating them reads. Do not edit.`,
      apiVersion,
      kind,
      source: { crd: crd.name, project: crd.bundle.project, version: crd.bundle.version },
      schema,
      expressions: expressionsOf(schema),
    };
    // One line per file where it is long: a changed rule is a one-line diff of a generated file either way.
    out.set(defaultsFileName(apiVersion, kind), `${JSON.stringify(sorted(file))}\n`);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) writeGenerated('crd-validations', generateValidations);
