/**
 * JSON Schemas and strict validators for the custom resources no npm package ships validators for,
 * generated from the CRD files (run by scripts/import-crds.sh; never edit the output by hand):
 *
 *   node scripts/crd-schemas.mjs <folder of CRD YAML files> <output folder, replaced>
 *
 * For every served version of every CRD it writes, named `<group>_<version>_<Kind>`:
 * - `.json`: the version's openAPIV3Schema as the CRD has it, keys sorted, with a `$comment` saying
 *   where it came from and `x-kubernetes-group-version-kind` (as in Kubernetes' own OpenAPI).
 * - `.validate.cjs`: an ajv standalone validator of the strict form of that schema (strictSchema
 *   below), a CommonJS module: the commands run as a CommonJS bundle (scripts/run.mjs) and load
 *   it with require, as do the tests. Compiling the CloudNativePG Cluster and Pooler schemas at synthesis would take ~0.4 s
 *   each, close to the whole synthesis; loading and first use of the precompiled code (split into
 *   functions, see hoisted) takes ~20 ms for both.
 *
 * Strict form: the API server prunes (silently drops) every field its structural schema does not
 * declare, so here an undeclared field is an error. What the schema language alone cannot say:
 * - every object schema is closed (`additionalProperties: false`) unless it has
 *   `x-kubernetes-preserve-unknown-fields: true` or an `additionalProperties` schema (a map). That
 *   includes an object schema with no properties (`type: object` alone), whose fields the API
 *   server prunes all of; the exception is the resource's own `metadata`, which the API server
 *   reads as ObjectMeta (pipeline/schema-validation.ts checks it against ObjectMeta);
 * - `x-kubernetes-embedded-resource: true` also allows `apiVersion`, `kind` and `metadata` (that
 *   metadata is left open: no ObjectMeta check there);
 * - `x-kubernetes-int-or-string: true` is an integer or a string;
 * - logical junctors (anyOf, allOf, oneOf, not) only constrain values in a structural schema: left
 *   as they are.
 * Not checked: `x-kubernetes-validations` (CEL rules: no CEL evaluator here), the uniqueness that
 * `x-kubernetes-list-type: set|map` implies, and formats other than those in FORMATS, which pass
 * (the API server checks a few more, such as hostname and uri, by rules of its own). Patterns are
 * run as JavaScript regular expressions (with the u flag), not Go's RE2.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

const AJV_VERSION = createRequire(import.meta.url)('ajv/package.json').version;

/** Kubernetes' schema extensions: allowed as keywords, given meaning by strictSchema or ignored. */
const K8S_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-group-version-kind',
];

/** Formats checked (ajv-formats, full mode); any other format is accepted unchecked. */
const FORMATS = ['date-time', 'date', 'byte', 'int32', 'int64', 'float', 'double'];

/** An ajv that compiles strict schemas: every error, strict about keywords except Kubernetes' own. */
export function newAjv(options = {}) {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    // int-or-string quantities put `pattern` beside `anyOf: [integer, string]`, with no `type`.
    strictTypes: false,
    ...options,
  });
  addFormats(ajv, FORMATS);
  ajv.addVocabulary(K8S_KEYWORDS);
  return ajv;
}

const JUNCTORS = ['anyOf', 'allOf', 'oneOf', 'not'];

/**
 * The strict form of one structural schema (see the top of this file); `root` for the resource's
 * schema, whose `metadata` is left open. Descriptions are dropped: they only make the code bigger.
 */
