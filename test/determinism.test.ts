/**
 * Synthesis is a pure function of the repository: the same bytes every time, on any machine, and
 * the committed dist/ and generated documents are exactly what the current sources produce.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environments } from '../environments/index';
import { ARGOCD, DIST, synthesizeAll, type Synthesis } from '../pipeline/pipeline';
import { readTree } from '../pipeline/tree-diff';

const root = process.cwd();

/** Everything a synthesis writes, in the order it gives it: dist/ files, argocd/ files, then generated documents. */
const written = (s: Synthesis) => ({ files: [...s.files], argocd: [...s.argocd], documents: [...s.documents] });

test('two syntheses in one process give the same files, in the same order, with the same bytes', async () => {
  const first = await synthesizeAll(environments, root);
  const second = await synthesizeAll(environments, root);
  expect(first.files.size).toBeGreaterThan(0);
  expect(first.argocd.size).toBeGreaterThan(0);
  expect(first.documents.size).toBeGreaterThan(0);
  expect(written(second)).toEqual(written(first));
});

test('another locale and time zone give the same bytes: npm run synth -- --check finds the committed output fresh there', () => {
  // Sorting with localeCompare, or formatting a date, would make the output depend on the machine.
  // The committed output is what this process synthesizes (the next test).
  const r = spawnSync(process.execPath, ['scripts/synth.mjs', '--check'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LANG: 'lt_LT.UTF-8', LC_ALL: 'lt_LT.UTF-8', TZ: 'Pacific/Kiritimati' },
  });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/are what the sources synthesize/);
  expect(r.status).toBe(0);
}, 60_000);

test('the committed dist/, argocd/ and generated documents are what the sources synthesize', async () => {
  const { files, argocd, documents } = await synthesizeAll(environments, root);
  const stale = (dir: string, fresh: ReadonlyMap<string, string>) => {
    const committed = readTree(join(root, dir));
    return [
      ...[...fresh.keys()].filter((p) => !committed.has(p)).map((p) => `missing: ${dir}/${p}`),
      ...[...committed.keys()].filter((p) => !fresh.has(p)).map((p) => `no longer synthesized: ${dir}/${p}`),
      ...[...fresh].filter(([p, content]) => committed.has(p) && committed.get(p) !== content).map(([p]) => `stale: ${dir}/${p}`),
    ];
  };
  const problems = [
    ...stale(DIST, files),
    ...stale(ARGOCD, argocd),
    ...[...documents].filter(([p, content]) => !existsSync(join(root, p)) || readFileSync(join(root, p), 'utf8') !== content).map(([p]) => `stale: ${p}`),
  ].sort();
  if (problems.length > 0) {
    throw new Error(`the committed output does not match the sources (${problems.length} file(s)):\n  ${problems.join('\n  ')}\n`
      + `Run \`npm run synth\` and commit ${DIST}/, ${ARGOCD}/ and the documents with the change that caused it.`);
  }
});
