/**
 * test/support/alloy-syntax.ts, the port of Grafana Alloy v1.18.1's scanner and parser, checked
 * against upstream itself: its scanner's and parser's own test tables and test files, and the
 * configuration examples of its reference documentation for the loki.* and discovery.* components.
 * Then the collector configuration this project synthesizes: valid Alloy, every reference resolved,
 * and the labels it writes the ones charts/logging/log-streams.ts defines.
 *
 * Upstream's files are vendored in test/fixtures/alloy/ (test/support/alloy-upstream.ts writes them
 * from a clone of grafana/alloy at the tag the collector runs), so the comparison runs everywhere.
 * The tables below are ported from upstream's _test.go files.
 */
import { LOG_LABELS, LOG_METADATA } from '../charts/logging/log-streams';
import { environments } from '../environments/index';
import { resolveEnvironment } from '../environments/load';
import { buildModel } from '../environments/model/model';
import type { K8sObject } from '../pipeline/k8s-object';
import { argocdObjects, modelObjects } from '../pipeline/synth';
import {
  attribute, componentId, components, constantValue, findBlocks, formatDiagnostic, isValidIdentifier, parse, parseExpression, parseFile, references,
  scanTokens, unquote, unresolvedReferences, type Diagnostic, type Expr, type TokenKind,
} from './support/alloy-syntax';
import { ALLOY_FIXTURE, ALLOY_TAG, loadAlloyUpstream, type Fence } from './support/alloy-upstream';
import { REPOSITORY_ROOT } from './support/fixtures';
import { only } from './support/synth-construct';

const UPSTREAM = loadAlloyUpstream();
const show = (path: string): string => {
  const text = UPSTREAM.parserTestdata[path];
  if (text === undefined) throw new Error(`${path} is not in ${ALLOY_FIXTURE}`);
  return text;
};
const listFiles = (dir: string): string[] => Object.keys(UPSTREAM.parserTestdata).filter((f) => f.startsWith(`${dir}/`)).sort();

const messages = (src: string): string[] => parse(src).diagnostics.map((d) => formatDiagnostic(d));

