/**
 * Type-checks a parsed CEL expression against the declarations of an environment, as the API
 * server's compilation of a CRD rule does (cel-go's checker): every identifier declared, every field
 * selected present in the schema at that place, and every function call matching an overload that
 * the environment declares. The overloads are read from the @bufbuild/cel environment itself, so a
 * call that checks here is one the evaluator can run; a function it lacks is named in the error.
 */
import type { CelEnv, CelType, parse } from '@bufbuild/cel';
import { BOOL, type CelT, DYN, INT, STRING, typeName } from './types';

type Expr = NonNullable<ReturnType<typeof parse>['expr']>;

export interface CheckError {
  readonly message: string;
  /** The function (or `name(overload)`) the environment lacks, where that is the error. */
  readonly missingFunction?: string;
}

class CheckFailure extends Error {
  constructor(readonly detail: CheckError) {
    super(detail.message);
  }
}

/** The type of an expression, or the first error the API server's compiler would report for it. */
export function checkExpr(env: CelEnv, expr: Expr, variables: ReadonlyMap<string, CelT>): { type: CelT } | { error: CheckError } {
  try {
    return { type: new Checker(env).check(expr, variables) };
  } catch (e) {
    if (e instanceof CheckFailure) return { error: e.detail };
    throw e;
  }
}

/** Our type of a @bufbuild/cel declared type. */
function fromBuf(t: CelType): CelT {
  switch (t.kind) {
    case 'list': return { kind: 'list', elem: fromBuf(t.element) };
    case 'map': return { kind: 'map', key: fromBuf(t.key), value: fromBuf(t.value) };
    case 'object':
      if (t.name === 'google.protobuf.Duration') return { kind: 'duration' };
      if (t.name === 'google.protobuf.Timestamp') return { kind: 'timestamp' };
      return DYN;
    default:
      return t.scalar === 'null_type' ? { kind: 'null' } : { kind: t.scalar };
  }
}

/** Whether a value of type `arg` may be passed where `param` is declared (dyn on either side passes, as in cel-go). */
function assignable(param: CelT, arg: CelT): boolean {
  if (param.kind === 'dyn' || arg.kind === 'dyn') return true;
  if (param.kind === 'list' && arg.kind === 'list') return assignable(param.elem, arg.elem);
  if (param.kind === 'map' && arg.kind === 'map') return assignable(param.key, arg.key) && assignable(param.value, arg.value);
  return param.kind === arg.kind;
}

/** The more specific of two types a value may have, dyn where they differ. */
function join(a: CelT, b: CelT): CelT {
  if (a.kind === 'dyn' || a.kind === 'null') return b.kind === 'null' ? a : b;
  if (b.kind === 'dyn' || b.kind === 'null') return a;
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', elem: join(a.elem, b.elem) };
  if (a.kind === 'map' && b.kind === 'map') return { kind: 'map', key: join(a.key, b.key), value: join(a.value, b.value) };
  return a.kind === b.kind ? a : DYN;
}

/** `==` and `!=` are declared `(A, A) -> bool`: both sides one type (null compares with anything, as with nullable fields). */
function comparable(a: CelT, b: CelT): boolean {
  if (a.kind === 'null' || b.kind === 'null') return true;
  if (a.kind === 'list' && b.kind === 'list') return comparable(a.elem, b.elem);
  if (a.kind === 'map' && b.kind === 'map') return comparable(a.key, b.key) && comparable(a.value, b.value);
  return assignable(a, b);
}

class Checker {
  private scopes: Map<string, CelT>[] = [];

  constructor(private readonly env: CelEnv) {}

  check(expr: Expr, variables: ReadonlyMap<string, CelT>): CelT {
    this.scopes = [new Map(variables)];
    return this.expr(expr);
  }

  private fail(message: string, missingFunction?: string): never {
    throw new CheckFailure({ message, missingFunction });
  }

