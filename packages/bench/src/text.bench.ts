/**
 * CPU cost of the per-chunk text work a worker does: the sparse vector of each chunk (text analysis and
 * BM25 weights, `documentSparseVector`) and its cl100k token count (`countTokens`), over the chunks of
 * Spider's union catalog `--copies` times over, as `bench:reindex` indexes it. Prints one JSON line.
 *
 * Each measure runs in a child process of its own, so that one's caches and garbage do not reach the other,
 * and `--rounds` times: the first round meets every word and text for the first time (a worker's first run
 * of a catalog), the later ones find the analysis cache full. The token count has no later rounds worth
 * reporting: a text counted once is answered from its cache. Run: `pnpm bench:text [--copies N]
 * [--rounds N]` (or `BENCH_COPIES`, `BENCH_ROUNDS`).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { catalogVocabulary, chunkCatalog } from '@catalog-indexer/catalog';
import { countTokens, documentSparseVector } from '@catalog-indexer/text';
import { readIntegerFlags } from './bench-options';
import { findRepositoryRoot, loadSpider, pickDatabases, replicatedCatalog } from './spider-catalog';

const FLAGS = {
  copies: { env: 'BENCH_COPIES', fallback: 4, min: 1 },
  rounds: { env: 'BENCH_ROUNDS', fallback: 3, min: 1 },
} as const;

type Measure = 'sparse' | 'tokens';

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** The chunk texts and vocabulary a worker has for the replicated catalog. */
function chunkTexts(copies: number): { texts: string[]; vocabulary: ReadonlySet<string> } {
  const catalog = replicatedCatalog(pickDatabases(loadSpider(findRepositoryRoot(process.cwd())), 1_000), copies);
  return { texts: chunkCatalog(catalog).map((c) => c.content), vocabulary: catalogVocabulary(catalog) };
}

/** Runs one measure in this process and prints its rounds as JSON. */
function measureHere(measure: Measure, copies: number, rounds: number): void {
  const { texts, vocabulary } = chunkTexts(copies);
  // Loads the modules (the tokenizer's tables among them) outside the measured rounds.
  if (measure === 'tokens') countTokens('warm up');
  else documentSparseVector('warm up', vocabulary);
  const roundsMs: number[] = [];
  let checksum = 0;
  for (let r = 0; r < (measure === 'tokens' ? 1 : rounds); r++) {
    const start = cpuMs();
    if (measure === 'tokens') for (const text of texts) checksum += countTokens(text);
    else for (const text of texts) checksum += documentSparseVector(text, vocabulary).indices.length;
    roundsMs.push(Math.round(cpuMs() - start));
  }
  process.stdout.write(`${JSON.stringify({ measure, chunks: texts.length, roundsMs, checksum })}\n`);
}

function main(): void {
  const argv = process.argv.slice(2);
  const child = argv[0] === '--measure' ? (argv[1] as Measure) : null;
  const v = readIntegerFlags(child ? argv.slice(2) : argv, process.env, FLAGS);
  if (child) return measureHere(child, v.copies, v.rounds);
  const results = (['sparse', 'tokens'] as const).map((measure) => {
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, '--measure', measure, '--copies', String(v.copies), '--rounds', String(v.rounds)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`the ${measure} measure exited with ${run.status ?? run.signal}`);
    return JSON.parse(run.stdout) as { measure: Measure; chunks: number; roundsMs: number[]; checksum: number };
  });
  const [sparse, tokens] = results as [(typeof results)[0], (typeof results)[0]];
  const perChunk = (ms: number) => Number((ms / sparse.chunks).toFixed(4));
  process.stdout.write(
    `${JSON.stringify({
      chunks: sparse.chunks,
      sparseVectorCpuMs: sparse.roundsMs,
      sparseVectorMsPerChunk: { first: perChunk(sparse.roundsMs[0]!), warm: perChunk(Math.min(...sparse.roundsMs.slice(1), sparse.roundsMs[0]!)) },
      termsWeighed: sparse.checksum / v.rounds,
      tokenCountCpuMs: tokens.roundsMs[0],
      tokenCountMsPerChunk: perChunk(tokens.roundsMs[0]!),
      tokens: tokens.checksum,
      machine: { cpus: os.cpus().length, node: process.version },
    })}\n`,
  );
}

main();
