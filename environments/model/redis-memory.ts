/**
 * How much of its container's memory Redis may fill with data (`maxmemory`).
 *
 * Redis forks for every background save: the RDB snapshots, the AOF rewrite and a replica's full
 * sync (diskless, streamed from a fork). While the child runs, every page the parent writes is
 * copied (copy-on-write), so under a steady write load the two together can need up to twice the
 * dataset; the kernel counts both against the container's limit and kills Redis (not the child)
 * when it is reached. Outside the dataset, `maxmemory` does not count the replication backlog,
 * the replicas' and clients' output buffers, the AOF buffer or the process itself, and the
 * allocator's fragmentation comes on top. So: a fixed reserve for those, and of the rest half for
 * the data, half for the copies a fork may make. At the 75% this used to be, one rewrite during a
 * write burst could push a 2 GiB member over its limit.
 */
import { parseQuantity, parseRedisMemory } from '../quantity';

/** Kept outside the dataset: the process, the 1 MiB replication backlog, output and AOF buffers. */
export const REDIS_RESERVED_BYTES = 64 * 2 ** 20;
/** The share of what is left that the data may take; the rest is for copy-on-write during a fork. */
export const REDIS_DATA_SHARE = 0.5;

/** The largest safe `maxmemory` for a container memory limit, in bytes (whole MiB, at least 1 MiB). */
export function maxSafeMaxmemory(memoryLimit: string): number {
  const bytes = (parseQuantity(memoryLimit) - REDIS_RESERVED_BYTES) * REDIS_DATA_SHARE;
  return Math.max(2 ** 20, Math.floor(bytes / 2 ** 20) * 2 ** 20);
}

/** `maxmemory` as configured, or the safe share of the limit, in Redis' syntax (`992mb`). */
export function redisMaxmemory(config: { readonly maxmemory?: string; readonly resources: { readonly limits: { readonly memory: string } } }): string {
  return config.maxmemory ?? `${maxSafeMaxmemory(config.resources.limits.memory) / 2 ** 20}mb`;
}

/** Whether a configured `maxmemory` fits the safe share of the limit. */
export function maxmemoryFits(maxmemory: string, memoryLimit: string): boolean {
  return parseRedisMemory(maxmemory) <= maxSafeMaxmemory(memoryLimit);
}
