/**
 * Grafana Alloy's configuration syntax, read the way Alloy reads it, for tests: the Alloy binary
 * does not run on this machine (no Debian package), so the collector configuration the project
 * generates is proved valid Alloy by this port of upstream's own scanner and parser, and its
 * component references are resolved the way Alloy's loader resolves them.
 *
 * Ported from grafana/alloy v1.18.1, file by file, keeping upstream's structure, messages and error
 * recovery so that a message and its position are the ones `alloy fmt` / `alloy run` would report:
 * - syntax/token/token.go: the tokens, their names (they appear in messages) and precedences;
 * - syntax/token/file.go: positions (1-based line, 1-based column counted in bytes, as Go does);
 * - syntax/scanner/scanner.go: the scanner, with its automatic insertion of terminators at line ends;
 * - syntax/parser/internal.go: the recursive-descent parser (EBNF repeated on each method);
 * - syntax/ast/ast.go, walk.go: the AST and its start positions;
 * - syntax/internal/transform/value.go: literal values (strconv.Unquote, strconv.ParseInt/ParseFloat);
 * - syntax/internal/stdlib/stdlib.go, constants.go: the standard library's identifiers;
 * - internal/util/ast/references.go: which traversals an expression makes (`a.b.c`), and how a
 *   traversal is resolved against the components (the shortest prefix naming a node);
 * - internal/runtime/internal/controller/component_references.go, node_builtin_component.go:
 *   a component's ID (name fragments and label), references that fall back to the stdlib.
 * What it does not do: evaluate expressions, or check a component's arguments against its schema
 * (that needs the component registry of the binary).
 */

/** syntax/token/token.go: a token is named by upstream's `Token.String()`, which messages quote. */
export type TokenKind =
  | 'ILLEGAL' | 'EOF' | 'COMMENT' | 'IDENT' | 'NUMBER' | 'FLOAT' | 'STRING' | 'BOOL' | 'NULL'
  | '||' | '&&' | '!' | '=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '^'
  | '{' | '}' | '(' | ')' | '[' | ']' | ',' | '.' | 'TERMINATOR';

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '^';
export type UnaryOperator = '!' | '-';

/** token.Token.BinaryPrecedence: 0 for a token that is no binary operator. */
function binaryPrecedence(tok: TokenKind): number {
  switch (tok) {
    case '||': return 1;
    case '&&': return 2;
    case '==': case '!=': case '<': case '<=': case '>': case '>=': return 3;
    case '+': case '-': return 4;
    case '*': case '/': case '%': return 5;
    case '^': return 6;
    default: return 0;
  }
}

/** token.Lookup: the keywords; any other identifier is an IDENT. */
function lookup(ident: string): TokenKind {
  if (ident === 'true' || ident === 'false') return 'BOOL';
  if (ident === 'null') return 'NULL';
  return 'IDENT';
}

/** token.Position: offset in bytes from the start; line and column 1-based, the column in bytes. */
export interface Position {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** diag.Diagnostic (errors only: the parser reports no warnings). */
export interface Diagnostic {
  readonly pos: Position;
  readonly message: string;
}

/** diag.Diagnostic.Error() with no file name: `line:column: message`. */
export function formatDiagnostic(d: Diagnostic, filename = ''): string {
  return `${filename ? `${filename}:` : ''}${d.pos.line}:${d.pos.column}: ${d.message}`;
}

// ---------------------------------------------------------------------------------------------
// AST (syntax/ast/ast.go). Nodes carry `type` where upstream has a Go type.

export interface Ident { readonly name: string; readonly pos: Position }

export interface IdentifierExpr { readonly type: 'identifier'; readonly ident: Ident }
export interface LiteralExpr {
  readonly type: 'literal';
  readonly kind: 'STRING' | 'NUMBER' | 'FLOAT' | 'BOOL' | 'NULL';
  /** The literal as written: a string keeps its quotes. */
  readonly raw: string;
  readonly pos: Position;
}
export interface ArrayExpr { readonly type: 'array'; readonly elements: Expr[]; readonly pos: Position }
export interface ObjectField {
  /** Upstream strips a quoted key's quotes without unquoting it (parseField). */
  readonly name: Ident;
  readonly quoted: boolean;
  readonly value: Expr;
}
export interface ObjectExpr { readonly type: 'object'; readonly fields: ObjectField[]; readonly pos: Position }
export interface AccessExpr { readonly type: 'access'; readonly value: Expr; readonly name: Ident }
export interface IndexExpr { readonly type: 'index'; readonly value: Expr; readonly index: Expr }
export interface CallExpr { readonly type: 'call'; readonly value: Expr; readonly args: Expr[] }
export interface UnaryExpr { readonly type: 'unary'; readonly op: UnaryOperator; readonly pos: Position; readonly value: Expr }
export interface BinaryExpr { readonly type: 'binary'; readonly op: BinaryOperator; readonly opPos: Position; readonly left: Expr; readonly right: Expr }
export interface ParenExpr { readonly type: 'paren'; readonly inner: Expr; readonly pos: Position }

export type Expr =
  | IdentifierExpr | LiteralExpr | ArrayExpr | ObjectExpr | AccessExpr | IndexExpr | CallExpr | UnaryExpr | BinaryExpr | ParenExpr;

export interface AttributeStmt { readonly type: 'attribute'; readonly name: Ident; readonly value: Expr }
export interface BlockStmt {
  readonly type: 'block';
  /** The dotted name, `loki.process`. */
  readonly name: string;
  /** Its identifiers, `['loki', 'process']` (upstream's `Name []string`). */
  readonly fragments: string[];
  readonly pos: Position;
  /** The label without its quotes; undefined when the block has none. */
  readonly label: string | undefined;
  readonly body: Stmt[];
}
export type Stmt = AttributeStmt | BlockStmt;

export interface Comment { readonly text: string; readonly pos: Position }

export interface AlloyFile {
  readonly body: Stmt[];
  /** Comment groups (adjacent comments), as upstream's parser collects them. */
  readonly comments: Comment[][];
}

/** ast.StartPos of an expression. */
export function startPos(expr: Expr): Position {
  switch (expr.type) {
    case 'identifier': return expr.ident.pos;
    case 'access': case 'index': case 'call': return startPos(expr.value);
    case 'binary': return startPos(expr.left);
    default: return expr.pos;
  }
}

// ---------------------------------------------------------------------------------------------
// Scanner (syntax/scanner/scanner.go), over the UTF-8 bytes as upstream's is.

const EOF_CH = -1;
const BOM = 0xfeff;
const RUNE_ERROR = 0xfffd;

/** utf8.DecodeRune: an invalid or short sequence is (RuneError, 1). */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i];
  if (b0 < 0x80) return [b0, 1];
  let need: number; let cp: number; let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; min = 0x80; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { need = 2; cp = b0 & 0x0f; min = 0x800; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { need = 3; cp = b0 & 0x07; min = 0x10000; }
  else return [RUNE_ERROR, 1];
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if (c === undefined || (c & 0xc0) !== 0x80) return [RUNE_ERROR, 1];
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [RUNE_ERROR, 1];
  return [cp, need + 1];
}

