/**
 * A server program started for a test on a free loopback port: its output kept for the failure
 * message, ready once an HTTP path answers, started again on other ports when its port was taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { commandEnv } from './command';
import { ADDRESS_IN_USE, listenPorts } from './ports';
import { waitFor } from './wait';

export interface RunningDaemon {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  logs(): string;
  /** Kills it (if it still runs) and calls `cleanup`. */
  stop(): void;
}

export interface DaemonOptions {
  /** What it is, for messages. */
  readonly name: string;
  readonly command: string;
  /** Its arguments, listening on `port`. */
  readonly args: (port: number) => readonly string[];
  /** A path that answers 2xx once it serves. */
  readonly readyPath: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Run once it is stopped, or has failed to start (its throwaway directory). */
  readonly cleanup?: () => void;
}

/** Starts the daemon; it is also added to `children`, for an afterAll that kills what still runs. */
export async function startDaemon(options: DaemonOptions, children: ChildProcess[]): Promise<RunningDaemon> {
  for (let attempt = 0; ; attempt++) {
    const [port] = await listenPorts(1);
    const child = spawn(options.command, [...options.args(port)], { cwd: options.cwd, env: commandEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let logs = '';
    child.stdout?.on('data', (c: Buffer) => { logs += c; });
    child.stderr?.on('data', (c: Buffer) => { logs += c; });
    let gone = false;
    child.once('exit', () => { gone = true; });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${options.name} to answer on ${port}`, options.timeoutMs ?? 15_000, async () => {
        const r = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        return r?.ok === true;
      }, { check: () => { if (gone) throw new Error(`${options.name} exited:\n${logs}`); }, context: () => logs });
      return {
        url,
        logs: () => logs,
        stop: () => {
          if (!gone) child.kill('SIGKILL');
          options.cleanup?.();
        },
      };
    } catch (e) {
      child.kill('SIGKILL');
      if (attempt < 5 && ADDRESS_IN_USE.test(logs)) continue;
      options.cleanup?.();
      throw e;
    }
  }
}
