/**
 * The one walk over the configuration's zod schema: the schema of the field at a path (for "did you
 * mean" on unknown keys), and every field path with whether it is required, optional or defaulted
 * and its own schema with the wrappers (default, optional, nullable…) removed, where zod 4 keeps
 * the field's checks (bounds, formats): the configuration reference and its boundary tests read it.
 */

/** The parts of zod 4's schema objects the walk reads. */
export interface ZodLike {
  readonly _zod: {
    readonly def: {
      readonly type: string;
      readonly shape?: Record<string, ZodLike>;
      readonly valueType?: ZodLike;
      readonly element?: ZodLike;
      readonly innerType?: ZodLike;
      readonly defaultValue?: unknown;
      /** Checks of a number, string or array: bounds and formats. */
      readonly checks?: readonly ZodCheckLike[];
    };
  };
}

/** One check of a schema (`z.number().min(1)` adds `{ check: 'greater_than', value: 1, inclusive: true }`). */
export interface ZodCheckLike {
  readonly _zod: {
    readonly def: {
      readonly check: string;
      readonly value?: unknown;
      readonly inclusive?: boolean;
      readonly minimum?: unknown;
      readonly maximum?: unknown;
      readonly format?: string;
      /** Present when the schema words the message itself. */
      readonly error?: unknown;
    };
  };
}

export interface Field {
  /** `services.<name>.autoscaling.minReplicas`, `hosts[].routes[].path`. */
  readonly path: string;
  /** 'required', 'optional', or the default value. */
  readonly presence: 'required' | 'optional' | { readonly default: unknown };
  /** The field's schema without its wrappers. */
  readonly schema: ZodLike;
}

/** Every field path of the schema, depth first, with whether it is required, optional or defaulted. */
export function fields(schema: ZodLike, path = '', presence: Field['presence'] = 'required'): Field[] {
  const def = schema._zod.def;
  if (def.type === 'default' || def.type === 'prefault') {
    return fields(def.innerType as ZodLike, path, { default: def.defaultValue });
  }
  if (def.type === 'optional') return fields(def.innerType as ZodLike, path, 'optional');
  if (def.innerType) return fields(def.innerType, path, presence); // nullable, readonly, catch…
  const here: Field[] = path ? [{ path, presence, schema }] : [];
  if (def.type === 'object') {
    return [...here, ...Object.entries(def.shape ?? {}).flatMap(([k, v]) => fields(v, path ? `${path}.${k}` : k))];
  }
  if (def.type === 'record') return [...here, ...fields(def.valueType as ZodLike, `${path}.<name>`, 'required').map(asEntry)];
  if (def.type === 'array') return [...here, ...fields(def.element as ZodLike, `${path}[]`, 'required').map(asEntry)];
  if (LEAVES.has(def.type)) return here;
  // A union, pipe, lazy or tuple has fields and bounds this walk would silently miss.
  throw new Error(`schema-fields: ${path || '(root)'} is a zod ${def.type}, which the walk does not know how to enter`);
}

/** Types with no fields inside: their checks (bounds, formats) are on the field itself. */
const LEAVES = new Set(['string', 'number', 'int', 'boolean', 'enum', 'literal', 'bigint', 'date']);

/** Entries of a map or list are neither required nor defaulted on their own. */
function asEntry(f: Field): Field {
  return f.path.endsWith('>') || f.path.endsWith(']') ? { ...f, presence: 'required' } : f;
}

/** A schema without its wrappers (default, optional, nullable…). */
function unwrapped(schema: ZodLike | undefined): ZodLike | undefined {
  let node = schema;
  while (node?._zod.def.innerType) node = node._zod.def.innerType;
  return node;
}

/** The schema of the field at `path` (entries of maps and lists by any key or index), if there is one. */
export function schemaAt(schema: ZodLike, path: readonly PropertyKey[]): ZodLike | undefined {
  let node = unwrapped(schema);
  for (const seg of path) {
    const def: ZodLike['_zod']['def'] | undefined = node?._zod.def;
    node = unwrapped(def?.shape ? def.shape[String(seg)] : def?.valueType ?? def?.element);
  }
  return node;
}