const lower = (ch: number): number => (0x20 | ch);
const isDecimal = (ch: number): boolean => ch >= 0x30 && ch <= 0x39;
/** unicode.IsLetter / unicode.IsDigit (Nd) for non-ASCII runes. */
const isLetter = (ch: number): boolean =>
  (lower(ch) >= 0x61 && lower(ch) <= 0x7a) || ch === 0x5f || (ch >= 0x80 && /\p{L}/u.test(String.fromCodePoint(ch)));
const isDigit = (ch: number): boolean => isDecimal(ch) || (ch >= 0x80 && /\p{Nd}/u.test(String.fromCodePoint(ch)));

/** Go's `%#U`: `U+2026 '…'`, the character only when printable (strconv.IsPrint). */
function formatRune(ch: number): string {
  const code = `U+${ch.toString(16).toUpperCase().padStart(4, '0')}`;
  const s = String.fromCodePoint(ch);
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(s) ? `${code} '${s}'` : code;
}

function digitVal(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (lower(ch) >= 0x61 && lower(ch) <= 0x66) return lower(ch) - 0x61 + 10;
  return 16;
}

/** token.File: line starts, and positions from byte offsets. */
class SourceFile {
  private readonly lines: number[] = [0];
  constructor(input: Uint8Array) {
    for (let i = 0; i < input.length; i++) if (input[i] === 0x0a) this.lines.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0; let hi = this.lines.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.lines[mid] > offset) hi = mid; else lo = mid;
    }
    return { offset, line: lo + 1, column: offset - this.lines[lo] + 1 };
  }
}

export interface ScannedToken { readonly pos: Position; readonly tok: TokenKind; readonly lit: string }

export interface ScannerOptions {
  /** scanner.IncludeComments: comments are tokens; otherwise skipped. */
  readonly includeComments?: boolean;
  /** Upstream's test-only dontInsertTerms: no TERMINATOR at line ends. */
  readonly insertTerminators?: boolean;
}

class Scanner {
  private ch = EOF_CH;
  private offset = 0;
  private readOffset = 0;
  private insertTerm = false;
  private readonly decoder = new TextDecoder();

  constructor(
    readonly file: SourceFile,
    private readonly input: Uint8Array,
    private readonly onErrorHandler: (offset: number, msg: string) => void,
    private readonly options: Required<ScannerOptions>,
  ) {
    this.next();
    if (this.ch === BOM) this.next();
  }

  private text(from: number, to: number): string { return this.decoder.decode(this.input.subarray(from, to)); }

  /** The current character, read anew: TypeScript's narrowing of `this.ch` does not see next() change it. */
  private cur(): number { return this.ch; }

  private peek(): number { return this.readOffset < this.input.length ? this.input[this.readOffset] : 0; }

  private next(): void {
    if (this.readOffset >= this.input.length) {
      this.offset = this.input.length;
      this.ch = EOF_CH;
      return;
    }
    this.offset = this.readOffset;
    let r = this.input[this.readOffset]; let width = 1;
    if (r === 0) this.onError(this.offset, 'illegal character NUL');
    else if (r >= 0x80) {
      [r, width] = decodeRune(this.input, this.readOffset);
      if (r === RUNE_ERROR && width === 1) this.onError(this.offset, 'illegal UTF-8 encoding');
      else if (r === BOM && this.offset > 0) this.onError(this.offset, 'illegal byte order mark');
    }
    this.readOffset += width;
    this.ch = r;
  }

  private onError(offset: number, msg: string): void { this.onErrorHandler(offset, msg); }

