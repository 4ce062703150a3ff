import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@catalog-indexer/devstack';

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

/**
 * The options `node` starts a production worker with: those of the worker's `start:prod`
 * (`node <options> dist/main.js`), which `tests/deploy/src/compose.spec.ts` keeps equal to compose's worker
 * service. Read from there, so that the benchmarks measure the worker as it is deployed:
 * - `--max-semi-space-size=4`: a young generation of 4 MB per semi-space, 15-25 MB less peak RSS at the same
 *   CPU per chunk.
 * - `--no-concurrent-recompilation`: optimized code is compiled on the main thread instead of a helper
 *   thread; the idle worker that read high in `bench:rss` read about 2.5 MB less, at the same CPU per chunk.
 * - `--no-wasm-dynamic-tiering --no-wasm-tier-up`: WebAssembly stays on V8's baseline compiler (Liftoff; the
 *   optimizing one only where Liftoff cannot compile a function). The WebAssembly a worker runs is llhttp,
 *   the HTTP/1 parser of Node's `fetch` (loaded at start: `pg` touches `Response`) and of the undici of
 *   `@qdrant/js-client-rest`. Optimizing it took 13 MB of `malloc` on V8's helper threads, which glibc kept
 *   in part: up to 16 MB of an idle worker's RSS (88.5-110.9 MB before, 87.4-88.2 after). llhttp parses only
 *   headers and chunk framing, so the baseline code costs no measurable CPU (README, "WebAssembly on V8's
 *   baseline compiler").
 */
function productionWorkerOptions(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'apps', 'worker', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = (manifest.scripts['start:prod'] ?? '').trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js') throw new Error(`the worker's start:prod is not "node <options> dist/main.js": ${words.join(' ')}`);
  return words.slice(1, -1);
}

const allowedInEnvironment = (option: string): boolean => process.allowedNodeEnvironmentFlags.has(option.split('=')[0]!);
const PRODUCTION_WORKER_OPTIONS = productionWorkerOptions();

/** The production worker's options that Node accepts in `NODE_OPTIONS` (compose sets them there). */
export const WORKER_NODE_OPTIONS = PRODUCTION_WORKER_OPTIONS.filter(allowedInEnvironment).join(' ');

/** The production worker's V8 options that Node refuses in `NODE_OPTIONS`, given on its command line (compose's `command`). */
export const WORKER_NODE_ARGS: readonly string[] = PRODUCTION_WORKER_OPTIONS.filter((option) => !allowedInEnvironment(option));
