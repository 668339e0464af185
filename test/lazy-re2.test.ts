/**
 * scripts/lazy-re2.cjs, which the commands' bundles use for re2-wasm: the same RE2, made only when
 * a pattern is first used, answering as re2-wasm's own does.
 */
import { createRequire } from 'node:module';
import { RE2 as RealRE2 } from 're2-wasm';

const { RE2 } = createRequire(import.meta.url)('../scripts/lazy-re2.cjs') as { RE2: typeof RealRE2 };

/** The one Go-syntax pattern kubernetes-models compiles in the synth bundle (a PrometheusRule group's partial_response_strategy). */
const PATTERN = '^(?i)(abort|warn)?$';

test('answers as re2-wasm does: test, toString, source and flags', () => {
  const lazy = new RE2(PATTERN, 'u');
  const real = new RealRE2(PATTERN, 'u');
  for (const value of ['abort', 'WARN', '', 'abort ', 'nope']) expect([value, lazy.test(value)]).toEqual([value, real.test(value)]);
  expect([lazy.toString(), lazy.source, lazy.flags]).toEqual([real.toString(), real.source, real.flags]);
  expect(lazy.exec('Warn')?.[1]).toBe('Warn');
});

test('nothing is compiled until the pattern is used: a pattern RE2 refuses throws at its first test, not at construction', () => {
  const lazy = new RE2('(?P<unclosed', 'u');
  expect(() => new RealRE2('(?P<unclosed', 'u')).toThrow();
  expect(() => lazy.test('x')).toThrow();
});