describe('the scanner (syntax/scanner/scanner_test.go)', () => {
  // TestScanner_Scan's tokens, each followed by the same whitespace: kind, source, literal scanned.
  const tokens: [TokenKind, string, string][] = [
    // No CRs in a comment's literal but one right before a block comment's closing "*/"; a line comment's ends before its newline.
    ['COMMENT', '/* a comment */', '/* a comment */'], ['COMMENT', '// a comment \n', '// a comment '], ['COMMENT', '/*\r*/', '/**/'],
    ['COMMENT', '/**\r/*/', '/**\r/*/'], ['COMMENT', '/**\r\r/*/', '/**\r/*/'], ['COMMENT', '//\r\n', '//'],
    ...(['foobar', 'a۰۱۸', 'foo६४', 'bar９８７６', 'ŝ', 'ŝfoo'].map((lit) => ['IDENT', lit, lit] as [TokenKind, string, string])),
    ...(['0', '1', '123456789012345678890', '01234567'].map((lit) => ['NUMBER', lit, lit] as [TokenKind, string, string])),
    ...(['0.', '.0', '3.14159265', '1e0', '1e+100', '1e-100', '2.71828e-1000'].map((lit) => ['FLOAT', lit, lit] as [TokenKind, string, string])),
    ['STRING', '"Hello, world!"', '"Hello, world!"'], ['STRING', '`Hello, world!\\\\`', '`Hello, world!\\\\`'],
    ...(['+', '-', '*', '/', '%', '^', '&&', '||', '==', '<', '>', '=', '!', '!=', '<=', '>=', '(', '[', '{', ',', '.', ')', ']', '}']
      .map((op) => [op, op, ''] as [TokenKind, string, string])),
    ['NULL', 'null', 'null'], ['BOOL', 'true', 'true'], ['BOOL', 'false', 'false'],
  ];
  const whitespace = '  \t  \n\n\n';

  test('every token, its literal and its position (offset, line and column in bytes)', () => {
    const source = tokens.map(([, src]) => src + whitespace).join('');
    const { tokens: scanned, diagnostics } = scanTokens(source, { includeComments: true, insertTerminators: false });
    expect(diagnostics).toEqual([]);
    expect(scanned.map((t) => [t.tok, t.lit])).toEqual([...tokens.map(([tok, , lit]) => [tok, lit]), ['EOF', '']]);
    let offset = 0; let line = 1;
    tokens.forEach(([, src], i) => {
      expect(scanned[i].pos).toEqual({ offset, line, column: 1 });
      offset += Buffer.byteLength(src) + whitespace.length;
      line += [...src].filter((c) => c === '\n').length + 3;
    });
  });

  // TestScanner_Scan_Errors: input, its first token, the offset of the (only) error, the literal, the message.
  test.each<[string | Buffer, TokenKind, number, string, string]>([
    ['\x07', 'ILLEGAL', 0, '', 'illegal character U+0007'],
    ['…', 'ILLEGAL', 0, '', 'illegal character U+2026 \'…\''],
    ['..', '.', 0, '', ''],
    ['\'illegal string\'', 'ILLEGAL', 0, '', 'illegal single-quoted string; use double quotes'],
    ['""', 'STRING', 0, '""', ''],
    ['"abc', 'STRING', 0, '"abc', 'string literal not terminated'],
    ['"abc\n', 'STRING', 0, '"abc', 'string literal not terminated'],
    ['"abc\n   ', 'STRING', 0, '"abc', 'string literal not terminated'],
    ['"abc\x00def"', 'STRING', 4, '"abc\x00def"', 'illegal character NUL'],
    [Buffer.from('"abc\x80def"', 'latin1'), 'STRING', 4, '"abc\ufffddef"', 'illegal UTF-8 encoding'],
    ['\ufeff\ufeff', 'ILLEGAL', 3, '\ufeff\ufeff', 'illegal byte order mark'],
    ['//\ufeff', 'COMMENT', 2, '//\ufeff', 'illegal byte order mark'],
    ['"abc\ufeffdef"', 'STRING', 4, '"abc\ufeffdef"', 'illegal byte order mark'],
    ['abc\x00def', 'IDENT', 3, 'abc', 'illegal character NUL'],
    ['abc\x00', 'IDENT', 3, 'abc', 'illegal character NUL'],
    ['10E', 'FLOAT', 0, '10E', 'exponent has no digits'],
  ])('%j scans as %s', (input, tok, offset, lit, message) => {
    const { tokens: [first], diagnostics } = scanTokens(input, { includeComments: true, insertTerminators: false, maxTokens: 1 });
    expect(first.tok).toBe(tok);
    if (tok !== 'ILLEGAL') expect(first.lit).toBe(lit);
    if (message === '') expect(diagnostics).toEqual([]);
    else expect(diagnostics).toEqual([{ pos: expect.objectContaining({ offset }), message }]);
  });

  test('a terminator is inserted at the end of a line after an identifier, literal, ")", "]" or "}", and before a comment that ends the line', () => {
    const kinds = (src: string) => scanTokens(src, { includeComments: true }).tokens.map((t) => t.tok);
    expect(kinds('a = 1 // one\nb')).toEqual(['IDENT', '=', 'NUMBER', 'TERMINATOR', 'COMMENT', 'IDENT', 'TERMINATOR', 'EOF']);
    expect(kinds('a = [\n1,\n]\n')).toEqual(['IDENT', '=', '[', 'NUMBER', ',', ']', 'TERMINATOR', 'EOF']);
    expect(kinds('a = 1 /* one */ + 2\n')).toEqual(['IDENT', '=', 'NUMBER', 'COMMENT', '+', 'NUMBER', 'TERMINATOR', 'EOF']);
  });

  test('identifiers are letters (any script), digits and underscores, not starting with a digit', () => {
    expect(['pods', '_x', 'a1', 'ŝfoo', 'café'].every(isValidIdentifier)).toBe(true);
    expect(['1a', 'with space', 'a-b', 'a.b', '', 'true', 'null'].some(isValidIdentifier)).toBe(false);
  });
});

