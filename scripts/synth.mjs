/** `npm run synth` and the cdk8s CLI's app: main.ts, run from its esbuild bundle (scripts/run.mjs). */
import { runBundled } from './run.mjs';

await runBundled('main.ts');
