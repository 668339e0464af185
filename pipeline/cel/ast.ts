/**
 * Parsed CEL expressions in a compact JSON form, so that synthesis need not parse the rules: the
 * parser of @bufbuild/cel costs about 1 ms a rule in a fresh process (its first calls run cold),
 * most of what the CEL pass costs. scripts/crd-validations.ts stores each rule's expression this way
 * in imports/validations/; decodeExpr gives back the tree parse() gives (ids renumbered, source
 * positions left out: neither the checker nor plan() reads them).
 *
 *   ident ["i", name]   constant ["c", kind, value]   select ["s", operand, field, testOnly]
 *   call ["f", function, target | 0, args]   list ["l", elements, optionalIndices]
 *   map ["m", [[key, value, optional]]]   comprehension ["x", iterVar, iterVar2, range, accuVar, init, condition, step, result]
 */
import type { parse } from '@bufbuild/cel';

type Expr = NonNullable<ReturnType<typeof parse>['expr']>;
export type EncodedExpr = readonly unknown[];

/** A constant's value in JSON: int64 and uint64 as decimal strings, bytes as base64. */
function encodeConst(kind: string | undefined, value: unknown): unknown {
  if (kind === 'int64Value' || kind === 'uint64Value') return String(value);
  if (kind === 'bytesValue') return Buffer.from(value as Uint8Array).toString('base64');
  if (kind === 'nullValue') return 0;
  return value;
}

export function encodeExpr(e: Expr): EncodedExpr {
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr': return ['i', k.value.name];
    case 'constExpr': return ['c', k.value.constantKind.case, encodeConst(k.value.constantKind.case, k.value.constantKind.value)];
    case 'selectExpr': return ['s', encodeExpr(k.value.operand!), k.value.field, k.value.testOnly ? 1 : 0];
    case 'callExpr': return ['f', k.value.function, k.value.target ? encodeExpr(k.value.target) : 0, k.value.args.map(encodeExpr)];
    case 'listExpr': return ['l', k.value.elements.map(encodeExpr), k.value.optionalIndices];
    case 'structExpr': {
      if (k.value.messageName) throw new Error(`message construction (${k.value.messageName}) is not stored`);
      return ['m', k.value.entries.map((entry) => {
        if (entry.keyKind.case !== 'mapKey') throw new Error('field initializer outside a message');
        return [encodeExpr(entry.keyKind.value), encodeExpr(entry.value!), entry.optionalEntry ? 1 : 0];
      })];
    }
    case 'comprehensionExpr': {
      const c = k.value;
      return ['x', c.iterVar, c.iterVar2, encodeExpr(c.iterRange!), c.accuVar, encodeExpr(c.accuInit!), encodeExpr(c.loopCondition!),
        encodeExpr(c.loopStep!), encodeExpr(c.result!)];
    }
    default: throw new Error(`cannot store expression ${k.case ?? 'empty'}`);
  }
}

/** The expression tree of an encoded expression, as parse() gives it (with fresh ids). */
export function decodeExpr(encoded: EncodedExpr): Expr {
  let next = 0n;
  const node = (exprKind: unknown): Expr => ({ $typeName: 'cel.expr.Expr', id: ++next, exprKind } as unknown as Expr);
  const constant = (kind: string, v: unknown): unknown => {
    if (kind === 'int64Value' || kind === 'uint64Value') return BigInt(v as string);
    if (kind === 'bytesValue') return Uint8Array.from(Buffer.from(v as string, 'base64'));
    return v;
  };
  const walk = (x: EncodedExpr): Expr => {
    const [tag, ...a] = x as [string, ...unknown[]];
    switch (tag) {
      case 'i': return node({ case: 'identExpr', value: { $typeName: 'cel.expr.Expr.Ident', name: a[0] } });
      case 'c': return node({
        case: 'constExpr',
        value: { $typeName: 'cel.expr.Constant', constantKind: { case: a[0], value: constant(a[0] as string, a[1]) } },
      });
      case 's': return node({
        case: 'selectExpr', value: { $typeName: 'cel.expr.Expr.Select', operand: walk(a[0] as EncodedExpr), field: a[1], testOnly: a[2] === 1 },
      });
      case 'f': return node({
        case: 'callExpr',
        value: {
          $typeName: 'cel.expr.Expr.Call', function: a[0], target: a[1] === 0 ? undefined : walk(a[1] as EncodedExpr),
          args: (a[2] as EncodedExpr[]).map(walk),
        },
      });
      case 'l': return node({
        case: 'listExpr',
        value: { $typeName: 'cel.expr.Expr.CreateList', elements: (a[0] as EncodedExpr[]).map(walk), optionalIndices: a[1] },
      });
      case 'm': return node({
        case: 'structExpr',
        value: {
          $typeName: 'cel.expr.Expr.CreateStruct', messageName: '',
          entries: (a[0] as [EncodedExpr, EncodedExpr, number][]).map(([key, value, optional]) => ({
            $typeName: 'cel.expr.Expr.CreateStruct.Entry', id: ++next, keyKind: { case: 'mapKey', value: walk(key) }, value: walk(value),
            optionalEntry: optional === 1,
          })),
        },
      });
      case 'x': return node({
        case: 'comprehensionExpr',
        value: {
          $typeName: 'cel.expr.Expr.Comprehension', iterVar: a[0], iterVar2: a[1], iterRange: walk(a[2] as EncodedExpr), accuVar: a[3],
          accuInit: walk(a[4] as EncodedExpr), loopCondition: walk(a[5] as EncodedExpr), loopStep: walk(a[6] as EncodedExpr), result: walk(a[7] as EncodedExpr),
        },
      });
      default: throw new Error(`not an encoded CEL expression: ${JSON.stringify(x).slice(0, 80)}`);
    }
  };
  return walk(encoded);
}