describe('literal values (strconv.Unquote, strconv.ParseInt with base 0)', () => {
  test.each([
    ['"Hello, world!"', 'Hello, world!'],
    ['"tab\\tnewline\\n quote\\" backslash\\\\"', 'tab\tnewline\n quote" backslash\\'],
    ['"\\u00e9\\U0001F600\\x41\\101"', 'é😀AA'],
    ['"\\xc3\\xa9"', 'é'],
    ['`raw \\n\r\nstring`', 'raw \\n\nstring'],
  ])('%s is %j', (raw, value) => {
    expect(constantValue(parseExpression(raw))).toBe(value);
  });

  test('numbers, bools, null, arrays, objects, negation', () => {
    expect(constantValue(parseExpression('[1, 1.5, -2, 010, 08, true, !true, null, { a = "b", "c d" = [] }]')))
      .toEqual([1, 1.5, -2, 8, 8, true, false, null, { a: 'b', 'c d': [] }]);
  });

  test('anything that needs evaluating has no constant value', () => {
    for (const src of ['a', 'sys.env("HOSTNAME")', '1 + 2', '[1, a]', '{ a = b }', 'x[0]']) expect(constantValue(parseExpression(src))).toBeUndefined();
  });

  test('an escape Go does not have is refused, \\\' included', () => {
    expect(() => unquote('"\\q"')).toThrow();
    expect(() => unquote('"\\\'"')).toThrow();
  });
});

describe('expressions (syntax/parser/parser_test.go TestParseExpressions)', () => {
  test.each([
    '10', '15.0', '"Hello, world!"', 'some_ident', 'null', 'true', 'false',
    '[]', '[1]', '[0, 1, 2, 3]', '[0, 1, 2, 3,]', '[[0, 1, 2], [3, 4, 5]]', '[\n\t\t\t0,\n\t\t\t1, \n\t\t\t2,\n\t\t]',
    '{}', '{ field_a = 5 }', '{ field_a = 5, field_b = 10 }', '{ field_a = 5, field_b = 10, }', '{ field_a = { nested_field = 100 } }',
    '{\n\t\t\tfield_a = 5,\n\t\t\tfield_b = 10,\n\t\t}',
    '!true', '-5', '1 + 2 - 3 * 4 / 5 % 6', '1 == 2 != 3 < 4 > 5 <= 6 >= 7', 'true || false && true', '1 ^ 2 ^ 3',
    'a.b.c.d', 'a[0][1][2]', 'a()', 'a(1)', 'a(1,2,3)', 'a(1,2,3,)', 'a(\n\t\t\t1,\n\t\t\t2,\n\t\t\t3,\n\t\t)',
    '(1 + 5) * 100', '(a.b.c)(1, 3 * some_list[magic_index * 2]).resulting_field',
  ])('%j', (src) => {
    expect(() => parseExpression(src)).not.toThrow();
  });

  /** The expression with its structure in parentheses. */
  const shape = (e: Expr): string => {
    switch (e.type) {
      case 'binary': return `(${shape(e.left)} ${e.op} ${shape(e.right)})`;
      case 'unary': return `(${e.op}${shape(e.value)})`;
      case 'literal': return e.raw;
      case 'identifier': return e.ident.name;
      case 'access': return `${shape(e.value)}.${e.name.name}`;
      case 'index': return `${shape(e.value)}[${shape(e.index)}]`;
      case 'call': return `${shape(e.value)}(${e.args.map(shape).join(', ')})`;
      case 'paren': return `<${shape(e.inner)}>`;
      default: return e.type;
    }
  };

  test.each([
    ['1 + 2 * 3 ^ 2 ^ 2', '(1 + (2 * (3 ^ (2 ^ 2))))'],
    ['1 - 2 - 3', '((1 - 2) - 3)'],
    ['a || b && c == d + e * -f', '(a || (b && (c == (d + (e * (-f))))))'],
    ['!a.b[0](c) != null', '((!a.b[0](c)) != null)'],
    ['(1 + 2) % 3 >= 0', '((<(1 + 2)> % 3) >= 0)'],
  ])('%s groups as %s (token.go precedences; ^ right-associative)', (src, grouped) => {
    expect(shape(parseExpression(src))).toBe(grouped);
  });
});

