/**
 * Resource reporter for machines without GNU time: preloaded with `--import`, it writes what GNU
 * `time -f '%M %U %S'` would (peak RSS in KiB, user and system CPU seconds, from getrusage) to
 * $SHIPSHAPE_BENCH_RSS_FILE on exit.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.SHIPSHAPE_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(file, `${r.maxRSS} ${r.userCPUTime / 1e6} ${r.systemCPUTime / 1e6}\n`);
  });
}