  scan(): ScannedToken {
    for (;;) {
      this.skipWhitespace();
      const start = this.offset;
      const at = (tok: TokenKind, lit = ''): ScannedToken => ({ pos: this.file.position(start), tok, lit });
      let insertTerm = false;
      let tok: TokenKind;
      let lit = '';
      const ch = this.ch;
      if (isLetter(ch)) {
        lit = this.scanIdentifier();
        if (lit.length > 1) {
          tok = lookup(lit);
          insertTerm = tok === 'IDENT' || tok === 'NULL' || tok === 'BOOL';
        } else {
          insertTerm = true;
          tok = 'IDENT';
        }
      } else if (isDecimal(ch) || (ch === 0x2e && isDecimal(this.peek()))) {
        insertTerm = true;
        [tok, lit] = this.scanNumber();
      } else {
        this.next();
        switch (ch) {
          case EOF_CH:
            if (this.insertTerm) {
              this.insertTerm = false;
              return at('TERMINATOR', '\n');
            }
            tok = 'EOF';
            break;
          case 0x0a: // only reached when a terminator is due: skipWhitespace eats other newlines
            this.insertTerm = false;
            return at('TERMINATOR', '\n');
          case 0x27: // '
            this.onError(start, 'illegal single-quoted string; use double quotes');
            insertTerm = true;
            tok = 'ILLEGAL';
            lit = this.scanString(0x27, true, false);
            break;
          case 0x22: // "
            insertTerm = true;
            tok = 'STRING';
            lit = this.scanString(0x22, true, false);
            break;
          case 0x60: // `
            insertTerm = true;
            tok = 'STRING';
            lit = this.scanString(0x60, false, true);
            break;
          case 0x7c: // |
            if (this.ch !== 0x7c) this.onError(this.offset, 'missing second | in ||');
            else this.next();
            tok = '||';
            break;
          case 0x26: // &
            if (this.ch !== 0x26) this.onError(this.offset, 'missing second & in &&');
            else this.next();
            tok = '&&';
            break;
          case 0x21: tok = this.switch2('!', '!='); break;
          case 0x3d: tok = this.switch2('=', '=='); break;
          case 0x3c: tok = this.switch2('<', '<='); break;
          case 0x3e: tok = this.switch2('>', '>='); break;
          case 0x2b: tok = '+'; break;
          case 0x2d: tok = '-'; break;
          case 0x2a: tok = '*'; break;
          case 0x2f: // /
            if (this.ch === 0x2f || this.ch === 0x2a) {
              // A comment. A due terminator goes before it only if the comment runs to the line's
              // end; otherwise it comes after the comment token.
              if (this.insertTerm && this.findLineEnd()) {
                this.ch = 0x2f;
                this.offset = start;
                this.readOffset = start + 1;
                this.insertTerm = false;
                return at('TERMINATOR', '\n');
              }
              const comment = this.scanComment();
              if (!this.options.includeComments) {
                this.insertTerm = false;
                continue;
              }
              tok = 'COMMENT';
              lit = comment;
            } else {
              tok = '/';
            }
            break;
          case 0x25: tok = '%'; break;
          case 0x5e: tok = '^'; break;
          case 0x7b: tok = '{'; break;
          case 0x7d: insertTerm = true; tok = '}'; break;
          case 0x28: tok = '('; break;
          case 0x29: insertTerm = true; tok = ')'; break;
          case 0x5b: tok = '['; break;
          case 0x5d: insertTerm = true; tok = ']'; break;
          case 0x2c: tok = ','; break;
          case 0x2e: tok = '.'; break;
          default:
            if (ch !== BOM) this.onError(start, `illegal character ${formatRune(ch)}`);
            insertTerm = this.insertTerm;
            tok = 'ILLEGAL';
            lit = String.fromCodePoint(ch);
        }
      }
      if (this.options.insertTerminators) this.insertTerm = insertTerm;
      return at(tok, lit);
    }
  }

  private skipWhitespace(): void {
    while (this.ch === 0x20 || this.ch === 0x09 || this.ch === 0x0d || (this.ch === 0x0a && !this.insertTerm)) this.next();
  }

  private scanIdentifier(): string {
    const off = this.offset;
    while (isLetter(this.ch) || isDigit(this.ch)) this.next();
    return this.text(off, this.offset);
  }

  private scanNumber(): [TokenKind, string] {
    let tok: TokenKind = 'NUMBER';
    const off = this.offset;
    if (this.ch !== 0x2e) this.digits();
    if (this.ch === 0x2e) {
      tok = 'FLOAT';
      this.next();
      this.digits();
    }
    if (lower(this.ch) === 0x65) {
      tok = 'FLOAT';
      this.next();
      if (this.ch === 0x2b || this.ch === 0x2d) this.next();
      if (this.digits() === 0) this.onError(off, 'exponent has no digits');
    }
    return [tok, this.text(off, this.offset)];
  }

  private digits(): number {
    let count = 0;
    while (isDecimal(this.ch)) {
      this.next();
      count++;
    }
    return count;
  }

  private scanString(until: number, escape: boolean, multiline: boolean): string {
    const off = this.offset - 1;
    for (;;) {
      const ch = this.ch;
      if ((!multiline && ch === 0x0a) || ch === EOF_CH) {
        this.onError(off, 'string literal not terminated');
        break;
      }
      this.next();
      if (ch === until) break;
      if (escape && ch === 0x5c) this.scanEscape();
    }
    return this.text(off, this.offset);
  }

  /** Go's escapes (no `\'`: upstream's comment allows it, its code does not). */
  private scanEscape(): void {
    const off = this.offset;
    let n: number; let base: number; let max: number;
    switch (this.ch) {
      case 0x61: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74: case 0x76: case 0x5c: case 0x22: // a b f n r t v \ "
        this.next();
        return;
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
        [n, base, max] = [3, 8, 255];
        break;
      case 0x78: this.next(); [n, base, max] = [2, 16, 255]; break; // x
      case 0x75: this.next(); [n, base, max] = [4, 16, 0x10ffff]; break; // u
      case 0x55: this.next(); [n, base, max] = [8, 16, 0x10ffff]; break; // U
      default:
        this.onError(off, this.ch === EOF_CH ? 'escape sequence not terminated' : 'unknown escape sequence');
        return;
    }
    let x = 0;
    for (; n > 0; n--) {
      const d = digitVal(this.ch);
      if (d >= base) {
        this.onError(off, this.cur() === EOF_CH ? 'escape sequence not terminated' : `illegal character ${formatRune(this.cur())} in escape sequence`);
        return;
      }
      x = x * base + d;
      this.next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) this.onError(off, 'escape sequence is invalid Unicode code point');
  }