/**
 * Upstream's error harness (syntax/parser/error_test.go): a comment `/* ERROR "rx" *\/` right after
 * a token expects an error matching rx at that token; `/* ERROR HERE "rx" *\/` just after it.
 */
function checkErrorComments(src: string): { unexpected: string[]; missing: string[]; matched: number } {
  const expected = new Map<number, string>();
  let prev = 0; let here = 0;
  for (const t of scanTokens(src, { includeComments: true }).tokens) {
    if (t.tok === 'EOF') break;
    if (t.tok === 'COMMENT') {
      const m = /^\/\* *ERROR *(HERE)? *"([^"]*)" *\*\/$/.exec(t.lit);
      if (m) expected.set(m[1] === 'HERE' ? here : prev, m[2]);
    } else if (t.tok !== 'TERMINATOR') {
      prev = t.pos.offset;
      here = prev + Buffer.byteLength(['IDENT', 'NUMBER', 'FLOAT', 'STRING'].includes(t.tok) ? t.lit : t.tok);
    }
  }
  const unexpected: string[] = [];
  let matched = 0;
  for (const d of parse(src).diagnostics) {
    const rx = expected.get(d.pos.offset);
    if (rx !== undefined && new RegExp(rx).test(d.message)) {
      expected.delete(d.pos.offset);
      matched++;
    } else unexpected.push(formatDiagnostic(d));
  }
  return { unexpected, missing: [...expected].map(([offset, rx]) => `offset ${offset}: ${rx}`), matched };
}

describe(`upstream's parser test files (syntax/parser/testdata at ${ALLOY_TAG})`, () => {
  const files = listFiles('syntax/parser/testdata');
  const errorFiles = files.filter((f) => /^syntax\/parser\/testdata\/[^/]+\.alloy$/.test(f));
  const validFiles = files.filter((f) => f.startsWith('syntax/parser/testdata/valid/'));

  test('there are files of both kinds (a moved folder must not pass by testing nothing)', () => {
    expect(errorFiles.length).toBeGreaterThanOrEqual(6);
    expect(validFiles.length).toBeGreaterThanOrEqual(5);
  });

  test.each(errorFiles)('%s: every expected error at its position, and no other', (file) => {
    const result = checkErrorComments(show(file));
    expect(result).toEqual({ unexpected: [], missing: [], matched: expect.any(Number) });
    expect(result.matched).toBeGreaterThan(0);
  });

  test.each(validFiles)('%s parses without errors', (file) => {
    expect(messages(show(file))).toEqual([]);
  });
});

