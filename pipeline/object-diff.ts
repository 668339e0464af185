/**
 * What a change to dist/ or argocd/ means object by object, for people: which objects are added,
 * removed or changed, and for a changed one each field that differs, by a readable path
 * (`spec.template.spec.containers[name=api].image`) with its old and new value. Multi-line strings
 * (the scripts and configuration files in ConfigMaps) differ as a unified line diff. Pure functions:
 * `npm run diff` and `npm run promote` read the trees and print what these return.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { isPlainObject } from '../environments/define';
import { subtree } from './tree-diff';

/** One step of a field path: a mapping key, a list item keyed by its `name`, or a list index. */
export type PathStep = { readonly key: string } | { readonly name: string } | { readonly index: number };

export type FieldChange =
  | { readonly change: 'added'; readonly path: readonly PathStep[]; readonly after: unknown }
  | { readonly change: 'removed'; readonly path: readonly PathStep[]; readonly before: unknown }
  | { readonly change: 'changed'; readonly path: readonly PathStep[]; readonly before: unknown; readonly after: unknown }
  /** The same named items in another order (the order of containers, env entries … matters). */
  | { readonly change: 'reordered'; readonly path: readonly PathStep[]; readonly before: readonly string[]; readonly after: readonly string[] };

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;
const SIMPLE_NAME = /^[A-Za-z0-9_.:/-]+$/;

/** `spec.template.spec.containers[name=api].env[name=PORT].value`, `metadata.labels["app.kubernetes.io/name"]`, `rules[0]`. */
export function formatPath(path: readonly PathStep[]): string {
  let out = '';
  for (const step of path) {
    if ('key' in step) out += SIMPLE_KEY.test(step.key) ? `${out ? '.' : ''}${step.key}` : `[${JSON.stringify(step.key)}]`;
    else if ('name' in step) out += `[name=${SIMPLE_NAME.test(step.name) ? step.name : JSON.stringify(step.name)}]`;
    else out += `[${step.index}]`;
  }
  return out;
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/** Deep equality of plain JSON values (key order does not count; list order does). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
}

/** An item's name: its `name`, or for an embedded object (a StatefulSet's claim templates) its `metadata.name`. */
function itemName(item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  if (typeof item.name === 'string') return item.name;
  return isPlainObject(item.metadata) && typeof item.metadata.name === 'string' ? item.metadata.name : undefined;
}

/** The names of a list's items when every item has one (itemName), each name once; otherwise undefined. */
function itemNames(list: readonly unknown[]): string[] | undefined {
  const names = list.map(itemName);
  if (names.some((n) => n === undefined)) return undefined;
  return new Set(names).size === names.length ? names as string[] : undefined;
}

/**
 * Every difference from `before` to `after`, deepest first where they nest: mappings key by key;
 * lists whose items all have a distinct name (containers, env, ports, volumes; claim templates by
 * `metadata.name`) item by name, other
 * lists of mappings index by index, and lists of plain values (args, verbs) as a whole.
 */
export function diffValues(before: unknown, after: unknown, path: readonly PathStep[] = []): FieldChange[] {
  if (sameValue(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: FieldChange[] = [];
    for (const key of Object.keys(before)) {
      if (!Object.hasOwn(after, key)) out.push({ change: 'removed', path: [...path, { key }], before: before[key] });
    }
    for (const key of Object.keys(after)) {
      const at = [...path, { key }];
      if (!Object.hasOwn(before, key)) out.push({ change: 'added', path: at, after: after[key] });
      else out.push(...diffValues(before[key], after[key], at));
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after) && !(before.every(isScalar) && after.every(isScalar))) {
    const namesBefore = itemNames(before);
    const namesAfter = itemNames(after);
    if (namesBefore && namesAfter) return diffNamedItems(before, namesBefore, after, namesAfter, path);
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const at = [...path, { index: i }];
      if (i >= after.length) out.push({ change: 'removed', path: at, before: before[i] });
      else if (i >= before.length) out.push({ change: 'added', path: at, after: after[i] });
      else out.push(...diffValues(before[i], after[i], at));
    }
    return out;
  }
  return [{ change: 'changed', path, before, after }];
}

function diffNamedItems(
  before: readonly unknown[], namesBefore: string[], after: readonly unknown[], namesAfter: string[], path: readonly PathStep[],
): FieldChange[] {
  const out: FieldChange[] = [];
  const kept = namesBefore.filter((n) => namesAfter.includes(n));
  const keptAfter = namesAfter.filter((n) => namesBefore.includes(n));
  if (kept.some((n, i) => keptAfter[i] !== n)) out.push({ change: 'reordered', path, before: kept, after: keptAfter });
  for (const [i, name] of namesBefore.entries()) {
    if (!namesAfter.includes(name)) out.push({ change: 'removed', path: [...path, { name }], before: before[i] });
  }
  for (const [i, name] of namesAfter.entries()) {
    const j = namesBefore.indexOf(name);
    if (j < 0) out.push({ change: 'added', path: [...path, { name }], after: after[i] });
    else out.push(...diffValues(before[j], after[i], [...path, { name }]));
  }
  return out;
}

/**
 * A unified diff of two texts by line: hunks with `context` unchanged lines around each change,
 * headed `@@ -start,count +start,count @@`; lines start with ' ', '-' or '+'. Empty when equal.
 */
export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = editScript(a, b);
  // Indices into ops of the lines within `context` of a change.
  const changed = ops.map((op) => op.op !== ' ');
  if (!changed.includes(true)) return [];
  const shown = ops.map((_, i) => changed.slice(Math.max(0, i - context), i + context + 1).includes(true));
  const out: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (!shown[i]) { i++; continue; }
    let end = i;
    while (end < ops.length && shown[end]) end++;
    const hunk = ops.slice(i, end);
    const oldLines = hunk.filter((op) => op.op !== '+').length;
    const newLines = hunk.filter((op) => op.op !== '-').length;
    const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);
    out.push(`@@ -${range(ops[i].a + 1, oldLines)} +${range(ops[i].b + 1, newLines)} @@`);
    for (const op of hunk) out.push(`${op.op}${op.text}`);
    i = end;
  }
  return out;
}

