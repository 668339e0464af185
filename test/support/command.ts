/**
 * Running the project's own commands from tests as a user would, without the test runner's
 * environment leaking into them.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CommandResult { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/** The test process's environment without what would change how a command behaves or reports. */
export function commandEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.SHIPSHAPE_DEBUG;
  delete env.NODE_OPTIONS;
  delete env.INIT_CWD;
  return env;
}

/**
 * A command run without waiting, so that slow starts overlap; killed after `timeoutMs`. The child
 * is handed to `started` (when given) so a test's afterAll can kill what is still running.
 */
export function runCommand(
  command: string, args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; started?: (child: ChildProcess) => void },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? commandEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    options.started?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c; });
    child.stderr.on('data', (c: Buffer) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
