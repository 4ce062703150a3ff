import { readFileSync } from 'node:fs';

/** Resident memory of a process, from `/proc/<pid>/status` (Linux): now and its peak so far, in MB. */
export interface ProcessMemory {
  rssMb: number;
  peakRssMb: number;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${name} in /proc status`);
  return Math.round(Number(match[1]) / 1024);
}

/** `VmRSS` and `VmHWM` of `pid`; throws when the process is gone or the system has no /proc. */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMb: field(status, 'VmRSS'), peakRssMb: field(status, 'VmHWM') };
}

/** The V8 options a production worker runs with (docker-compose.yml, `pnpm --filter @catalog-indexer/worker start:prod`). */
export const WORKER_NODE_OPTIONS = '--max-semi-space-size=4';

/**
 * The V8 options of a production worker that Node refuses in `NODE_OPTIONS`, given on its command line
 * (compose's `command`, `start:prod`). `--no-concurrent-recompilation`: optimized code is compiled on the
 * main thread instead of a helper thread. The idle worker that reads high in `bench:rss` reads about 2.5 MB
 * less (110.3-110.9 MB against 112.2-114.2), at the same CPU per chunk (README, "An idle worker's memory").
 */
export const WORKER_NODE_ARGS: readonly string[] = ['--no-concurrent-recompilation'];