/** Lines of a text; a final newline ends the last line rather than starting an empty one. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** One line of the edit script, with the index of the next line of each side at that point. */
interface EditOp { readonly op: ' ' | '-' | '+'; readonly text: string; readonly a: number; readonly b: number }

/**
 * The shortest edit script from `a` to `b` (longest common subsequence of lines), removals before
 * additions within a change. Common head and tail are matched first, so a one-line change in a
 * long script costs only its own lines; a middle too large to compare line by line is shown as
 * removed and added whole.
 */
function editScript(a: readonly string[], b: readonly string[]): EditOp[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: EditOp[] = [];
  for (let k = 0; k < head; k++) ops.push({ op: ' ', text: a[k], a: k, b: k });
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const n = midA.length;
  const m = midB.length;
  if (n * m > 4_000_000) {
    midA.forEach((text, k) => ops.push({ op: '-', text, a: head + k, b: head }));
    midB.forEach((text, k) => ops.push({ op: '+', text, a: head + n, b: head + k }));
  } else {
    // lcs[i][j]: length of the longest common subsequence of midA[i..] and midB[j..].
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) lcs[i][j] = midA[i] === midB[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        ops.push({ op: ' ', text: midA[i], a: head + i, b: head + j });
        i++; j++;
      } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.push({ op: '-', text: midA[i], a: head + i, b: head + j });
        i++;
      } else {
        ops.push({ op: '+', text: midB[j], a: head + i, b: head + j });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++) ops.push({ op: ' ', text: a[a.length - tail + k], a: a.length - tail + k, b: b.length - tail + k });
  return ops;
}

/** An object of a tree, or a file that holds none (a file put there by hand, unreadable YAML). */
interface TreeEntry {
  /** `Kind namespace/name`, or the file's path when it holds no object. */
  readonly ref: string;
  readonly file: string;
  readonly text: string;
  /** The object; undefined for a file that holds none. */
  readonly object?: unknown;
}

/** `Kind namespace/name` of an object, as messages name it (pipeline/k8s-object.ts). */
function objectRef(o: Record<string, unknown>): string | undefined {
  const metadata = isPlainObject(o.metadata) ? o.metadata : {};
  if (typeof o.kind !== 'string' || typeof metadata.name !== 'string') return undefined;
  return `${o.kind} ${typeof metadata.namespace === 'string' && metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name}`;
}

