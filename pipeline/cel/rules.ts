/**
 * A CRD's `x-kubernetes-validations` rules, compiled at their place in the schema and evaluated on
 * objects as the API server does (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go):
 * each rule with `self` bound to the value at its place, only where that value is present; a
 * transition rule (one that reads `oldSelf`) only on an update, with `oldSelf` the old object's
 * value at the same place (list items correlated by their map keys, or as set members); the CRD's
 * `message`, or its `messageExpression` where that evaluates to a non-empty string.
 */
import { parse, plan, isCelError, type CelEnv, type CelInput } from '@bufbuild/cel';
import type { decodeExpr } from './ast';
import { checkExpr, type CheckError } from './check';
import { kubernetesCelEnv } from './library';
import { asRoot, celProperties, schemaType, type CelT, type SchemaNode, type ValidationRule } from './types';

type Parsed = ReturnType<typeof parse>;
type Program = ReturnType<typeof plan>;

/** A rule at its place: `path` as the API server names fields (`.spec.rules[*].timeouts`). */
export interface RuleSite {
  readonly path: string;
  readonly schema: SchemaNode;
  readonly rule: ValidationRule;
}

/** Every rule of a schema, with its path (`[*]` for list items, `{*}` for map values). */
export function ruleSites(schema: SchemaNode, path = ''): RuleSite[] {
  const at = path === '' ? asRoot(schema) : schema;
  const here = (schema['x-kubernetes-validations'] ?? []).map((rule) => ({ path, schema: at, rule }));
  const below = [
    ...Object.entries(schema.properties ?? {}).flatMap(([k, s]) => ruleSites(s, `${path}.${k}`)),
    ...(schema.items ? ruleSites(schema.items, `${path}[*]`) : []),
    ...(typeof schema.additionalProperties === 'object' ? ruleSites(schema.additionalProperties, `${path}{*}`) : []),
  ];
  return [...here, ...below];
}

export interface CompileError extends CheckError {
  /** Which expression of the rule failed. */
  readonly expression: 'rule' | 'messageExpression';
}

export interface CompiledRule {
  readonly rule: ValidationRule;
  /** Whether the rule reads `oldSelf`: evaluated only on an update. */
  readonly transition: boolean;
  readonly errors: readonly CompileError[];
  readonly program?: Program;
  readonly messageProgram?: Program;
}

let sharedEnv: CelEnv | undefined;
/** One environment for every rule: building the function table is the costly part. */
export function celEnvironment(): CelEnv {
  return (sharedEnv ??= kubernetesCelEnv());
}

function readsOldSelf(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const kind = (e as { exprKind?: { case?: string; value?: { name?: string } } }).exprKind;
  if (kind?.case === 'identExpr' && kind.value?.name === 'oldSelf') return true;
  return Object.values(e).some((v) => (Array.isArray(v) ? v.some(readsOldSelf) : readsOldSelf(v)));
}

/**
 * Parsed expressions by source: many rules recur at several places (Gateway API's parentRefs and
 * backendRefs rules above all), and parsing, not checking or planning, is what compiling costs.
 */
const parsedBySource = new Map<string, Parsed>();
/** Programs by source, for the shared environment (planning reads the expression and the environment only). */
const plannedBySource = new Map<string, Program>();

/** An expression parsed ahead of time (./ast.ts, stored by scripts/crd-validations.ts): compiling it then parses nothing. */
export function addParsed(source: string, expr: ReturnType<typeof decodeExpr>): void {
  if (!parsedBySource.has(source)) parsedBySource.set(source, { $typeName: 'cel.expr.ParsedExpr', expr } as Parsed);
}

function planned(env: CelEnv, source: string, parsed: Parsed): Program {
  if (env !== sharedEnv) return plan(env, parsed);
  let program = plannedBySource.get(source);
  if (!program) plannedBySource.set(source, (program = plan(env, parsed)));
  return program;
}

