/**
 * `npm run restore-plan`: the command line of pipeline/restore-plan.ts, which plans a point-in-time
 * recovery of an environment's PostgreSQL for review (runbooks/restore-database-point-in-time.md).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restorePlanCommand } from '../pipeline/restore-plan';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

restorePlanCommand(process.argv.slice(2), { root, invocationDir: process.env.INIT_CWD ?? process.cwd() }).then((r) => {
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.status;
}, (e: unknown) => {
  process.stderr.write(`restore-plan: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.SHIPSHAPE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  process.exitCode = 2;
});
