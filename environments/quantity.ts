/**
 * Kubernetes quantities as numbers, for comparing requests with limits and sizes with sizes.
 * Only the suffixes the schema admits are handled.
 */
const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Value of a Kubernetes quantity ("250m" → 0.25, "1Gi" → 1073741824). */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!m || !(m[2] in SUFFIX)) throw new Error(`not a quantity: ${q}`);
  return Number(m[1]) * SUFFIX[m[2]];
}

/** Bytes of a Redis memory size ("256mb" → 268435456; Redis counts mb as 1024²). */
export function parseRedisMemory(size: string): number {
  const m = /^([0-9]+)(kb|mb|gb)$/.exec(size);
  if (!m) throw new Error(`not a Redis memory size: ${size}`);
  return Number(m[1]) * { kb: 2 ** 10, mb: 2 ** 20, gb: 2 ** 30 }[m[2] as 'kb' | 'mb' | 'gb'];
}

/** Seconds of a duration as the schema admits it ("720h" → 2592000, "1h30m" → 5400). */
export function parseDuration(d: string): number {
  const m = /^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a duration: ${d}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