  private scanComment(): string {
    const off = this.offset - 1;
    let numCR = 0;
    let blockComment = false;
    if (this.ch === 0x2f) {
      this.next();
      while (this.cur() !== 0x0a && this.cur() !== EOF_CH) {
        if (this.cur() === 0x0d) numCR++;
        this.next();
      }
    } else {
      blockComment = true;
      this.next();
      let terminated = false;
      while (this.ch !== EOF_CH) {
        const ch = this.ch;
        if (ch === 0x0d) numCR++;
        this.next();
        if (ch === 0x2a && this.ch === 0x2f) {
          this.next();
          terminated = true;
          break;
        }
      }
      if (!terminated) this.onError(off, 'block comment not terminated');
    }
    let lit = this.input.subarray(off, this.offset);
    if (numCR > 0 && lit.length >= 1 && lit[lit.length - 1] === 0x0d) {
      lit = lit.subarray(0, lit.length - 1);
      numCR--;
    }
    if (numCR > 0) lit = stripCR(lit, blockComment);
    return this.decoder.decode(lit);
  }

  /** Whether the comment starting here runs to the end of its line; the scanner's state is kept. */
  private findLineEnd(): boolean {
    const off = this.offset - 1;
    try {
      while (this.ch === 0x2f || this.ch === 0x2a) {
        if (this.ch === 0x2f) return true;
        this.next();
        while (this.cur() !== EOF_CH) {
          const ch = this.cur();
          if (ch === 0x0a) return true;
          this.next();
          if (ch === 0x2a && this.cur() === 0x2f) {
            this.next();
            break;
          }
        }
        this.skipWhitespace();
        if (this.cur() === EOF_CH || this.cur() === 0x0a) return true;
        if (this.cur() !== 0x2f) return false;
        this.next();
      }
      return false;
    } finally {
      this.ch = 0x2f;
      this.offset = off;
      this.readOffset = off + 1;
      this.next();
    }
  }

  private switch2(a: TokenKind, b: TokenKind): TokenKind {
    if (this.ch === 0x3d) {
      this.next();
      return b;
    }
    return a;
  }
}

function stripCR(b: Uint8Array, blockComment: boolean): Uint8Array {
  const c = new Uint8Array(b.length);
  let i = 0;
  for (let j = 0; j < b.length; j++) {
    const ch = b[j];
    if (ch !== 0x0d || (blockComment && i > 2 && c[i - 1] === 0x2a && j + 1 < b.length && b[j + 1] === 0x2f)) c[i++] = ch;
  }
  return c.subarray(0, i);
}

/**
 * The tokens of `src` up to EOF (included) or `maxTokens`, with the scanner's errors so far (for
 * tests of the scanner itself). Bytes are taken as they are, invalid UTF-8 included.
 */
export function scanTokens(src: string | Uint8Array, options: ScannerOptions & { readonly maxTokens?: number } = {}): {
  tokens: ScannedToken[]; diagnostics: Diagnostic[];
} {
  const input = typeof src === 'string' ? new TextEncoder().encode(src) : src;
  const file = new SourceFile(input);
  const diagnostics: Diagnostic[] = [];
  const s = new Scanner(file, input, (offset, message) => diagnostics.push({ pos: file.position(offset), message }), {
    includeComments: options.includeComments ?? true, insertTerminators: options.insertTerminators ?? true,
  });
  const tokens: ScannedToken[] = [];
  for (;;) {
    const t = s.scan();
    tokens.push(t);
    if (t.tok === 'EOF' || tokens.length === options.maxTokens) return { tokens, diagnostics };
  }
}

/** isValidIdentifier (scanner/identifier.go): the whole string scans as one IDENT. */
export function isValidIdentifier(s: string): boolean {
  const { tokens } = scanTokens(s, { includeComments: false, insertTerminators: false });
  return tokens[0].tok === 'IDENT' && tokens[0].lit === s;
}

// ---------------------------------------------------------------------------------------------
// Parser (syntax/parser/internal.go). It goes on after an error to report as many as it can.

interface BlockName { fragments: string[]; label: string | undefined; start: Position; labelPos: Position | undefined }

const STATEMENT_END: ReadonlySet<TokenKind> = new Set(['TERMINATOR', ')', '}', ']', ',']);

class Parser {
  readonly diags: Diagnostic[] = [];
  readonly comments: Comment[][] = [];
  private readonly scanner: Scanner;
  private pos!: Position;
  private tok!: TokenKind;
  private lit!: string;
  /** Line of the last error written: a second error on the same line is dropped (addErrorf). */
  private lastErrorLine = 0;

  constructor(src: string | Uint8Array) {
    const input = typeof src === 'string' ? new TextEncoder().encode(src) : src;
    const file = new SourceFile(input);
    this.scanner = new Scanner(file, input, (offset, message) => this.diags.push({ pos: file.position(offset), message }), {
      includeComments: true, insertTerminators: true,
    });
    this.next();
  }

  /** The current token, read anew: TypeScript's narrowing of `this.tok` does not see next() change it. */
  private token(): TokenKind { return this.tok; }

  private next(): void {
    this.next0();
    while (this.tok === 'COMMENT') this.consumeCommentGroup();
  }

  private next0(): void {
    ({ pos: this.pos, tok: this.tok, lit: this.lit } = this.scanner.scan());
  }

  private consumeCommentGroup(): void {
    const list: Comment[] = [];
    let endline = this.pos.line;
    while (this.tok === 'COMMENT' && this.pos.line <= endline + 1) {
      endline = this.pos.line + (this.lit[1] === '*' ? [...this.lit].filter((c) => c === '\n').length : 0);
      list.push({ text: this.lit, pos: this.pos });
      this.next0();
    }
    this.comments.push(list);
  }