function compileExpression(env: CelEnv, source: string, vars: ReadonlyMap<string, CelT>, want: CelT['kind'], expression: CompileError['expression']):
  { parsed?: Parsed; error?: CompileError } {
  let parsed: Parsed;
  try {
    parsed = parsedBySource.get(source) ?? parse(source);
    parsedBySource.set(source, parsed);
  } catch (e) {
    return { error: { expression, message: `syntax error: ${e instanceof Error ? e.message : String(e)}` } };
  }
  if (!parsed.expr) return { error: { expression, message: 'empty expression' } };
  const checked = checkExpr(env, parsed.expr, vars);
  if ('error' in checked) return { error: { expression, ...checked.error } };
  if (checked.type.kind !== want && checked.type.kind !== 'dyn') {
    return { error: { expression, message: `${expression} must evaluate to ${want}, found ${checked.type.kind}` } };
  }
  return { parsed };
}

/** Compiles one rule (and its messageExpression) with `self` and `oldSelf` typed from the schema at its place. */
export function compileRule(schema: SchemaNode, rule: ValidationRule, env = celEnvironment()): CompiledRule {
  const self = schemaType(schema);
  const vars = new Map([['self', self], ['oldSelf', self]]);
  const errors: CompileError[] = [];
  const r = compileExpression(env, rule.rule, vars, 'bool', 'rule');
  if (r.error) errors.push(r.error);
  // With optionalOldSelf, oldSelf is an optional value: optional types are not declared here.
  if (rule.optionalOldSelf) errors.push({ expression: 'rule', message: 'optionalOldSelf needs optional types', missingFunction: 'optional types' });
  const m = rule.messageExpression === undefined ? {} : compileExpression(env, rule.messageExpression, vars, 'string', 'messageExpression');
  if (m.error) errors.push(m.error);
  return {
    rule,
    transition: readsOldSelf(r.parsed?.expr),
    errors,
    program: errors.length === 0 && r.parsed ? planned(env, rule.rule, r.parsed) : undefined,
    messageProgram: errors.length === 0 && m.parsed && rule.messageExpression !== undefined ? planned(env, rule.messageExpression, m.parsed) : undefined,
  };
}

const compiled = new WeakMap<SchemaNode, readonly CompiledRule[]>();
function rulesAt(schema: SchemaNode): readonly CompiledRule[] {
  let rules = compiled.get(schema);
  if (!rules) {
    rules = (schema['x-kubernetes-validations'] ?? []).map((rule) => compileRule(schema, rule));
    compiled.set(schema, rules);
  }
  return rules;
}

/** A value refused by a rule, as the API server would report it. */
export interface Violation {
  /** The field (`spec.cluster`), with the rule's fieldPath where it has one. */
  readonly path: string;
  readonly message: string;
  readonly rule: string;
  readonly reason?: string;
  /** Whether the rule reads `oldSelf` (a refused update, not a refused object). */
  readonly transition: boolean;
  /** The rule could not be evaluated (an error of the checker, not of the object): `message` says why. */
  readonly error?: true;
}

let converters: { timestamp: Program; duration: Program } | undefined;
function convert(kind: 'timestamp' | 'duration', v: string): CelInput {
  converters ??= {
    timestamp: plan(celEnvironment(), parse('timestamp(v)')),
    duration: plan(celEnvironment(), parse('duration(v)')),
  };
  const out = converters[kind]({ v });
  if (isCelError(out)) throw new Error(`${v} is not a ${kind}: ${out.message}`);
  return out as CelInput;
}

/** The CEL value of a JSON value at a schema node: maps for objects (fields by their escaped names), bigint for integers. */
export function celValue(value: unknown, schema: SchemaNode | undefined): CelInput {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => celValue(v, schema?.items));
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (schema && (schema.properties || schema['x-kubernetes-embedded-resource'])) {
      return new Map([...celProperties(schema)].filter(([, p]) => obj[p.name] !== undefined).map(([k, p]) => [k, celValue(obj[p.name], p.schema)]));
    }
    const values = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    return new Map(Object.entries(obj).map(([k, v]) => [k, celValue(v, values)]));
  }
  if (typeof value === 'number') {
    if (schema?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'string' && schema?.type === 'string') {
    if (schema.format === 'byte') return Uint8Array.from(Buffer.from(value, 'base64'));
    if (schema.format === 'date-time') return convert('timestamp', value);
    if (schema.format === 'date') return convert('timestamp', `${value}T00:00:00Z`);
    if (schema.format === 'duration') return convert('duration', value);
  }
  return value as string | boolean;
}