/** The objects of a tree by `Kind namespace/name`; two objects with the same reference are told apart by their file. */
function entries(files: ReadonlyMap<string, string>): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  for (const [file, text] of files) {
    // YAML 1.1, as synthesis writes it (pipeline/synth.ts) and Kubernetes reads it.
    const docs = parseAllDocuments(text, { version: '1.1' });
    const objects = Array.isArray(docs) && docs.every((d) => d.errors.length === 0)
      ? docs.map((d) => d.toJS() as unknown).filter((o) => o !== null && o !== undefined)
      : [];
    const refs = objects.map((o) => (isPlainObject(o) ? objectRef(o) : undefined));
    if (objects.length === 0 || refs.some((r) => r === undefined)) {
      out.set(`file ${file}`, { ref: file, file, text });
      continue;
    }
    for (const [i, object] of objects.entries()) {
      const ref = refs[i] as string;
      const key = out.has(ref) ? `${ref} (${file})` : ref;
      out.set(key, { ref: key, file, text: objects.length === 1 ? text : '', object });
    }
  }
  return out;
}

export interface ObjectChange {
  readonly change: 'added' | 'removed' | 'changed';
  /** `Kind namespace/name`, or the file's path for a file that holds no object. */
  readonly ref: string;
  /** The file, relative to the tree's environment folder (the new one when it moved). */
  readonly file: string;
  /** The fields that differ (changed objects). */
  readonly fields: readonly FieldChange[];
  /** The file's text before and after, when what differs is not in the object (comments, formatting, a file with no object). */
  readonly text?: { readonly before: string; readonly after: string };
  /** The file the object was in, when it moved to another. */
  readonly movedFrom?: string;
}

