import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The repository root: apps run from source with tsx, resolved from here. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

export type AppName = 'api' | 'worker' | 'query';

export interface AppProcess {
  name: string;
  child: ChildProcess;
  /** Everything the process wrote, for diagnostics when a test fails. */
  output: () => string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop: (graceMs?: number) => Promise<void>;
}

/** Path of an app's production build (`pnpm --filter @catalog-indexer/<app> build`). */
export function compiledEntry(app: AppName): string {
  return path.join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
}

/**
 * Starts one app as its own Node process: from source (`apps/<name>/src/main.ts`, TypeScript loaded by tsx
 * in the same process, so a signal sent to `child.pid` reaches the app itself), or with `compiled` from its
 * production build (`apps/<name>/dist/main.js`, plain `node`). `env` is added to this process's environment.
 */
export function spawnApp(
  app: AppName,
  env: Record<string, string>,
  options: { label?: string; echo?: (line: string) => void; compiled?: boolean; nodeArgs?: readonly string[] } = {},
): AppProcess {
  // `nodeArgs` go to Node itself, before the entry (for example `--cpu-prof`, which NODE_OPTIONS refuses).
  const args = [
    ...(options.nodeArgs ?? []),
    ...(options.compiled ? [compiledEntry(app)] : ['--import', 'tsx', path.join(REPO_ROOT, 'apps', app, 'src', 'main.ts')]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const keep = (data: Buffer) => {
    const text = data.toString();
    chunks.push(text);
    size += text.length;
    while (size > 2_000_000 && chunks.length > 1) size -= chunks.shift()?.length ?? 0;
    if (options.echo) for (const line of text.split('\n')) if (line.trim()) options.echo(line);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  return {
    name: options.label ?? app,
    child,
    output: () => chunks.join(''),
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200, or throws with `describe()` after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms\n${describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The message of the first fatal (level 60) JSON log line in a process's output, if any. */
export function fatalLogMessage(output: string): string | undefined {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level?: number; msg?: string })
    .find((l) => l.level === 60)?.msg;
}