export function strictSchema(schema, root = true) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description' || key === '$comment') continue;
    out[key] = value;
  }
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined && !JUNCTORS.some((j) => j in out)) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out['x-kubernetes-embedded-resource'] === true) {
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
  }
  const embedded = out['x-kubernetes-embedded-resource'] === true;
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([name, s]) =>
      // The resource's metadata (and an embedded resource's) is ObjectMeta, not what the CRD says.
      [name, strictSchema((root || embedded) && name === 'metadata' ? { ...s, 'x-kubernetes-preserve-unknown-fields': true } : s, false)]));
  }
  if (out.items) out.items = strictSchema(out.items, false);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = strictSchema(out.additionalProperties, false);
  }
  const isObject = out.type === 'object' || out.properties !== undefined;
  if (isObject && out['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Object and array schemas at least this long (as JSON) become functions of their own. */
const HOIST_MIN_LENGTH = 100;

/**
 * `schema` with each object or array schema of some size moved to `$defs` and referred to, identical
 * ones once. ajv then compiles each into a function of its own (with `inlineRefs: false`) instead of
 * one function of a megabyte: V8 compiles a function when it is first called, so validating a
 * Cluster compiles only the parts of the schema the Cluster uses, and the repeated parts (probes,
 * affinity terms, resource requirements) are generated once. Loading and first use of the Cluster
 * and Pooler validators went from ~90 ms to ~20 ms this way; validation is the same.
 */
export function hoisted(schema) {
  const defs = {};
  const names = new Map();
  const visit = (s, top) => {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) return s;
    const json = JSON.stringify(s);
    if (!top && (s.properties || s.items || (s.additionalProperties && typeof s.additionalProperties === 'object')) && json.length >= HOIST_MIN_LENGTH) {
      let name = names.get(json);
      if (name === undefined) {
        name = `s${names.size}`;
        names.set(json, name);
        defs[name] = visit(s, true);
      }
      return { $ref: `#/$defs/${name}` };
    }
    const out = { ...s };
    if (out.properties) out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, visit(v, false)]));
    if (out.items) out.items = visit(out.items, false);
    if (out.additionalProperties && typeof out.additionalProperties === 'object') out.additionalProperties = visit(out.additionalProperties, false);
    return out;
  };
  const root = visit(schema, true);
  return names.size === 0 ? root : { ...root, $defs: defs };
}

const COMPILE_OPTIONS = { inlineRefs: false };

/** A validator of the strict form of `schema`, compiled now (tests; synthesis loads the generated code). */
export function compileStrict(schema) {
  return newAjv(COMPILE_OPTIONS).compile(hoisted(strictSchema(schema)));
}

/** `value` with every object's keys sorted, so that output does not depend on the input's order. */
function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
}

/** `postgresql.cnpg.io_v1_Cluster`: the base name of a version's files. */
export const baseName = (group, version, kind) => `${group}_${version}_${kind}`;

/** The JSON Schema files of every served version of the CRDs in `crdsDir`: file name → text. */
export function extractSchemas(crdsDir) {
  const files = new Map();
  for (const file of readdirSync(crdsDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(crdsDir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const { group, names } = crd.spec;
      for (const v of crd.spec.versions ?? []) {
        if (!v.served) continue;
        const schema = v.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${file}: ${crd.metadata.name} version ${v.name} has no openAPIV3Schema`);
        const name = `${baseName(group, v.name, names.kind)}.json`;
        if (files.has(name)) throw new Error(`${file}: ${group}/${v.name} ${names.kind} is defined twice`);
        files.set(name, `${JSON.stringify(sorted({
          ...schema,
          $comment: `Generated by scripts/import-crds.sh (scripts/crd-schemas.mjs) from ${file}: the openAPIV3Schema of CustomResourceDefinition ${crd.metadata.name}, version ${v.name}. Do not edit.`,
          'x-kubernetes-group-version-kind': [{ group, kind: names.kind, version: v.name }],
        }), null, 2)}\n`);
      }
    }
  }
  return files;
}

/** The standalone validator module of one generated JSON Schema file. */
export function validatorModule(jsonFile, jsonText) {
  // A new ajv per schema: the generated names count up per instance, and must not depend on order.
  const ajv = newAjv({ ...COMPILE_OPTIONS, code: { source: true, esm: false } });
  const validate = ajv.compile(hoisted(strictSchema(JSON.parse(jsonText))));
  return [
    // The directive first, where it takes effect; the code requires ajv's runtime helpers and
    // ajv-formats' formats.
    '"use strict";',
    `// Generated by scripts/import-crds.sh (scripts/crd-schemas.mjs) from ${jsonFile} beside it: ajv ${AJV_VERSION}`,
    '// standalone code validating the strict form of that schema. Do not edit.',
    standaloneCode(ajv, validate).replace(/^"use strict";/, ''),
    '',
  ].join('\n');
}

/** Every generated file for the CRDs in `crdsDir`: file name → text. */
export function generate(crdsDir) {
  const out = new Map();
  for (const [name, text] of extractSchemas(crdsDir)) {
    out.set(name, text);
    out.set(name.replace(/\.json$/, '.validate.cjs'), validatorModule(name, text));
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [crdsDir, outDir] = process.argv.slice(2);
  if (!crdsDir || !outDir) {
    process.stderr.write(`usage: node ${basename(process.argv[1])} <crds-dir> <out-dir>\n`);
    process.exit(2);
  }
  const files = generate(crdsDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(outDir, name), text);
  process.stdout.write(`crd-schemas: wrote ${files.size} files to ${outDir}\n`);
}