/** The objects `after` adds to, changes in and removes from `before` (files by path), sorted by reference. */
export function diffObjects(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ObjectChange[] {
  const old = entries(before);
  const next = entries(after);
  const out: ObjectChange[] = [];
  for (const [key, e] of old) {
    if (!next.has(key)) out.push({ change: 'removed', ref: e.ref, file: e.file, fields: [] });
  }
  for (const [key, e] of next) {
    const o = old.get(key);
    if (!o) {
      out.push({ change: 'added', ref: e.ref, file: e.file, fields: [] });
      continue;
    }
    const fields = o.object === undefined || e.object === undefined ? [] : diffValues(o.object, e.object);
    const movedFrom = o.file === e.file ? {} : { movedFrom: o.file };
    if (fields.length > 0) out.push({ change: 'changed', ref: e.ref, file: e.file, fields, ...movedFrom });
    else if (o.text !== e.text) out.push({ change: 'changed', ref: e.ref, file: e.file, fields, text: { before: o.text, after: e.text }, ...movedFrom });
    else if (o.file !== e.file) out.push({ change: 'changed', ref: e.ref, file: e.file, fields, ...movedFrom });
  }
  return out.sort((x, y) => (x.ref < y.ref ? -1 : x.ref > y.ref ? 1 : 0));
}

/** The changes of one environment's folder in one tree (`dist/staging`, `argocd/production`). */
export interface FolderDiff {
  readonly tree: string;
  readonly env: string;
  readonly changes: readonly ObjectChange[];
}

/**
 * Per tree and environment, what `after` changes in `before` (each tree's files keyed by path
 * relative to it, `<env>/…`). Every environment either side has, or only those in `only`.
 */
export function diffFolders(
  before: ReadonlyMap<string, ReadonlyMap<string, string>>, after: ReadonlyMap<string, ReadonlyMap<string, string>>, only?: readonly string[],
): FolderDiff[] {
  const out: FolderDiff[] = [];
  for (const tree of [...new Set([...before.keys(), ...after.keys()])]) {
    const a = before.get(tree) ?? new Map<string, string>();
    const b = after.get(tree) ?? new Map<string, string>();
    const envs = only ?? [...new Set([...a.keys(), ...b.keys()].map((p) => p.split('/')[0]))].sort();
    for (const env of envs) out.push({ tree, env, changes: diffObjects(subtree(a, env), subtree(b, env)) });
  }
  return out;
}

/** Colours for a terminal; identity functions for a file, a pipe or a pull request. */
export interface Paint {
  readonly added: (s: string) => string;
  readonly removed: (s: string) => string;
  readonly changed: (s: string) => string;
  readonly heading: (s: string) => string;
}

export const PLAIN: Paint = { added: (s) => s, removed: (s) => s, changed: (s) => s, heading: (s) => s };
export const COLOURS: Paint = {
  added: (s) => `\x1b[32m${s}\x1b[0m`,
  removed: (s) => `\x1b[31m${s}\x1b[0m`,
  changed: (s) => `\x1b[33m${s}\x1b[0m`,
  heading: (s) => `\x1b[1m${s}\x1b[0m`,
};

/** Longest line of a one-line `path: old → new` before old and new go on lines of their own. */
const LINE = 120;

const isMultiline = (v: unknown) => typeof v === 'string' && v.includes('\n');

/** A value on one line: strings quoted (so "5432" and 5432 differ), mappings and lists as compact JSON. */
function inline(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/** A value as lines: multi-line strings line by line, mappings and lists as YAML (as dist/ has them). */
function block(v: unknown): string[] {
  if (typeof v === 'string') return splitLines(v);
  if (v === null || typeof v !== 'object') return [inline(v)];
  return splitLines(stringify(v, { version: '1.1', lineWidth: 0 }));
}

function renderField(f: FieldChange, paint: Paint, indent: string): string[] {
  const path = formatPath(f.path) || '(whole object)';
  const more = `${indent}  `;
  if (f.change === 'reordered') return [`${indent}${path}: order ${f.before.join(', ')} → ${f.after.join(', ')}`];
  if (f.change === 'added' || f.change === 'removed') {
    const value = f.change === 'added' ? f.after : f.before;
    const [sign, colour] = f.change === 'added' ? ['+', paint.added] : ['-', paint.removed];
    const one = `${indent}${path}: ${f.change === 'added' ? `(absent) → ${inline(value)}` : `${inline(value)} → (absent)`}`;
    if (!isMultiline(value) && one.length <= LINE) return [colour(one)];
    return [`${indent}${path}: ${f.change}`, ...block(value).map((l) => colour(`${more}${sign} ${l}`))];
  }
  const { before, after } = f;
  if (isMultiline(before) || isMultiline(after)) {
    if (typeof before === 'string' && typeof after === 'string') {
      return [`${indent}${path}:`, ...lineDiff(before, after).map((l) => `${more}${paintLine(l, paint)}`)];
    }
  }
  const scalarLists = [before, after].every((v) => Array.isArray(v) && v.every(isScalar));
  const one = `${indent}${path}: ${inline(before)} → ${inline(after)}`;
  if (one.length <= LINE && !isMultiline(before) && !isMultiline(after)) return [paint.changed(one)];
  if (scalarLists) {
    const lines = (v: unknown) => `${(v as unknown[]).map((x) => JSON.stringify(x)).join('\n')}\n`;
    return [`${indent}${path}:`, ...lineDiff(lines(before), lines(after)).map((l) => `${more}${paintLine(l, paint)}`)];
  }
  return [
    `${indent}${path}:`,
    ...block(before).map((l) => paint.removed(`${more}- ${l}`)),
    ...block(after).map((l) => paint.added(`${more}+ ${l}`)),
  ];
}

function paintLine(line: string, paint: Paint): string {
  if (line.startsWith('@@')) return paint.heading(line);
  if (line.startsWith('+')) return paint.added(line);
  if (line.startsWith('-')) return paint.removed(line);
  return line;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How many objects were added, changed and removed: `1 added, 2 changed, 0 removed`. */
export function countChanges(changes: readonly ObjectChange[]): string {
  const n = (c: ObjectChange['change']) => changes.filter((x) => x.change === c).length;
  return `${n('added')} added, ${n('changed')} changed, ${n('removed')} removed`;
}

/**
 * The diff as text for a terminal or a pull request (plain lines, two-space indents, no tabs; paste
 * inside a fenced code block). Per folder: a heading with the counts, then each object: `+` added,
 * `-` removed, `~` changed with its fields below it.
 */
export function renderDiff(folders: readonly FolderDiff[], paint: Paint = PLAIN): string {
  const lines: string[] = [];
  for (const { tree, env, changes } of folders) {
    lines.push(paint.heading(`${tree}/${env}: ${changes.length === 0 ? 'no changes' : `${plural(changes.length, 'object')} (${countChanges(changes)})`}`));
    for (const c of changes) {
      const where = c.ref === c.file ? c.file : `${c.ref} (${c.file})`;
      if (c.change === 'added') lines.push(paint.added(`  + ${where}`));
      else if (c.change === 'removed') lines.push(paint.removed(`  - ${where}`));
      else {
        lines.push(paint.changed(`  ~ ${where}`));
        if (c.movedFrom) lines.push(`      moved from ${c.movedFrom}`);
        for (const f of c.fields) lines.push(...renderField(f, paint, '      '));
        if (c.text) {
          if (c.ref !== c.file) lines.push('      only the file\'s comments or formatting differ:');
          lines.push(...lineDiff(c.text.before, c.text.after).map((l) => `        ${paintLine(l, paint)}`));
        }
      }
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
