/**
 * Jest transform: TypeScript to ES modules with esbuild, which the project already uses to run
 * synth. It strips types only; `tsc --noEmit` (part of `npm test`) does the type-checking.
 */
import { transformSync } from 'esbuild';

export default {
  process(source, path) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node22',
      sourcemap: 'external',
      sourcefile: path,
    });
    return { code, map };
  },
};
