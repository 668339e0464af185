/** waitFor (test/support/wait.ts), which every live test's waits go through. */
import { sleep, waitFor } from './support/wait';

test('resolves with the first value that is not undefined or false', async () => {
  let n = 0;
  await expect(waitFor('the third probe', 1_000, () => (++n >= 3 ? n : false), { intervalMs: 1 })).resolves.toBe(3);
});

test('a probe that never answers fails at the deadline, naming what was awaited and the context', async () => {
  const started = Date.now();
  await expect(waitFor('a server that hangs', 100, () => new Promise<never>(() => {}), { context: () => 'its log' }))
    .rejects.toThrow('timed out after 100 ms waiting for a server that hangs\nits log');
  expect(Date.now() - started).toBeLessThan(1_000);
});

test('a check that throws stops the wait at once with its own error', async () => {
  await expect(waitFor('anything', 10_000, () => false, { check: () => { throw new Error('redis-0 exited'); } })).rejects.toThrow('redis-0 exited');
});

test('polls until the deadline when the probe keeps saying no', async () => {
  let probes = 0;
  await expect(waitFor('never', 60, async () => { probes += 1; await sleep(1); return undefined; }, { intervalMs: 5 })).rejects.toThrow(/timed out/);
  expect(probes).toBeGreaterThan(2);
});
