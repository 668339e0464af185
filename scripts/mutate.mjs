/**
 * `npm run mutate [-- group …]`: Stryker over each group of stryker.config.mjs (all groups when none
 * is named), one after another, then one table of the scores: per group and in total, with the
 * surviving mutants listed by file and line so the next test to write is obvious. Exits 1 when the
 * total score is below the target. Reports go to reports/mutation/ (git-ignored); the runs are
 * incremental, so a second run retests only mutants whose code or tests changed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS } from '../stryker.config.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const TARGET = 85;
const args = process.argv.slice(2);
const unknown = args.filter((a) => !(a in GROUPS));
if (unknown.length > 0) {
  process.stderr.write(`mutate: unknown group ${unknown.join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}\n`);
  process.exit(2);
}
const groups = args.length > 0 ? args : Object.keys(GROUPS);

/** Killed and timed-out mutants count as detected (Stryker's own definition of the score). */
function tally(report) {
  const counts = { detected: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 };
  const survivors = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (m.status === 'Killed' || m.status === 'Timeout') counts.detected += 1;
      else if (m.status === 'Survived' || m.status === 'NoCoverage') {
        counts[m.status === 'Survived' ? 'survived' : 'noCoverage'] += 1;
        survivors.push(`${file}:${m.location.start.line} ${m.mutatorName}${m.replacement !== undefined ? ` → ${JSON.stringify(m.replacement).slice(0, 80)}` : ''}`);
      } else if (m.status === 'Ignored') counts.ignored += 1;
      else counts.errors += 1;
    }
  }
  return { counts, survivors };
}

const score = (c) => (c.detected + c.survived + c.noCoverage === 0 ? 100 : (100 * c.detected) / (c.detected + c.survived + c.noCoverage));

const rows = [];
const started = Date.now();
for (const group of groups) {
  const t0 = Date.now();
  process.stdout.write(`\nmutate: group ${group} (${GROUPS[group].mutate.join(', ')})\n`);
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], {
    cwd: root, stdio: 'inherit', env: { ...process.env, MUTATE_GROUP: group },
  });
  if (r.status !== 0) {
    process.stderr.write(`mutate: Stryker failed for group ${group} (exit ${r.status ?? r.signal})\n`);
    process.exit(2);
  }
  const report = JSON.parse(readFileSync(join(root, 'reports', 'mutation', `${group}.json`), 'utf8'));
  rows.push({ group, seconds: (Date.now() - t0) / 1000, ...tally(report) });
}

const total = rows.reduce((acc, r) => {
  for (const k of Object.keys(acc)) acc[k] += r.counts[k];
  return acc;
}, { detected: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 });
const line = (name, c, seconds) => `| ${name} | ${c.detected} | ${c.survived} | ${c.noCoverage} | ${c.errors} | ${score(c).toFixed(1)} % | ${Math.round(seconds)} s |`;
const summary = [
  `# Mutation score, ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| group | detected | survived | no coverage | errors | score | time |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => line(r.group, r.counts, r.seconds)),
  line('**total**', total, (Date.now() - started) / 1000),
  '',
  '## Surviving mutants',
  '',
  ...rows.flatMap((r) => r.survivors.map((s) => `- ${s}`)),
  '',
].join('\n');
mkdirSync(join(root, 'reports', 'mutation'), { recursive: true });
writeFileSync(join(root, 'reports', 'mutation', 'summary.md'), summary);
process.stdout.write(`\n${summary}\nmutate: summary in reports/mutation/summary.md\n`);
if (score(total) < TARGET) {
  process.stderr.write(`mutate: total score ${score(total).toFixed(1)} % is below the target of ${TARGET} %\n`);
  process.exitCode = 1;
}