  private advance(to: TokenKind): void {
    while (this.tok !== 'EOF') {
      if (this.tok === to) return;
      this.next();
    }
  }

  private advanceAny(to: ReadonlySet<TokenKind>): void {
    while (this.tok !== 'EOF') {
      if (to.has(this.tok)) return;
      this.next();
    }
  }

  private expect(t: TokenKind): { pos: Position; tok: TokenKind; lit: string } {
    const got = { pos: this.pos, tok: this.tok, lit: this.lit };
    if (got.tok !== t) this.addError(`expected ${t}, got ${this.tok}`);
    this.next();
    return got;
  }

  private addError(message: string): void {
    if (this.lastErrorLine === this.pos.line) return;
    this.lastErrorLine = this.pos.line;
    this.diags.push({ pos: this.pos, message });
  }

  /** File = Body */
  parseFile(): AlloyFile {
    const body = this.parseBody('EOF');
    return { body, comments: this.comments };
  }

  /** Body = [ Statement { terminator Statement } ] */
  private parseBody(until: TokenKind): Stmt[] {
    const body: Stmt[] = [];
    while (this.tok !== until && this.tok !== 'EOF') {
      const stmt = this.parseStatement();
      if (stmt) body.push(stmt);
      if (this.tok === until) break;
      if (this.tok !== 'TERMINATOR') {
        this.addError(`expected TERMINATOR, got ${this.tok}`);
        this.consumeStatement();
      }
      this.next();
    }
    return body;
  }

  /** Skips the rest of a statement: up to a terminator outside any pair of {}, [] or (). */
  private consumeStatement(): void {
    let curly = 0; let brack = 0; let paren = 0;
    while (this.tok !== 'EOF') {
      switch (this.tok) {
        case '{': curly++; break;
        case '}': curly--; break;
        case '[': brack++; break;
        case ']': brack--; break;
        case '(': paren++; break;
        case ')': paren--; break;
        default: break;
      }
      if (this.tok === 'TERMINATOR' && curly <= 0 && brack <= 0 && paren <= 0) return;
      this.next();
    }
  }

  /**
   * Statement = Attribute | Block
   * Attribute = identifier "=" Expression
   * Block     = BlockName "{" Body "}"
   */
  private parseStatement(): Stmt | undefined {
    const bn = this.parseBlockName();
    if (!bn) {
      this.advance('IDENT');
      return undefined;
    }
    switch (this.tok) {
      case '=': {
        this.next();
        if (bn.fragments.length !== 1) {
          this.diags.push({ pos: bn.start, message: 'attribute names may only consist of a single identifier with no "."' });
        } else if (bn.labelPos) {
          this.diags.push({ pos: bn.labelPos, message: 'attribute names may not have labels' });
        }
        return { type: 'attribute', name: { name: bn.fragments[0], pos: bn.start }, value: this.parseExpression() };
      }
      case '{': {
        this.expect('{');
        const body = this.parseBody('}');
        this.expect('}');
        return { type: 'block', name: bn.fragments.join('.'), fragments: bn.fragments, pos: bn.start, label: bn.label, body };
      }
      default:
        if (bn.fragments.length === 1 && !bn.label) this.addError(`expected attribute assignment or block body, got ${this.tok}`);
        else this.addError(`expected block body, got ${this.tok}`);
        this.advance('IDENT');
        return undefined;
    }
  }

  /** BlockName = identifier { "." identifier } [ string ] */
  private parseBlockName(): BlockName | undefined {
    if (this.tok !== 'IDENT') {
      this.addError(`expected identifier, got ${this.tok}`);
      return undefined;
    }
    const bn: BlockName = { fragments: [this.lit], label: undefined, start: this.pos, labelPos: undefined };
    this.next();
    while (this.token() === '.') {
      this.next();
      if (this.tok !== 'IDENT') this.addError(`expected identifier, got ${this.tok}`);
      bn.fragments.push(this.lit);
      this.next();
    }
    if (this.token() !== '=' && this.token() !== '{') {
      if (this.token() === 'STRING') {
        if (this.lit[0] !== '"') this.addError(`expected block label to be a double quoted string, but got ${goQuote(this.lit)}`);
        // Upstream keeps an empty label as no label ("" is stripped only when non-empty).
        if (this.lit.length > 2) {
          bn.label = this.lit.slice(1, -1);
          if (!isValidIdentifier(bn.label)) this.addError(`expected block label to be a valid identifier, but got ${goQuote(bn.label)}`);
        }
        bn.labelPos = this.pos;
      } else {
        this.addError(`expected block label, got ${this.tok}`);
      }
      this.next();
    }
    return bn;
  }

  /** Expression = BinOpExpr */
  parseExpression(): Expr {
    return this.parseBinOp(1);
  }

  /**
   * OrExpr  = AndExpr { "||" AndExpr }; AndExpr = CmpExpr { "&&" CmpExpr };
   * CmpExpr = AddExpr { cmp_op AddExpr }; AddExpr = MulExpr { add_op MulExpr };
   * MulExpr = PowExpr { mul_op PowExpr }; all left-associative, by precedence climbing.
   */
  private parseBinOp(inPrec: number): Expr {
    let lhs = this.parsePowExpr();
    for (;;) {
      const tok = this.tok; const pos = this.pos; const prec = binaryPrecedence(tok);
      if (prec < inPrec) return lhs;
      this.next();
      const rhs = this.parseBinOp(prec + 1);
      lhs = { type: 'binary', op: tok as BinaryOperator, opPos: pos, left: lhs, right: rhs };
    }
  }

  /** PowExpr = UnaryExpr [ "^" PowExpr ] (right-associative) */
  private parsePowExpr(): Expr {
    const lhs = this.parseUnaryExpr();
    if (this.tok === '^') {
      const pos = this.pos;
      this.next();
      return { type: 'binary', op: '^', opPos: pos, left: lhs, right: this.parsePowExpr() };
    }
    return lhs;
  }