describe('errors say where and what was expected', () => {
  test('an unclosed block: at the end of the input, a "}" expected', () => {
    expect(messages('loki.write "default" {\n  endpoint {\n    url = "http://loki:3100/loki/api/v1/push"\n  }\n'))
      .toEqual(['5:1: expected }, got EOF']);
  });

  test('a missing "=": a string after a name reads as a block label, then a block body is expected', () => {
    expect(messages('discovery.kubernetes "pods" {\n  role "pod"\n}\n'))
      .toEqual(['2:13: expected block body, got TERMINATOR', '4:1: expected TERMINATOR, got EOF']);
    expect(messages('loki.source.file "pods" {\n  targets    = []\n  forward_to [loki.write.default.receiver]\n}\n'))
      .toEqual(['3:14: expected block label, got [']);
  });

  test('a bad escape in a string: at the character after the backslash', () => {
    expect(messages('loki.write "default" {\n  endpoint {\n    url = "C:\\loki"\n  }\n}\n')).toEqual(['3:15: unknown escape sequence']);
    expect(messages('a = "\\x4"\n')).toEqual(['1:7: illegal character U+0022 \'"\' in escape sequence']);
    expect(messages('a = "\\uD800"\n')).toEqual(['1:7: escape sequence is invalid Unicode code point']);
  });

  test('two labels: the second where the block body should start', () => {
    expect(messages('loki.process "pods" "audit" {\n  forward_to = []\n}\n')[0]).toBe('1:21: expected block body, got STRING');
  });

  test('a label must be a double-quoted identifier; an attribute has one name and no label', () => {
    expect(messages('loki.process "my pods" {\n}\n')).toEqual(['1:14: expected block label to be a valid identifier, but got "my pods"']);
    expect(messages('loki.process `pods` {\n}\n')).toEqual(['1:14: expected block label to be a double quoted string, but got "`pods`"']);
    expect(messages('a.b = 1\n')).toEqual(['1:1: attribute names may only consist of a single identifier with no "."']);
    expect(messages('a "b" = 1\n')).toEqual(['1:3: attribute names may not have labels']);
  });

  test('a missing comma before the line ends in a list or an object (trailing commas are allowed)', () => {
    expect(messages('a = [\n  1,\n  2\n]\n')).toEqual(['3:4: missing \',\' in expression list']);
    expect(messages('a = {\n  b = 1\n}\n')).toEqual(['2:8: missing \',\' in field list']);
    expect(messages('a = [\n  1,\n  2,\n]\nb = { c = 1, }\n')).toEqual([]);
  });

  test('a block where an expression belongs, and # comments', () => {
    expect(messages('rw = prometheus.remote_write "x" {\n  url = "y"\n}\n')).toEqual(['1:6: cannot use a block as an expression']);
    expect(messages('# not a comment\n')[0]).toBe('1:1: illegal character U+0023 \'#\'');
  });

  test('parseFile throws all of them, each as line:column: message', () => {
    expect(() => parseFile('a = 1 2\nb = [1 2]\n', 'config.alloy')).toThrow(
      'config.alloy:1:7: expected TERMINATOR, got NUMBER\nconfig.alloy:2:8: missing \',\' in expression list',
    );
    // No terminator after "=": the next line goes on with the expression (one error a line at most).
    expect(messages('a =\nb = 1\n')).toEqual(['2:3: expected TERMINATOR, got =']);
  });
});

