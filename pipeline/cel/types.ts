/**
 * The CEL type of a value at a place in a CRD's structural schema, as the API server declares
 * `self` for an `x-kubernetes-validations` rule there (k8s.io/apiserver/pkg/cel/common/schemas.go,
 * SchemaDeclType), and the property-name escaping that makes a field reachable from CEL
 * (k8s.io/apiserver/pkg/cel/escaping.go).
 *
 * @bufbuild/cel has no type checker yet (its Checker handles constants and identifiers only), so
 * these types are ours: the checker (./check.ts) uses them to refuse what the API server's
 * compilation refuses (an undefined field, a function or overload that is not declared).
 */

/** A structural schema node, as a CRD's `openAPIV3Schema` holds it (only what typing reads). */
export interface SchemaNode {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-embedded-resource'?: boolean;
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[];
  readonly [key: string]: unknown;
}

/** One entry of `x-kubernetes-validations`. */
export interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly reason?: string;
  readonly fieldPath?: string;
  readonly optionalOldSelf?: boolean;
}

export type CelT =
  | { readonly kind: 'dyn' | 'null' | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'duration' | 'timestamp' | 'type' }
  | { readonly kind: 'list'; readonly elem: CelT }
  | { readonly kind: 'map'; readonly key: CelT; readonly value: CelT }
  | { readonly kind: 'object'; readonly fields: () => ReadonlyMap<string, CelT> };

export const DYN: CelT = { kind: 'dyn' };
export const BOOL: CelT = { kind: 'bool' };
export const INT: CelT = { kind: 'int' };
export const STRING: CelT = { kind: 'string' };

export function typeName(t: CelT): string {
  switch (t.kind) {
    case 'list': return `list(${typeName(t.elem)})`;
    case 'map': return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'object': return 'object';
    case 'null': return 'null_type';
    default: return t.kind;
  }
}

// CEL's reserved words: a property with one of these names is reached as `__name__`.
const RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/**
 * The name a property has in CEL, or undefined where it has none (escaping.go, Escape): `__` is
 * `__underscores__`, `.` `__dot__`, `-` `__dash__`, `/` `__slash__`, a reserved word `__word__`; a
 * name with any other character, or starting with a digit, is not accessible.
 */
export function escapePropertyName(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_./-][a-zA-Z0-9_./-]*$/.test(name)) return undefined;
  return name.replace(/__|\.|-|\//g, (m) => ({ __: '__underscores__', '.': '__dot__', '-': '__dash__', '/': '__slash__' })[m] as string);
}

/** The metadata an embedded resource, and the object itself at the root, expose to CEL (schemas.go, WithTypeAndObjectMeta). */
const EMBEDDED_FIELDS: ReadonlyMap<string, SchemaNode> = new Map<string, SchemaNode>([
  ['apiVersion', { type: 'string' }],
  ['kind', { type: 'string' }],
  ['metadata', { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } }],
]);

/** The properties CEL sees on an object node, by escaped name, with their schemas. */
export function celProperties(schema: SchemaNode): ReadonlyMap<string, { readonly name: string; readonly schema: SchemaNode }> {
  const fields = new Map<string, { name: string; schema: SchemaNode }>();
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    const escaped = escapePropertyName(name);
    if (escaped !== undefined) fields.set(escaped, { name, schema: s });
  }
  // Of an embedded resource's metadata, only name and generateName are visible, whatever its schema says.
  if (schema['x-kubernetes-embedded-resource']) for (const [name, s] of EMBEDDED_FIELDS) fields.set(name, { name, schema: s });
  return fields;
}

const cache = new WeakMap<SchemaNode, CelT>();

/** The CEL type of values at a schema node; objects' field types are computed when first asked for. */
export function schemaType(schema: SchemaNode): CelT {
  const known = cache.get(schema);
  if (known) return known;
  const t = computeType(schema);
  cache.set(schema, t);
  return t;
}

function computeType(s: SchemaNode): CelT {
  if (s['x-kubernetes-int-or-string']) return DYN;
  switch (s.type) {
    case 'boolean': return BOOL;
    case 'integer': return INT;
    case 'number': return { kind: 'double' };
    case 'string':
      if (s.format === 'byte') return { kind: 'bytes' };
      if (s.format === 'duration') return { kind: 'duration' };
      if (s.format === 'date' || s.format === 'date-time') return { kind: 'timestamp' };
      return STRING;
    case 'array': return { kind: 'list', elem: s.items ? schemaType(s.items) : DYN };
    case 'object': {
      if (s.properties || s['x-kubernetes-embedded-resource']) {
        let fields: Map<string, CelT> | undefined;
        return {
          kind: 'object',
          fields: () => (fields ??= new Map([...celProperties(s)].map(([k, p]) => [k, schemaType(p.schema)]))),
        };
      }
      if (typeof s.additionalProperties === 'object') return { kind: 'map', key: STRING, value: schemaType(s.additionalProperties) };
      if (s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true) return DYN;
      return { kind: 'object', fields: () => new Map() };
    }
    default:
      // No type: only with x-kubernetes-preserve-unknown-fields in a structural schema.
      return DYN;
  }
}

const roots = new WeakMap<SchemaNode, SchemaNode>();
/** The schema of a CRD's root as CEL sees it: a resource, with apiVersion, kind and metadata's name and generateName. */
export function asRoot(schema: SchemaNode): SchemaNode {
  let root = roots.get(schema);
  if (!root) {
    root = { ...schema, 'x-kubernetes-embedded-resource': true };
    roots.set(schema, root);
  }
  return root;
}
