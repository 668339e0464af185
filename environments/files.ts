/**
 * The environment files and the list that names them (environments/index.ts) must agree: a file
 * nobody lists is silently never deployed, and a `name` other than the file's own moves the
 * environment's output to another folder of dist/ (and its pins to another file) without a word.
 * Read as text, because index.ts is what imports the files: only it can say what is loaded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where environment files live, relative to the repository. */
export const ENVIRONMENTS_DIR = 'environments';
const INDEX = `${ENVIRONMENTS_DIR}/index.ts`;
const DEFINITION = /\bexport\s+const\s+[A-Za-z_$][\w$]*\s*(?::[^=]+)?=\s*defineEnvironment\s*\(/;

/**
 * The `name: '…'` of the object literal a call starts with (`text` begins at the call), at its top
 * level only: `app: { name: … }` inside it is another name. Strings and comments are skipped.
 */
function topLevelName(text: string): string | undefined {
  let depth = 0;
  for (let i = text.indexOf('{'); i >= 0 && i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i);
      if (i < 0) return undefined;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i);
      if (i < 0) return undefined;
    } else if (c === '{' || c === '[' || c === '(') {
      depth++;
    } else if (c === '}' || c === ']' || c === ')') {
      if (--depth === 0) return undefined;
    } else if (depth === 1 && /[\s,{]/.test(text[i - 1] ?? '')) {
      const m = /^name\s*:\s*(['"])([^'"]*)\1/.exec(text.slice(i));
      if (m) return m[2];
    }
  }
  return undefined;
}

/**
 * Problems between the environment files under `root` and the environments `index.ts` lists
 * (`listed`, by name), one line each; empty when they agree.
 */
export function environmentFileProblems(root: string, listed: readonly string[]): string[] {
  const dir = join(root, ENVIRONMENTS_DIR);
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()
    .map((f) => ({ file: `${ENVIRONMENTS_DIR}/${f}`, stem: f.slice(0, -3), text: readFileSync(join(dir, f), 'utf8') }))
    // An environment file exports what defineEnvironment makes (others only mention it).
    .filter((f) => DEFINITION.test(f.text));
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const { file, stem, text } of files) {
    const name = topLevelName(text.slice(text.search(DEFINITION)));
    if (name !== undefined) declared.add(name);
    if (name === undefined) {
      problems.push(`${file}: defineEnvironment is called without a name written out: give it name: '${stem}'`);
    } else if (name !== stem) {
      problems.push(`${file}: name ("${name}") must be the file's name, "${stem}": the environment is written to dist/<name>/ `
        + 'and pinned in environments/images/<name>.yaml, so a different name moves it away from its file');
    } else if (!listed.includes(name)) {
      problems.push(`${file} defines the environment ${name}, which ${INDEX} does not list: add it to \`environments\` there (or delete the file)`);
    }
  }
  for (const name of listed) {
    // A name declared in a file of another name is reported above, with that file.
    if (!files.some((f) => f.stem === name) && !declared.has(name)) problems.push(`${INDEX} lists the environment ${name}, but no ${ENVIRONMENTS_DIR}/${name}.ts defines it`);
  }
  return problems;
}
