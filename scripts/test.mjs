/**
 * `npm test`: the tools the tests need (scripts/test-tools.sh), then jest, with the static checks
 * (type-check, lint, `npm run synth -- --check`) run beside it rather than before it. Jest's live
 * suites spend much of their time waiting on PostgreSQL, Redis and Sentinel's timers, and the
 * checks fill that time instead of adding theirs in front (about 17 s on a 2-core machine). Each
 * check's output is printed whole when it ends; arguments go to jest (`npm test -- -u`,
 * `npm test -- test/policy.test.ts`). Exit status: 0 when the checks and jest all passed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];

const CHECKS = [
  ['typecheck', ['run', '-s', 'typecheck']],
  ['lint', ['run', '-s', 'lint']],
  ['synth --check', ['run', '-s', 'synth', '--', '--check']],
];

/** Runs `command`, resolving with its exit status and everything it printed, in order. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    child.on('error', (e) => resolve({ status: 1, output: `${output}${e.message}\n` }));
    child.on('close', (status) => resolve({ status: status ?? 1, output }));
  });
}

const tools = spawnSync('bash', ['scripts/test-tools.sh'], { cwd: root, stdio: 'inherit' });
if (tools.status !== 0) process.exit(tools.status ?? 1);

// One after another: beside jest's workers, not competing with each other as well.
const checks = (async () => {
  let failed = 0;
  for (const [name, args] of CHECKS) {
    const started = Date.now();
    const r = await run(npm[0], [...npm[1], ...args]);
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (r.status === 0) {
      process.stderr.write(`npm test: ${name} passed (${took})\n`);
    } else {
      failed += 1;
      process.stderr.write(`npm test: ${name} FAILED (exit ${r.status}, ${took}):\n${r.output}`);
    }
  }
  return failed;
})();

const jest = new Promise((resolve) => {
  const child = spawn(process.execPath, [
    '--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js', ...process.argv.slice(2),
  ], { cwd: root, stdio: 'inherit' });
  child.on('error', (e) => { process.stderr.write(`npm test: jest did not start: ${e.message}\n`); resolve(1); });
  child.on('close', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
});

const [failedChecks, jestStatus] = await Promise.all([checks, jest]);
if (failedChecks > 0) process.stderr.write(`npm test: ${failedChecks} of ${CHECKS.length} static checks failed (printed above)\n`);
process.exitCode = failedChecks > 0 || jestStatus !== 0 ? 1 : 0;