describe('the AST and its helpers', () => {
  const src = `// Comments of both kinds /* are */ ignored.
logging {
  level = "info"
}

discovery.kubernetes "pods" {
  role = "pod"
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
}

loki.process "pods" {
  forward_to = [loki.write.audit.receiver, loki.write.default.receiver]
  stage.json {
    expressions = { level = "lvl", "trace id" = "trace.id", }
  }
  stage.static_labels {
    values = { host = coalesce(sys.env("HOSTNAME"), constants.hostname), zone = env("ZONE") }
  }
}

loki.write "audit" {
  endpoint { url = string.format("http://%s/push", sys.env("LOKI")) }
}
`;
  const file = parseFile(src);

  test('top-level blocks with their dotted names and labels; nested blocks and attributes in their bodies', () => {
    expect(components(file).map(({ name, label }) => ({ name, label }))).toEqual([
      { name: 'logging', label: undefined },
      { name: 'discovery.kubernetes', label: 'pods' },
      { name: 'discovery.relabel', label: 'pods' },
      { name: 'loki.process', label: 'pods' },
      { name: 'loki.write', label: 'audit' },
    ]);
    const [json] = findBlocks(file, 'stage.json');
    expect(json.fragments).toEqual(['stage', 'json']);
    expect(json.pos).toEqual({ offset: src.indexOf('stage.json'), line: 20, column: 3 });
    expect(constantValue(attribute(json, 'expressions')!)).toEqual({ level: 'lvl', 'trace id': 'trace.id' });
    expect(file.comments).toHaveLength(1);
  });

  test('references: every traversal of identifiers and fields, ended by a call or an index', () => {
    expect(references(file).map((r) => r.name)).toEqual([
      'discovery.kubernetes.pods.targets',
      'loki.write.audit.receiver', 'loki.write.default.receiver',
      'coalesce', 'sys.env', 'constants.hostname', 'env',
      'string.format', 'sys.env',
    ]);
    expect(references(parseFile('a = x.y[0].z\nb = f(g).h\n')).map((r) => r.name)).toEqual(['x.y', 'f', 'g.h']);
  });

  test('unresolved references: those naming no component (name and label) and nothing of the stdlib', () => {
    expect(unresolvedReferences(file).map((r) => `${r.pos.line}:${r.pos.column} ${r.name}`)).toEqual(['19:44 loki.write.default.receiver']);
    expect(unresolvedReferences(parseFile('a = sys.nope("X")\nb = nope.x\nc = constants.os\nd = json_path\n')).map((r) => r.name))
      .toEqual(['sys.nope', 'nope.x']);
    // A label is part of a component's ID: "loki.write" alone is no component when it has a label.
    expect(unresolvedReferences(parseFile('loki.write "a" {}\nx { y = loki.write.receiver }\n')).map((r) => r.name)).toEqual(['loki.write.receiver']);
  });

  test('a declare block is a scope of its own; a foreach template sees its var', () => {
    const scoped = parseFile(`declare "d" {
  argument "in" {}
  loki.process "p" { forward_to = argument.in.value }
  export "out" { value = loki.process.p.receiver }
}
foreach "f" {
  collection = [1]
  var        = "each"
  template {
    x { y = each }
  }
}
z { w = loki.process.p.receiver }
`);
    expect(unresolvedReferences(scoped).map((r) => r.name)).toEqual(['loki.process.p.receiver']);
  });
});


/** The docs' placeholders (`"<LABEL>"`, `<RECEIVER_LIST>`) as identifiers, and their elisions (`...`) dropped. */
const fillTemplate = (text: string): string => text.replace(/<([A-Z][A-Z0-9_]*)>/g, '$1').replace(/,?[ \t]*\.\.\.(?=[ \t]*[\]\n])/g, '');

/**
 * Examples that open with the log line(s) they are about, which are not Alloy: the Alloy after the
 * first blank line is parsed, and the lines before it are checked not to be Alloy. Two also end
 * with the values extracted (`time: …`), after their last blank line.
 */
const OPENS_WITH_LOG_LINES: Readonly<Record<string, readonly number[]>> = {
  'loki/loki.process.md': [334, 421, 518, 695, 739, 757, 798, 1107, 1205, 1222, 1255, 1309, 1326, 1352, 1400, 1419, 1455],
};
const ENDS_WITH_EXTRACTED_VALUES: Readonly<Record<string, readonly number[]>> = { 'loki/loki.process.md': [1205, 1309] };

/**
 * The references of the examples (as written) that name nothing the example declares: components
 * the page leaves out, and a usage template's bare placeholders. Everything else resolves, the
 * stdlib's functions included.
 */
const UNRESOLVED_IN_DOCS: Readonly<Record<string, readonly string[]>> = {
  'loki/loki.process.md:1954': ['loki.write.default.receiver'],
  'loki/loki.process.md:2021': ['loki.write.default.receiver'],
  'loki/loki.process.md:2100': ['loki.write.onprem.receiver'],
  'loki/loki.relabel.md:100': ['loki.write.onprem.receiver'],
  'loki/loki.secretfilter.md:165': ['loki.write.local_loki.receiver'],
  'loki/loki.source.cloudflare.md:246': ['local.file.api.content'],
  'loki/loki.source.docker.md:21': ['HOST', 'TARGET_LIST', 'RECEIVER_LIST'],
};

