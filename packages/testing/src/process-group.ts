import { spawn, type ChildProcess } from 'node:child_process';

/** A command a test started in a process group of its own, with everything it starts in turn. */
export interface ProcessGroup {
  readonly child: ChildProcess;
  /** What the command wrote so far, stdout and stderr interleaved (its last `tailChars` characters). */
  output(): string;
  /** Sends `signal` to the whole group; nothing happens when the group has already gone. */
  signal(signal: NodeJS.Signals): void;
  /**
   * Resolves with the command's exit code once it has exited and its output is read to the end. Whatever
   * it left running in its group is killed when it exits, so no process outlives the test.
   */
  readonly exited: Promise<number | null>;
}

export interface ProcessGroupOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How much of the output to keep, from the end; all of it by default. */
  tailChars?: number;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: no process of the group is left.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Starts `command` in a process group of its own (`detached`), so that the test can signal it together with
 * the processes it starts (pnpm's child, the apps a nested Jest run spawns, pytest under a script).
 */
export function spawnGroup(command: string, args: readonly string[], options: ProcessGroupOptions = {}): ProcessGroup {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const tailChars = options.tailChars ?? Infinity;
  let output = '';
  const keep = (data: Buffer) => {
    output += data.toString();
    if (output.length > tailChars) output = output.slice(-tailChars);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // The output pipes close only when every process holding them has gone: the leftovers go with the command.
  child.once('exit', () => signalGroup(child.pid, 'SIGKILL'));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  return { child, output: () => output, signal: (signal) => signalGroup(child.pid, signal), exited };
}

/**
 * Runs `command` to its end in a process group of its own. Still running after `deadlineMs`, the whole group
 * is killed (SIGKILL) and the result says so (`timedOut`), with the output the command had written.
 */
export async function runGroup(
  command: string,
  args: readonly string[],
  options: ProcessGroupOptions & { deadlineMs: number },
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const group = spawnGroup(command, args, options);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    group.signal('SIGKILL');
  }, options.deadlineMs);
  try {
    const code = await group.exited;
    return { code, output: group.output(), timedOut };
  } finally {
    clearTimeout(deadline);
  }
}
