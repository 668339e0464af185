/**
 * re2-wasm as the commands' bundles see it (scripts/run.mjs aliases the package to this file): the
 * same RE2, made on first use. kubernetes-models compiles each of its Go-syntax patterns when the
 * schema module holding it loads, and the first one loads re2-wasm and compiles its WebAssembly,
 * some 70 ms of every start, although a synthesis may never test a value against any of them (in
 * the bundle today: one, a PrometheusRule group's `partial_response_strategy`, which no generated
 * group sets). An invalid pattern would therefore throw at its first use instead of at load;
 * kubernetes-models' patterns come from the CRDs, which the API server has compiled already.
 */
'use strict';

const { createRequire } = require('node:module');

let RealRE2;
/** The real class; not `require('re2-wasm')`, which in a bundle is this file. */
const realRE2 = () => (RealRE2 ??= createRequire(__filename)('re2-wasm').RE2);

/** `new RE2(pattern, flags)`: an object that behaves as the real one, made when first touched. */
function RE2(...args) {
  let real;
  const instance = () => (real ??= new (realRE2())(...args));
  return new Proxy({}, {
    get(_, key) {
      const target = instance();
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_, key, value) => Reflect.set(instance(), key, value),
    has: (_, key) => Reflect.has(instance(), key),
  });
}

module.exports = { RE2 };
