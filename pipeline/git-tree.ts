/**
 * The committed trees `npm run diff` compares with: the files of a git commit, read with git
 * itself (spawned without a shell). A diff for review compares with what is committed, not with
 * the files on disk, which `npm run synth` has usually made equal to the synthesis already.
 */
import { spawnSync } from 'node:child_process';
import { byCodepoint } from '../environments/order';

/** Bad input rather than a bug: no git, no repository, no such revision. The message says which. */
export class GitBaseError extends Error {}

export interface GitBase {
  /** The revision as given (`HEAD`, `origin/main`, a tag, a commit id). */
  readonly rev: string;
  /** The commit compared with: the revision's, or where HEAD's history left it (mergeBase). */
  readonly commit: string;
  /** True when `commit` is the merge base of the revision and HEAD rather than the revision itself. */
  readonly mergeBase: boolean;
}

/** Large enough for any dist/ (a few MB); spawnSync's default of 1 MB is not. */
const MAX_BUFFER = 1 << 30;

function git(root: string, args: readonly string[], input?: string): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('git', args, { cwd: root, input, maxBuffer: MAX_BUFFER });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new GitBaseError('git is not installed (no git on the PATH); it reads the committed trees');
    throw r.error;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** git's own reason, one line, without its `fatal: `. */
const reason = (stderr: string) => stderr.trim().split('\n')[0].replace(/^(fatal|error): /, '');

/** The commit id `rev` names, or undefined when it names none. */
function commitOf(root: string, rev: string): string | undefined {
  const r = git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  return r.status === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/**
 * The commit to compare with. Without `rev`, HEAD. With one, where HEAD's history meets it (its
 * merge base with HEAD, as `git diff rev...` and a pull request show): the revision itself when it
 * is HEAD or one of HEAD's ancestors (a tag, an earlier commit), and for a branch that moved on
 * since (`origin/main`), the commit the working branch started from, so that changes made on the
 * branch since are not shown undone.
 */
export function resolveBase(root: string, rev?: string): GitBase {
  const given = rev ?? 'HEAD';
  const inside = git(root, ['rev-parse', '--is-inside-work-tree']);
  if (inside.status !== 0 || inside.stdout.toString('utf8').trim() !== 'true') {
    throw new GitBaseError(`${root} is not in a git work tree (git: ${reason(inside.stderr) || 'not a work tree'}); `
      + 'the diff is against the trees committed in git, so run it in a clone of the repository');
  }
  // A revision never starts with '-'; git would read one as an option.
  const commit = given === '' || given.startsWith('-') ? undefined : commitOf(root, given);
  if (commit === undefined) {
    if (rev === undefined) throw new GitBaseError('HEAD names no commit (a repository without commits?): there are no committed trees to compare with');
    throw new GitBaseError(`--base ${given}: no such commit, branch or tag in this repository (a remote branch must be fetched first: git fetch origin)`);
  }
  const head = rev === undefined ? commit : commitOf(root, 'HEAD');
  if (head === undefined || head === commit) return { rev: given, commit, mergeBase: false };
  const r = git(root, ['merge-base', commit, head]);
  if (r.status !== 0) throw new GitBaseError(`--base ${given}: it has no history in common with HEAD (git: ${reason(r.stderr) || 'no merge base'})`);
  const base = r.stdout.toString('utf8').trim();
  return { rev: given, commit: base, mergeBase: base !== commit };
}

/**
 * The files of `commit` below `paths` (relative to `root`, as are the keys), with their text;
 * regular files only (git stores a symbolic link's target as its content).
 */
export function committedFiles(root: string, commit: string, paths: readonly string[]): Map<string, string> {
  // Paths relative to root both ways (ls-tree without --full-name), so root may be below the repository's top.
  const listing = git(root, ['ls-tree', '-r', '-z', commit, '--', ...paths]);
  if (listing.status !== 0) throw new Error(`git ls-tree ${commit} failed: ${reason(listing.stderr)}`);
  const blobs = new Map<string, string>();
  for (const entry of listing.stdout.toString('utf8').split('\0')) {
    // `<mode> SP <type> SP <object> TAB <path>`
    const m = /^(100644|100755) blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (m) blobs.set(m[3], m[2]);
  }
  const ids = [...new Set(blobs.values())];
  const contents = new Map<string, string>();
  if (ids.length > 0) {
    const batch = git(root, ['cat-file', '--batch'], ids.map((id) => `${id}\n`).join(''));
    if (batch.status !== 0) throw new Error(`git cat-file --batch failed: ${reason(batch.stderr)}`);
    // Per object: `<object> SP <type> SP <size> LF <content> LF`.
    const out = batch.stdout;
    let at = 0;
    for (const id of ids) {
      const eol = out.indexOf(0x0a, at);
      const header = out.toString('utf8', at, eol).split(' ');
      if (header[0] !== id || header[1] !== 'blob') throw new Error(`git cat-file --batch: expected blob ${id}, got ${header.join(' ')}`);
      const size = Number(header[2]);
      contents.set(id, out.toString('utf8', eol + 1, eol + 1 + size));
      at = eol + 1 + size + 1;
    }
  }
  const sorted = [...blobs].sort(([a], [b]) => byCodepoint(a, b));
  return new Map(sorted.map(([path, id]) => [path, contents.get(id) as string]));
}
