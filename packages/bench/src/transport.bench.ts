/**
 * CPU cost of writing points to Qdrant over REST and over gRPC: the product's store upserts the same
 * points (3072-dimensional by default, float32 vectors as the embedder decodes them, sparse vectors and
 * payloads like a chunk's) into the Qdrant emulator, which runs as its own process. Prints one JSON object:
 * per transport, the writer's CPU time (user + system) per point, and the emulator's, with wall time.
 * CPU time, not latency: a figure that holds on a loaded machine. Run: `pnpm bench:transport [--points N]
 * [--dims N] [--rounds N]` (or `BENCH_POINTS`, `BENCH_DIMS`, `BENCH_ROUNDS`).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@catalog-indexer/logger';
import { freePort, uniqueName } from '@catalog-indexer/testing';
import { QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';
import { REPO_ROOT, waitForHttp } from '@catalog-indexer/devstack';
import { readIntegerFlags } from './bench-options';
import { Cleanup, progress } from './bench-cleanup';

const FLAGS = {
  points: { env: 'BENCH_POINTS', fallback: 2_048, min: 1 },
  dims: { env: 'BENCH_DIMS', fallback: 3_072, min: 1 },
  rounds: { env: 'BENCH_ROUNDS', fallback: 3, min: 1 },
} as const;

/** User + system CPU seconds of a process so far, from `/proc/<pid>/stat` (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function points(count: number, dims: number): VectorPoint[] {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Array.from({ length: count }, (_, i) => {
    const id = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const indices = Array.from({ length: 24 }, (_, k) => k * 97 + (i % 97));
    return {
      id,
      vector: Float32Array.from({ length: dims }, random),
      sparse: { indices, values: indices.map(() => Math.abs(random())) },
      payload: { catalog_id: 'bench', kind: 'column', schema: 'public', table: `t${i % 50}`, column: `c${i}`, chunk_key: `public.t${i % 50}.c${i}`, content_hash: id.replace(/-/g, '') },
    };
  });
}

async function main(cleanup: Cleanup, count: number, dims: number, rounds: number): Promise<Record<string, unknown>> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const entry = path.join(REPO_ROOT, 'packages', 'emulators', 'src', 'cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'qdrant', '--port', String(port), '--grpc-port', String(grpcPort)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanup.add('stop Qdrant emulator', async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 60_000);
  const data = points(count, dims);
  const logger = createLogger({ level: 'silent' });
  const results: Record<string, unknown> = {};
  for (const transport of ['rest', 'grpc'] as const) {
    const samples: { writerCpuMsPerPoint: number; emulatorCpuMsPerPoint: number; wallMsPerPoint: number }[] = [];
    // One unmeasured round first (connections, JIT), then the measured ones, each into a fresh collection.
    for (let round = 0; round <= rounds; round++) {
      const store = new QdrantStore({ url, grpcUrl: `http://127.0.0.1:${grpcPort}`, transport, collection: uniqueName('bench_tx'), dimensions: dims, logger });
      await store.ensureCollection();
      const cpu = process.cpuUsage();
      const emulatorCpu = processCpuSeconds(child.pid!);
      const started = performance.now();
      await store.upsert(data);
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const emulatorUsed = processCpuSeconds(child.pid!) - emulatorCpu;
      if ((await store.countAll()) !== count) throw new Error(`${transport}: the collection does not hold the ${count} points written`);
      if (round > 0) {
        samples.push({
          writerCpuMsPerPoint: (used.user + used.system) / 1000 / count,
          emulatorCpuMsPerPoint: (emulatorUsed * 1000) / count,
          wallMsPerPoint: wall / count,
        });
      }
      await store.dropCollection(await store.resolve() ?? '');
      progress(`${transport} round ${round}: ${Math.round(wall)} ms`);
    }
    const median = (key: keyof (typeof samples)[number]) => {
      const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
      return Math.round(sorted[Math.floor(sorted.length / 2)]! * 1000) / 1000;
    };
    results[transport] = { writerCpuMsPerPoint: median('writerCpuMsPerPoint'), emulatorCpuMsPerPoint: median('emulatorCpuMsPerPoint'), wallMsPerPoint: median('wallMsPerPoint') };
  }
  return {
    points: count,
    dims,
    rounds,
    results,
    notes: [
      'writerCpuMsPerPoint: user + system CPU of the process running the store (building the requests, serialising, the client), per point, median of the rounds.',
      'emulatorCpuMsPerPoint: the same for the Qdrant emulator\'s process (parsing the requests, storing); a real Qdrant parses in Rust.',
      'The emulator\'s process has a 1/100 s CPU clock: read its figure at a few thousand points or more.',
    ],
  };
}

async function run(): Promise<void> {
  const { points: count, dims, rounds } = readIntegerFlags(process.argv.slice(2), process.env, FLAGS);
  const cleanup = new Cleanup();
  let report: Record<string, unknown>;
  try {
    report = await main(cleanup, count, dims, rounds);
  } finally {
    await cleanup.run();
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

run().catch((error: unknown) => {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
