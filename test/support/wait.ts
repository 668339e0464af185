/**
 * Waiting for a condition in live tests: polled, and bounded as a whole, the probe included, so a
 * probe that hangs (a server that stopped answering) fails the test with what it waited for rather
 * than running into jest's own timeout with no word on why.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms); });

export interface WaitOptions {
  /** Between two probes. @default 50 */
  readonly intervalMs?: number;
  /** Called before each probe: throw to stop waiting (a process the test depends on has died). */
  readonly check?: () => void;
  /** Appended to the timeout message (logs of the processes involved). */
  readonly context?: () => string;
}

/**
 * Resolves with the probe's first value that is neither undefined nor false; rejects when
 * `timeoutMs` have passed, even while a probe is still pending.
 */
export async function waitFor<T>(
  what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}${options.context ? `\n${options.context()}` : ''}`);
  for (;;) {
    options.check?.();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now())); });
    try {
      const value = await Promise.race([Promise.resolve(probe()), expired]);
      if (value !== undefined && value !== false) return value;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) throw timedOut();
    await sleep(options.intervalMs ?? 50);
  }
}