  private lookup(name: string): CelT | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const t = this.scopes[i].get(name);
      if (t) return t;
    }
    return undefined;
  }

  private expr(e: Expr): CelT {
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr': {
        const c = k.value.constantKind.case;
        const byConst: Record<string, CelT> = {
          boolValue: BOOL, int64Value: INT, uint64Value: { kind: 'uint' }, doubleValue: { kind: 'double' }, stringValue: STRING,
          bytesValue: { kind: 'bytes' }, nullValue: { kind: 'null' }, durationValue: { kind: 'duration' }, timestampValue: { kind: 'timestamp' },
        };
        return c ? byConst[c] : this.fail('empty constant');
      }
      case 'identExpr': {
        const t = this.lookup(k.value.name);
        return t ?? this.fail(`undeclared reference to '${k.value.name}'`);
      }
      case 'selectExpr': {
        const { operand, field, testOnly } = k.value;
        if (!operand) return this.fail('select without operand');
        const t = this.select(this.expr(operand), field);
        return testOnly ? BOOL : t;
      }
      case 'listExpr': {
        if (k.value.optionalIndices.length > 0) this.fail('optional list elements are not declared', 'optional types');
        const elems = k.value.elements.map((x) => this.expr(x));
        return { kind: 'list', elem: elems.length === 0 ? DYN : elems.reduce((a, b) => join(a, b)) };
      }
      case 'structExpr': {
        if (k.value.messageName) this.fail(`undeclared reference to message '${k.value.messageName}'`);
        let key: CelT = { kind: 'null' };
        let value: CelT = { kind: 'null' };
        for (const entry of k.value.entries) {
          if (entry.optionalEntry) this.fail('optional map entries are not declared', 'optional types');
          if (entry.keyKind.case !== 'mapKey') return this.fail('field initializer outside a message');
          key = join(key, this.expr(entry.keyKind.value));
          if (entry.value) value = join(value, this.expr(entry.value));
        }
        return { kind: 'map', key: key.kind === 'null' ? DYN : key, value: value.kind === 'null' ? DYN : value };
      }
      case 'comprehensionExpr': return this.comprehension(k.value);
      case 'callExpr': return this.call(k.value);
      default: return this.fail(`unsupported expression ${k.case ?? 'empty'}`);
    }
  }

  private select(t: CelT, field: string): CelT {
    switch (t.kind) {
      case 'dyn': return DYN;
      case 'map': return t.value;
      case 'object': return t.fields().get(field) ?? this.fail(`undefined field '${field}'`);
      default: return this.fail(`type '${typeName(t)}' does not support field selection`);
    }
  }

  private comprehension(c: Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value']): CelT {
    if (!c.iterRange || !c.accuInit || !c.loopCondition || !c.loopStep || !c.result) return this.fail('incomplete comprehension');
    const range = this.expr(c.iterRange);
    const vars = new Map<string, CelT>();
    if (c.iterVar2) {
      if (range.kind === 'list') vars.set(c.iterVar, INT).set(c.iterVar2, range.elem);
      else if (range.kind === 'map') vars.set(c.iterVar, range.key).set(c.iterVar2, range.value);
      else if (range.kind === 'dyn') vars.set(c.iterVar, DYN).set(c.iterVar2, DYN);
      else this.fail(`expression of type '${typeName(range)}' cannot be range of a comprehension`);
    } else if (range.kind === 'list') vars.set(c.iterVar, range.elem);
    else if (range.kind === 'map') vars.set(c.iterVar, range.key);
    else if (range.kind === 'dyn') vars.set(c.iterVar, DYN);
    else this.fail(`expression of type '${typeName(range)}' cannot be range of a comprehension (must be list, map, or dynamic)`);
    let accu = this.expr(c.accuInit);
    this.scopes.push(new Map([[c.accuVar, accu]]));
    this.scopes.push(vars);
    this.expectBool(this.expr(c.loopCondition), 'loop condition');
    // `map` and `filter` start from an empty list: the step says what the elements are.
    const step = this.expr(c.loopStep);
    accu = join(accu, step);
    this.scopes.pop();
    this.scopes[this.scopes.length - 1].set(c.accuVar, accu);
    const result = this.expr(c.result);
    this.scopes.pop();
    return result;
  }

  private expectBool(t: CelT, what: string): void {
    if (t.kind !== 'bool' && t.kind !== 'dyn') this.fail(`${what} must be bool, found '${typeName(t)}'`);
  }

  private call(c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value']): CelT {
    const target = c.target ? this.expr(c.target) : undefined;
    const args = c.args.map((a) => this.expr(a));
    switch (c.function) {
      case '_&&_':
      case '_||_':
        args.forEach((a) => this.expectBool(a, `operand of ${c.function}`));
        return BOOL;
      case '@not_strictly_false':
      case '__not_strictly_false__':
        return BOOL;
      case '_?_:_':
        // Declared `(bool, A, A) -> A`: both branches one type.
        this.expectBool(args[0], 'condition');
        if (!comparable(args[1], args[2])) {
          this.fail(`found no matching overload for '_?_:_' applied to '(${typeName(args[0])}, ${typeName(args[1])}, ${typeName(args[2])})'`);
        }
        return join(args[1], args[2]);
      case '_==_':
      case '_!=_':
        if (!comparable(args[0], args[1])) {
          this.fail(`found no matching overload for '${c.function}' applied to '(${typeName(args[0])}, ${typeName(args[1])})'`);
        }
        return BOOL;
      case '_[_]': return this.index(args[0], args[1]);
      case '_[?_]':
      case '_?._':
        return this.fail(`undeclared reference to '${c.function}'`, `${c.function} (optional types)`);
    }
    return this.overload(c.function, target, args);
  }

  private index(on: CelT, at: CelT): CelT {
    if (on.kind === 'dyn') return DYN;
    if (on.kind === 'list' && assignable(INT, at)) return on.elem;
    if (on.kind === 'map' && assignable(on.key, at)) return on.value;
    return this.fail(`found no matching overload for '_[_]' applied to '(${typeName(on)}, ${typeName(at)})'`);
  }

  private overload(name: string, target: CelT | undefined, args: CelT[]): CelT {
    const group = this.env.funcs.find(name);
    const candidates = group ? [...group].filter((f) => (f.target !== undefined) === (target !== undefined)) : [];
    const signature = `${target ? `${typeName(target)}.` : ''}(${args.map(typeName).join(', ')})`;
    if (candidates.length === 0) {
      const how = target ? `member function '${name}'` : `function '${name}'`;
      return this.fail(`undeclared reference to ${how}`, `${name}${target ? ' (member)' : ''}`);
    }
    const matching = candidates.filter((f) => f.arguments.length === args.length
      && (!target || !f.target || assignable(fromBuf(f.target), target))
      && f.arguments.every((p, i) => assignable(fromBuf(p), args[i])));
    if (matching.length === 0) {
      return this.fail(`found no matching overload for '${name}' applied to '${signature}'`, `${name} on ${signature}`);
    }
    // Where several overloads fit a dyn argument, the result is what they agree on.
    const result = matching.map((f) => fromBuf(f.result)).reduce((a, b) => (typeName(a) === typeName(b) ? a : DYN));
    // List concatenation keeps the element type the operands share.
    if (name === '_+_' && result.kind === 'list' && args[0].kind === 'list' && args[1].kind === 'list') return join(args[0], args[1]);
    return result;
  }
}