  /**
   * UnaryExpr  = OperExpr | unary_op UnaryExpr
   * OperExpr   = PrimaryExpr { AccessExpr | IndexExpr | CallExpr }
   * AccessExpr = "." identifier; IndexExpr = "[" Expression "]"; CallExpr = "(" [ ExpressionList ] ")"
   */
  private parseUnaryExpr(): Expr {
    if (this.tok === '!' || this.tok === '-') {
      const op = this.tok; const pos = this.pos;
      this.next();
      return { type: 'unary', op, pos, value: this.parseUnaryExpr() };
    }
    let primary = this.parsePrimaryExpr();
    for (;;) {
      switch (this.tok) {
        case '.': {
          this.next();
          const { pos, lit } = this.expect('IDENT');
          primary = { type: 'access', value: primary, name: { name: lit, pos } };
          break;
        }
        case '[': {
          this.expect('[');
          const index = this.parseExpression();
          this.expect(']');
          primary = { type: 'index', value: primary, index };
          break;
        }
        case '(': {
          let args: Expr[] = [];
          this.expect('(');
          if (this.token() !== ')') args = this.parseExpressionList(')');
          this.expect(')');
          primary = { type: 'call', value: primary, args };
          break;
        }
        case 'STRING': case '{': {
          // Probably a block assigned to an attribute: parse it as one to say so.
          if (this.tok === 'STRING') this.next();
          if (this.expect('{').tok !== '{') {
            this.consumeStatement();
            return primary;
          }
          this.parseBody('}');
          if (this.expect('}').tok !== '}') {
            this.consumeStatement();
            return primary;
          }
          this.diags.push({ pos: startPos(primary), message: 'cannot use a block as an expression' });
          break;
        }
        default:
          return primary;
      }
    }
  }

  /**
   * PrimaryExpr  = LiteralValue | ArrayExpr | ObjectExpr
   * LiteralValue = identifier | string | number | float | bool | null | "(" Expression ")"
   * ArrayExpr    = "[" [ ExpressionList ] "]"; ObjectExpr = "{" [ FieldList ] "}"
   */
  private parsePrimaryExpr(): Expr {
    switch (this.tok) {
      case 'IDENT': {
        const res: IdentifierExpr = { type: 'identifier', ident: { name: this.lit, pos: this.pos } };
        this.next();
        return res;
      }
      case 'STRING': case 'NUMBER': case 'FLOAT': case 'BOOL': case 'NULL': {
        const res: LiteralExpr = { type: 'literal', kind: this.tok, raw: this.lit, pos: this.pos };
        this.next();
        return res;
      }
      case '(': {
        const { pos } = this.expect('(');
        const inner = this.parseExpression();
        this.expect(')');
        return { type: 'paren', inner, pos };
      }
      case '[': {
        const { pos } = this.expect('[');
        const elements = this.token() !== ']' ? this.parseExpressionList(']') : [];
        this.expect(']');
        return { type: 'array', elements, pos };
      }
      case '{': {
        const { pos } = this.expect('{');
        // Upstream tests for RBRACK here (sic); parseFieldList stops at "}" all the same.
        const fields = this.token() !== ']' ? this.parseFieldList('}') : [];
        this.expect('}');
        return { type: 'object', fields, pos };
      }
      default: {
        this.addError(`expected expression, got ${this.tok}`);
        const res: LiteralExpr = { type: 'literal', kind: 'NULL', raw: 'null', pos: this.pos };
        this.advanceAny(STATEMENT_END);
        return res;
      }
    }
  }

  /** ExpressionList = Expression { "," Expression } [ "," ] */
  private parseExpressionList(until: TokenKind): Expr[] {
    const exprs: Expr[] = [];
    while (this.tok !== until && this.tok !== 'EOF') {
      exprs.push(this.parseExpression());
      if (this.tok === until) break;
      if (this.tok !== ',') this.addError('missing \',\' in expression list');
      this.next();
    }
    return exprs;
  }

  /** FieldList = Field { "," Field } [ "," ] */
  private parseFieldList(until: TokenKind): ObjectField[] {
    const fields: ObjectField[] = [];
    while (this.tok !== until && this.tok !== 'EOF') {
      fields.push(this.parseField());
      if (this.tok === until) break;
      if (this.tok !== ',') this.addError('missing \',\' in field list');
      this.next();
    }
    return fields;
  }

  /** Field = ( string | identifier ) "=" Expression */
  private parseField(): ObjectField {
    let name: Ident = { name: '', pos: this.pos };
    let quoted = false;
    if (this.tok === 'STRING' || this.tok === 'IDENT') {
      name = { name: this.lit, pos: this.pos };
      if (this.tok === 'STRING' && this.lit.length > 2) {
        name = { name: this.lit.slice(1, -1), pos: this.pos };
        quoted = true;
      }
      this.next();
    } else {
      this.addError(`expected field name (string or identifier), got ${this.tok}`);
      this.advance('=');
    }
    this.expect('=');
    return { name, quoted, value: this.parseExpression() };
  }

  /** parser.ParseExpression: one expression, then nothing but the end of input. */
  parseWholeExpression(): Expr {
    const e = this.parseExpression();
    this.expect('TERMINATOR');
    return e;
  }
}

/** Go's `%q` of a string, as messages quote labels (JSON's quoting is close enough for what labels hold). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

export interface ParseResult {
  readonly file: AlloyFile;
  /** Every error, in the order upstream reports them; the AST is meaningful only when empty. */
  readonly diagnostics: readonly Diagnostic[];
}