function evaluate(c: CompiledRule, schema: SchemaNode, value: unknown, old: unknown, path: string): Violation | undefined {
  const self = celValue(value, schema);
  const bindings = { self, oldSelf: c.transition ? celValue(old, schema) : null };
  const result = c.program?.(bindings);
  const field = c.rule.fieldPath ? `${path}${c.rule.fieldPath}` : path;
  const at = field.replace(/^\./, '');
  if (result === true) return undefined;
  const transition = c.transition;
  if (isCelError(result)) return { path: at, message: `rule evaluation error: ${c.rule.rule}: ${result.message}`, rule: c.rule.rule, transition, error: true };
  if (result !== false) return { path: at, message: `rule did not evaluate to a bool: ${c.rule.rule}`, rule: c.rule.rule, transition, error: true };
  const fromExpression = c.messageProgram?.(bindings);
  // The API server falls back to `message` where messageExpression fails or gives an empty or multi-line string.
  const usable = typeof fromExpression === 'string' && fromExpression.trim() !== '' && !/[\r\n]/.test(fromExpression);
  const message = usable ? fromExpression : c.rule.message ?? `failed rule: ${c.rule.rule}`;
  return { path: at, message, rule: c.rule.rule, reason: c.rule.reason, transition };
}

/** The old value of a list item: by its map keys in a `map` list, by equality in a `set`; none in an atomic list. */
function oldItem(schema: SchemaNode, item: unknown, old: unknown): unknown {
  if (!Array.isArray(old)) return undefined;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'map') {
    const keys = (schema['x-kubernetes-list-map-keys'] ?? []) as string[];
    const key = (x: unknown) => JSON.stringify(keys.map((k) => (x as Record<string, unknown>)?.[k]));
    return old.find((o) => key(o) === key(item));
  }
  if (listType === 'set') return old.find((o) => JSON.stringify(o) === JSON.stringify(item));
  return undefined;
}

/**
 * The rules an object (`value`, at `schema`) breaks; on an update, `old` is the object as it is and
 * transition rules are evaluated against it. A rule that does not compile throws: the checker lacks
 * something, and passing the object unchecked would hide it.
 */
export function validateRules(schema: SchemaNode, value: unknown, old?: unknown, path = ''): Violation[] {
  if (value === undefined || value === null) return [];
  const violations: Violation[] = [];
  const at = path === '' ? asRoot(schema) : schema;
  for (const c of rulesAt(at)) {
    if (c.errors.length > 0) throw new Error(`CEL rule at ${path || '.'} does not compile (${c.errors.map((e) => e.message).join('; ')}): ${c.rule.rule}`);
    if (c.transition && (old === undefined || old === null)) continue;
    const v = evaluate(c, at, value, old, path);
    if (v) violations.push(v);
  }
  if (Array.isArray(value) && schema.items) {
    const items = schema.items;
    value.forEach((item, i) => violations.push(...validateRules(items, item, oldItem(schema, item, old), `${path}[${i}]`)));
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const was = (old !== null && typeof old === 'object' && !Array.isArray(old) ? old : {}) as Record<string, unknown>;
    for (const [k, s] of Object.entries(schema.properties ?? {})) violations.push(...validateRules(s, obj[k], was[k], `${path}.${k}`));
    if (typeof schema.additionalProperties === 'object') {
      const s = schema.additionalProperties;
      for (const k of Object.keys(obj)) violations.push(...validateRules(s, obj[k], was[k], `${path}[${k}]`));
    }
  }
  return violations;
}
