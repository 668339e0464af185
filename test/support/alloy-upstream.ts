/**
 * The parts of grafana/alloy that test/alloy-syntax.test.ts compares its port of Alloy's parser
 * with, vendored into test/fixtures/alloy/ so that the comparison runs on every machine (the
 * repository is Apache-2.0): its parser's test files (syntax/parser/testdata) and the ```alloy
 * examples of the loki.* and discovery.* reference pages, with the page and line each starts at.
 * `npx tsx test/support/alloy-upstream.ts <clone of grafana/alloy>` writes the fixture anew from
 * a clone at ALLOY_TAG.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPOSITORY_ROOT } from './fixtures';

/** The Alloy release the collector runs (the alloy chart 1.11.1's appVersion). */
export const ALLOY_TAG = 'v1.18.1';
export const ALLOY_FIXTURE = join(REPOSITORY_ROOT, 'test', 'fixtures', 'alloy', `upstream-${ALLOY_TAG}.json`);

export interface Fence {
  /** The page, relative to docs/sources/reference/components/. */
  readonly file: string;
  /** The line of its opening ```alloy. */
  readonly line: number;
  /** The heading it is under. */
  readonly heading: string;
  readonly text: string;
}

export interface AlloyUpstream {
  readonly source: string;
  /** syntax/parser/testdata's files, by path. */
  readonly parserTestdata: Readonly<Record<string, string>>;
  readonly docsFences: readonly Fence[];
}

/** The ```alloy fences of a Markdown page, their indentation removed. */
export function alloyFences(file: string, markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const fences: Fence[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1];
    const open = /^(\s*)```alloy\s*$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) body.push(lines[j].startsWith(open[1]) ? lines[j].slice(open[1].length) : lines[j]);
    fences.push({ file: file.replace(/^docs\/sources\/reference\/components\//, ''), line: i + 1, heading, text: `${body.join('\n')}\n` });
    i = j;
  }
  return fences;
}

export function loadAlloyUpstream(): AlloyUpstream {
  return JSON.parse(readFileSync(ALLOY_FIXTURE, 'utf8')) as AlloyUpstream;
}

/** The fixture, from a clone of grafana/alloy. */
export function readAlloyUpstream(clone: string): AlloyUpstream {
  const git = (...args: string[]): string => execFileSync('git', ['-C', clone, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const list = (...dirs: string[]) => git('ls-tree', '-r', '--name-only', ALLOY_TAG, '--', ...dirs).trim().split('\n').filter(Boolean);
  const show = (path: string) => git('show', `${ALLOY_TAG}:${path}`);
  const commit = git('rev-parse', `${ALLOY_TAG}^{commit}`).trim();
  return {
    source: `grafana/alloy@${ALLOY_TAG} (${commit})`,
    parserTestdata: Object.fromEntries(list('syntax/parser/testdata').map((f) => [f, show(f)])),
    docsFences: list('docs/sources/reference/components/loki', 'docs/sources/reference/components/discovery')
      .filter((f) => f.endsWith('.md'))
      .flatMap((f) => alloyFences(f, show(f))),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const clone = process.argv[2];
  if (!clone) throw new Error('usage: npx tsx test/support/alloy-upstream.ts <clone of grafana/alloy>');
  writeFileSync(ALLOY_FIXTURE, `${JSON.stringify(readAlloyUpstream(clone), null, 1)}\n`);
}