/** The parser's whole output, errors included (upstream's newParser + ParseFile, before it drops the AST on error). */
export function parse(src: string | Uint8Array): ParseResult {
  const p = new Parser(src);
  const file = p.parseFile();
  return { file, diagnostics: p.diags };
}

export class AlloySyntaxError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], filename = '') {
    super(diagnostics.map((d) => formatDiagnostic(d, filename)).join('\n'));
    this.name = 'AlloySyntaxError';
  }
}

/** parser.ParseFile: the AST, or an AlloySyntaxError listing every `line:column: message`. */
export function parseFile(src: string, filename = ''): AlloyFile {
  const { file, diagnostics } = parse(src);
  if (diagnostics.length > 0) throw new AlloySyntaxError(diagnostics, filename);
  return file;
}

/** parser.ParseExpression: one expression and nothing after it. */
export function parseExpression(src: string): Expr {
  const p = new Parser(src);
  const e = p.parseWholeExpression();
  if (p.diags.length > 0) throw new AlloySyntaxError(p.diags);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Values of literals (syntax/internal/transform/value.go).

/** strconv.Unquote of a scanned string literal: Go's escapes in "…", nothing but CR removal in `…`. */
export function unquote(raw: string): string {
  if (raw.length >= 2 && raw[0] === '`' && raw.endsWith('`')) return raw.slice(1, -1).replaceAll('\r', '');
  if (raw.length < 2 || raw[0] !== '"' || !raw.endsWith('"')) throw new Error(`invalid string literal ${raw}`);
  const body = raw.slice(1, -1);
  // \x and octal escapes are bytes, as in Go: collect bytes, decode UTF-8 at the end.
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const pushRune = (cp: number): void => { for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b); };
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
  const chars = [...body];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '"' || c === '\n') throw new Error(`invalid string literal ${raw}`);
    if (c !== '\\') { pushRune(c.codePointAt(0)!); continue; }
    const e = chars[++i];
    if (e !== undefined && e in simple) { bytes.push(simple[e]); continue; }
    const digits = (n: number, re: RegExp, radix: number): number => {
      const d = chars.slice(i + 1, i + 1 + n).join('');
      if (d.length !== n || !re.test(d)) throw new Error(`invalid escape in ${raw}`);
      i += n;
      return parseInt(d, radix);
    };
    if (e >= '0' && e <= '7') {
      i--;
      const v = digits(3, /^[0-7]{3}$/, 8);
      if (v > 255) throw new Error(`invalid escape in ${raw}`);
      bytes.push(v);
    } else if (e === 'x') {
      bytes.push(digits(2, /^[0-9a-fA-F]{2}$/, 16));
    } else if (e === 'u' || e === 'U') {
      const v = digits(e === 'u' ? 4 : 8, e === 'u' ? /^[0-9a-fA-F]{4}$/ : /^[0-9a-fA-F]{8}$/, 16);
      if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new Error(`invalid escape in ${raw}`);
      pushRune(v);
    } else {
      throw new Error(`invalid escape in ${raw}`);
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

export type AlloyValue = string | number | boolean | null | AlloyValue[] | { [key: string]: AlloyValue };

/**
 * The value of an expression made only of literals (strings, numbers, bools, null, arrays,
 * objects, parentheses, unary `-` and `!`); undefined when it depends on anything else
 * (a reference, a call, an operator between values).
 */
export function constantValue(expr: Expr): AlloyValue | undefined {
  switch (expr.type) {
    case 'literal':
      switch (expr.kind) {
        case 'STRING': return unquote(expr.raw);
        // strconv.ParseInt with base 0: a leading 0 is octal; "08" falls through to ParseFloat.
        case 'NUMBER': return /^0[0-7]+$/.test(expr.raw) ? parseInt(expr.raw, 8) : Number(expr.raw);
        case 'FLOAT': return Number(expr.raw);
        case 'BOOL': return expr.raw === 'true';
        default: return null;
      }
    case 'paren': return constantValue(expr.inner);
    case 'unary': {
      const v = constantValue(expr.value);
      if (expr.op === '-' && typeof v === 'number') return -v;
      if (expr.op === '!' && typeof v === 'boolean') return !v;
      return undefined;
    }
    case 'array': {
      const out: AlloyValue[] = [];
      for (const e of expr.elements) {
        const v = constantValue(e);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case 'object': {
      const out: { [key: string]: AlloyValue } = {};
      for (const f of expr.fields) {
        const v = constantValue(f.value);
        if (v === undefined) return undefined;
        out[f.name.name] = v;
      }
      return out;
    }
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Components and references.

/** Statements, as a file, a block (its body) or a list. */
export type Statements = AlloyFile | BlockStmt | readonly Stmt[];

const bodyOf = (file: Statements): readonly Stmt[] => ('body' in file ? file.body : file);

export interface Component {
  /** The block's dotted name, `loki.process`. */
  readonly name: string;
  /** Its label, `pods`; undefined for a block without one (`logging { … }`). */
  readonly label: string | undefined;
  readonly pos: Position;
}

/**
 * The top-level blocks: the graph's nodes (components, and the config blocks `logging`,
 * `argument "x"`, `declare "x"`, `import.file "x"`… which are nodes too).
 */
export function components(file: Statements): Component[] {
  return bodyOf(file).filter((s): s is BlockStmt => s.type === 'block').map((b) => ({ name: b.name, label: b.label, pos: b.pos }));
}

/** BlockComponentID(b).String(): the name fragments, then the label when it is not empty. */
export function componentId(c: { name: string; label: string | undefined }): string {
  return c.label ? `${c.name}.${c.label}` : c.name;
}

/** A traversal (internal/util/ast/references.go): an identifier and the fields accessed after it. */
export interface Reference {
  /** `discovery.relabel.pods.output` */
  readonly name: string;
  readonly parts: readonly string[];
  readonly pos: Position;
}

/**
 * The traversals of a list of statements, in upstream's walk order: an identifier starts one, a
 * field access (`.x`) extends it, an index or a call ends it (`a.b[0].c` is `a.b`; `f(x)` is `f`
 * and `x`). Faithfully, a field access after a call extends the call's last argument's traversal.
 */
function traversals(body: readonly Stmt[]): Reference[] {
  const out: Reference[] = [];
  let building = false;
  let current: Ident[] = [];
  const flush = (): void => {
    if (building && current.length > 0) out.push({ name: current.map((i) => i.name).join('.'), parts: current.map((i) => i.name), pos: current[0].pos });
    building = false;
    current = [];
  };
  const walkExpr = (e: Expr): void => {
    switch (e.type) {
      case 'identifier':
        flush();
        building = true;
        current.push(e.ident);
        break;
      case 'access':
        walkExpr(e.value);
        if (building) current.push(e.name);
        break;
      case 'index':
        walkExpr(e.value);
        flush();
        walkExpr(e.index);
        break;
      case 'call':
        walkExpr(e.value);
        flush();
        for (const a of e.args) walkExpr(a);
        break;
      case 'array': for (const x of e.elements) walkExpr(x); break;
      case 'object': for (const f of e.fields) walkExpr(f.value); break;
      case 'unary': walkExpr(e.value); break;
      case 'binary': walkExpr(e.left); walkExpr(e.right); break;
      case 'paren': walkExpr(e.inner); break;
      case 'literal': break;
    }
  };
  const walkBody = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      if (s.type === 'attribute') walkExpr(s.value);
      else walkBody(s.body);
    }
  };
  walkBody(body);
  flush();
  return out;
}

/** Every reference an expression of the file makes (`loki.write.audit.receiver`, `sys.env`), in source order. */
export function references(file: Statements): Reference[] {
  return traversals(bodyOf(file));
}

/**
 * The standard library at v1.18.1 (syntax/internal/stdlib/stdlib.go `Identifiers`, with the
 * deprecated top-level functions it copies in, and constants.go): each identifier, with the members
 * of the ones that are objects.
 */
export const STDLIB: Readonly<Record<string, readonly string[] | null>> = {
  constants: ['hostname', 'os', 'arch', 'version'],
  coalesce: null,
  json_path: null,
  sys: ['env'],
  convert: ['nonsensitive'],
  array: ['concat', 'combine_maps', 'group_by'],
  encoding: ['from_json', 'from_yaml', 'from_base64', 'from_URLbase64', 'to_json', 'to_base64', 'to_URLbase64', 'url_encode', 'url_decode'],
  string: ['format', 'join', 'replace', 'split', 'to_lower', 'to_upper', 'trim', 'trim_prefix', 'trim_suffix', 'trim_space'],
  file: ['path_join'],
  // DeprecatedIdentifiers, still in scope.
  env: null,
  nonsensitive: null,
  concat: null,
  json_decode: null,
  yaml_decode: null,
  base64_decode: null,
  format: null,
  join: null,
  replace: null,
  split: null,
  to_lower: null,
  to_upper: null,
  trim: null,
  trim_prefix: null,
  trim_suffix: null,
  trim_space: null,
};

/**
 * References that name neither a node nor the standard library. As upstream's ResolveTraversal,
 * a reference resolves when a prefix of it is a node's ID (so `loki.write.audit.receiver` resolves
 * to `loki.write "audit"`); else as ComponentReferences, when its first identifier is the
 * stdlib's (stricter than upstream, which finds `sys.nope` only when evaluating: the member of a
 * stdlib object must exist too). The body of a `declare` block is a scope of its own, as in a
 * module: its references resolve against its own blocks. In a `foreach` block, the name its `var`
 * attribute declares is in scope.
 */
export function unresolvedReferences(file: Statements): Reference[] {
  const unresolved: Reference[] = [];
  const check = (body: readonly Stmt[], outer: ReadonlySet<string>): void => {
    const ids = new Set(components(body).map(componentId));
    const own: Stmt[] = [];
    for (const s of body) {
      if (s.type === 'block' && s.name === 'declare') check(s.body, new Set());
      else if (s.type === 'block' && s.name === 'foreach') {
        const v = s.body.find((x): x is AttributeStmt => x.type === 'attribute' && x.name.name === 'var');
        const name = v ? constantValue(v.value) : undefined;
        check(s.body, new Set([...outer, ...ids, ...(typeof name === 'string' ? [name] : [])]));
      } else own.push(s);
    }
    for (const ref of traversals(own)) {
      const prefixes = ref.parts.map((_, i) => ref.parts.slice(0, i + 1).join('.'));
      if (prefixes.some((p) => ids.has(p) || outer.has(p))) continue;
      const std = Object.hasOwn(STDLIB, ref.parts[0]) ? STDLIB[ref.parts[0]] : undefined;
      if (std !== undefined && (std === null || ref.parts.length === 1 || std.includes(ref.parts[1]))) continue;
      unresolved.push(ref);
    }
  };
  check(bodyOf(file), new Set());
  return unresolved;
}

// ---------------------------------------------------------------------------------------------
// Reading what a configuration sets.

/** Every block named `name` (dotted), at any depth, in source order. */
export function findBlocks(file: Statements, name: string): BlockStmt[] {
  const out: BlockStmt[] = [];
  const walk = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      if (s.type !== 'block') continue;
      if (s.name === name) out.push(s);
      walk(s.body);
    }
  };
  walk(bodyOf(file));
  return out;
}

/** The expression of a block's attribute; undefined when the block does not set it. */
export function attribute(block: BlockStmt, name: string): Expr | undefined {
  return block.body.find((s): s is AttributeStmt => s.type === 'attribute' && s.name.name === name)?.value;
}