/** Examples that are not valid Alloy as published: upstream's parser rejects them with these errors. */
const INVALID_UPSTREAM: Readonly<Record<string, { readonly why: string; readonly errors: readonly string[] }>> = {
  'discovery/discovery.relabel.md:101': {
    why: '`#` comments, which Alloy does not have (only // and /* */)',
    errors: ['8:3: illegal character U+0023 \'#\'', '8:3: expected identifier, got ILLEGAL', '16:3: illegal character U+0023 \'#\'',
      '16:3: expected identifier, got ILLEGAL', '23:3: illegal character U+0023 \'#\'', '23:3: expected identifier, got ILLEGAL'],
  },
  'loki/loki.enrich.md:69': {
    why: 'a multi-line object whose last field has no trailing comma (as upstream\'s syntax/parser/testdata/commas.alloy shows, an error)',
    errors: ['41:27: missing \',\' in field list'],
  },
};

describe(`the examples of the loki.* and discovery.* reference docs at ${ALLOY_TAG}`, () => {
  const fences = UPSTREAM.docsFences;
  const key = (f: Fence) => `${f.file}:${f.line}`;
  const logLines = (f: Fence) => OPENS_WITH_LOG_LINES[f.file]?.includes(f.line) ?? false;
  const asWritten = fences.filter((f) => !logLines(f) && !(key(f) in INVALID_UPSTREAM) && parse(f.text).diagnostics.length === 0);
  const templates = fences.filter((f) => !logLines(f) && !(key(f) in INVALID_UPSTREAM) && !asWritten.includes(f));

  test('all of them are found: 190 fences in 55 pages', () => {
    expect(fences).toHaveLength(190);
    expect(new Set(fences.map((f) => f.file)).size).toBe(55);
    // 116 parse as written, 55 templates once their placeholders are filled, 17 after their sample
    // log lines are set aside, and 2 are invalid as published.
    expect([asWritten.length, templates.length, fences.filter(logLines).length, Object.keys(INVALID_UPSTREAM).length]).toEqual([116, 55, 17, 2]);
  });

  test('the ones that do not parse as written are templates: with placeholders filled, they parse', () => {
    const failing = templates.map((f) => ({ at: key(f), errors: parse(fillTemplate(f.text)).diagnostics.map((d) => formatDiagnostic(d)) }))
      .filter((r) => r.errors.length > 0);
    expect(failing).toEqual([]);
    // A template has a placeholder or an elision to fill, and the first error was on a line with one.
    for (const f of templates) {
      const first = parse(f.text).diagnostics[0] as Diagnostic;
      expect({ at: key(f), line: f.text.split('\n')[first.pos.line - 1] }).toEqual({ at: key(f), line: expect.stringMatching(/<[A-Z][A-Z0-9_]*>|\.\.\./) });
    }
  });

  test('the ones that open with a sample log line: the lines before the first blank line are not Alloy, the rest parses', () => {
    const listed = Object.entries(OPENS_WITH_LOG_LINES).flatMap(([file, lines]) => lines.map((line) => `${file}:${line}`)).sort();
    expect(fences.filter(logLines).map(key).sort()).toEqual(listed);
    for (const f of fences.filter(logLines)) {
      const start = f.text.indexOf('\n\n') + 2;
      const end = ENDS_WITH_EXTRACTED_VALUES[f.file]?.includes(f.line) ? f.text.lastIndexOf('\n\n') + 1 : f.text.length;
      const notAlloy = [f.text.slice(0, start), f.text.slice(end)].filter((t) => t.trim() !== '');
      expect({ at: key(f), notAlloyParses: notAlloy.map((t) => parse(t).diagnostics.length === 0) })
        .toEqual({ at: key(f), notAlloyParses: notAlloy.map(() => false) });
      expect({ at: key(f), errors: messages(f.text.slice(start, end)) }).toEqual({ at: key(f), errors: [] });
    }
  });

  test.each(Object.entries(INVALID_UPSTREAM))('excluded: %s, %j', (at, { errors }) => {
    const fence = fences.find((f) => key(f) === at);
    expect(fence).toBeDefined();
    expect(messages(fence!.text)).toEqual(errors);
  });

  test('the references of an example resolve within it, but for components the page leaves out', () => {
    const unresolved = Object.fromEntries(asWritten.map((f) => [key(f), unresolvedReferences(parseFile(f.text)).map((r) => r.name)])
      .filter(([, refs]) => refs.length > 0));
    expect(unresolved).toEqual(UNRESOLVED_IN_DOCS);
    // Among those that resolve, the stdlib's (the examples call these).
    const called = new Set(asWritten.flatMap((f) => references(parseFile(f.text)).map((r) => r.name)));
    expect([...called].filter((n) => /^(sys|constants|coalesce)\b/.test(n)).sort()).toEqual(expect.arrayContaining(['coalesce', 'sys.env']));
  });
});

