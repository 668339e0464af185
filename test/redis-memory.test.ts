/**
 * environments/model/redis-memory.ts: Redis' data may take half of its memory limit after a fixed
 * reserve, so that a fork's copy-on-write fits beside it; what production and staging get.
 */
import { maxmemoryFits, maxSafeMaxmemory, redisMaxmemory, REDIS_DATA_SHARE, REDIS_RESERVED_BYTES } from '../environments/model/redis-memory';

const MiB = 2 ** 20;

test('half of the limit after 64 MiB: the data, and room for every page of it to be copied once during a fork', () => {
  expect(REDIS_RESERVED_BYTES).toBe(64 * MiB);
  expect(REDIS_DATA_SHARE).toBe(0.5);
  expect(maxSafeMaxmemory('2Gi')).toBe(992 * MiB);
  expect(maxSafeMaxmemory('512Mi')).toBe(224 * MiB);
  // Whole MiB, rounded down; never nothing.
  expect(maxSafeMaxmemory('1000M')).toBe(Math.floor((1e9 - 64 * MiB) / 2 / MiB) * MiB);
  expect(maxSafeMaxmemory('64Mi')).toBe(MiB);
  // What the container may need at worst: data, its copy, the reserve.
  for (const [limit, bytes] of [['256Mi', 256 * MiB], ['2Gi', 2048 * MiB], ['3G', 3e9]] as const) {
    expect(2 * maxSafeMaxmemory(limit) + REDIS_RESERVED_BYTES).toBeLessThanOrEqual(bytes);
  }
});

test('the configured maxmemory wins when given; otherwise the safe share, in Redis\' syntax', () => {
  expect(redisMaxmemory({ resources: { limits: { memory: '2Gi' } } })).toBe('992mb');
  expect(redisMaxmemory({ maxmemory: '500mb', resources: { limits: { memory: '2Gi' } } })).toBe('500mb');
});

test('a configured maxmemory fits up to the safe share, in any unit', () => {
  expect(maxmemoryFits('992mb', '2Gi')).toBe(true);
  expect(maxmemoryFits(`${992 * 1024}kb`, '2Gi')).toBe(true);
  expect(maxmemoryFits(`${992 * 1024 + 1}kb`, '2Gi')).toBe(false);
  expect(maxmemoryFits('1gb', '2Gi')).toBe(false);
});
