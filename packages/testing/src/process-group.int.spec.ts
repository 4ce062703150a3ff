import { readFileSync } from 'node:fs';
import { runGroup, spawnGroup } from './process-group';
import { waitFor } from './wait-for';

/** Whether a process with this pid is still running (a zombie waiting to be reaped has ended). */
function alive(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) state …"
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Resolves once the process has ended; fails if it still runs after 5 s. A killed process closes its files
 * (the output pipes the group's end waits for) a moment before it becomes a zombie, so right after the
 * pipes close it can still read as running.
 */
async function ended(pid: number): Promise<boolean> {
  return waitFor(`process ${pid} to end`, () => !alive(pid), { timeoutMs: 5_000, intervalMs: 20 });
}

/** The pid a shell printed with `echo $!` on the output's first line. */
function backgroundPid(output: string): number {
  const pid = Number(/^(\d+)$/m.exec(output)?.[1]);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

describe('process groups', () => {
  it('kills the command and what it started at the deadline, and keeps the output written so far', async () => {
    const result = await runGroup('sh', ['-c', 'sleep 30 & echo $!; echo started; wait'], { deadlineMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(result.output).toContain('started');
    expect(await ended(backgroundPid(result.output))).toBe(true);
  });

  it('returns the exit code of a command that ends in time, and kills what it left running', async () => {
    // The shell exits at once; its background sleep holds the output pipe open until it is killed.
    const result = await runGroup('sh', ['-c', 'sleep 30 & echo $!; echo done >&2; exit 3'], { deadlineMs: 20_000 });
    expect(result).toMatchObject({ code: 3, timedOut: false });
    expect(result.output).toContain('done');
    expect(await ended(backgroundPid(result.output))).toBe(true);
  });

  it('keeps only the tail of the output when asked', async () => {
    const result = await runGroup('sh', ['-c', 'for i in $(seq 1 2000); do echo line-$i; done'], { deadlineMs: 20_000, tailChars: 100 });
    expect(result.output.length).toBeLessThanOrEqual(100);
    expect(result.output.trimEnd().endsWith('line-2000')).toBe(true);
    expect(result.output).not.toContain('line-1\n');
  });

  it('signals the whole group', async () => {
    const group = spawnGroup('sh', ['-c', 'sleep 30 & echo $!; wait']);
    await new Promise<void>((resolve) => group.child.stdout!.once('data', () => resolve()));
    const pid = backgroundPid(group.output());
    group.signal('SIGTERM');
    expect(await group.exited).not.toBe(0);
    expect(await ended(pid)).toBe(true);
    // Signalling a group that has gone does nothing.
    expect(() => group.signal('SIGTERM')).not.toThrow();
  });

  it('rejects when the command cannot be started', async () => {
    await expect(runGroup('/nonexistent/command', [], { deadlineMs: 1_000 })).rejects.toThrow(/ENOENT/);
  });
});