describe('the collector configuration this project synthesizes', () => {
  /** The Alloy configuration in the alloy Application's values, as Argo CD passes them to the chart. */
  const configOf = (objects: readonly K8sObject[]): string =>
    ((only(objects, 'Application', 'alloy').spec as { source: { helm: { valuesObject: { alloy: { configMap: { content: string } } } } } })
      .source.helm.valuesObject.alloy.configMap.content);
  const configs = environments.map((def) => {
    const model = buildModel(resolveEnvironment(def, REPOSITORY_ROOT));
    return [def.name, configOf(argocdObjects(model, modelObjects(model)))] as const;
  });

  test.each(configs)('%s: valid Alloy', (_name, config) => {
    expect(messages(config)).toEqual([]);
  });

  test.each(configs)('%s: every reference names a component it declares, or the stdlib', (_name, config) => {
    const file = parseFile(config);
    expect(references(file).length).toBeGreaterThan(0);
    expect(unresolvedReferences(file).map((r) => `${r.pos.line}:${r.pos.column} ${r.name}`)).toEqual([]);
    // The check finds a reference gone wrong in this very configuration.
    const receiver = references(file).find((r) => r.name.endsWith('.receiver'))!;
    const broken = config.replace(receiver.name, receiver.name.replace(/\.receiver$/, '_typo.receiver'));
    expect(unresolvedReferences(parseFile(broken)).map((r) => r.name)).toEqual([receiver.name.replace(/\.receiver$/, '_typo.receiver')]);
    // Every labelled component but the sources is referenced: one nothing reads from would be dead configuration.
    const names = references(file).map((r) => `${r.name}.`);
    const unread = components(file).filter((c) => c.label !== undefined && !c.name.startsWith('loki.source.'))
      .map(componentId).filter((id) => !names.some((n) => n.startsWith(`${id}.`)));
    expect(unread).toEqual([]);
  });

  test.each(configs)('%s: the labels it writes are log-streams.ts\'s labels and metadata (or Alloy\'s reserved __ labels)', (_name, config) => {
    const file = parseFile(config);
    const known = new Set<string>([...Object.values(LOG_LABELS), ...Object.values(LOG_METADATA)]);
    const targetLabels = findBlocks(file, 'discovery.relabel').flatMap((b) => findBlocks(b.body, 'rule'))
      .map((rule) => attribute(rule, 'target_label')).filter((e): e is Expr => e !== undefined).map(constantValue);
    expect(targetLabels.length).toBeGreaterThan(0);
    for (const label of targetLabels) {
      expect(typeof label).toBe('string');
      if (!(label as string).startsWith('__')) expect([...known]).toContain(label);
    }
    const staticLabels = findBlocks(file, 'stage.static_labels').flatMap((b) => {
      const values = attribute(b, 'values');
      return values?.type === 'object' ? values.fields.map((f) => f.name.name) : [];
    });
    expect(staticLabels.length).toBeGreaterThan(0);
    for (const label of staticLabels) expect(Object.values(LOG_LABELS)).toContain(label);
  });
});
