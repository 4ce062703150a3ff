/** What the pipeline benchmark runs; each field from `--flag N`, `--flag=N` or its `BENCH_*` variable. */
export interface BenchOptions {
  /** Spider databases in the catalog (dev databases first). */
  databases: number;
  /** dev.json questions sent through the read path. */
  queries: number;
  /** Unmeasured questions sent first, to warm up connections and the JIT. */
  warmup: number;
  dimensions: number;
  model: string;
  /** Fraction of columns whose description the edited reindex changes. */
  editFraction: number;
}

const FLAGS = {
  databases: { env: 'BENCH_DATABASES', fallback: 1_000, min: 1 },
  queries: { env: 'BENCH_QUERIES', fallback: 200, min: 1 },
  warmup: { env: 'BENCH_WARMUP', fallback: 10, min: 0 },
  dimensions: { env: 'BENCH_DIMENSIONS', fallback: 1536, min: 1 },
} as const;

function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/**
 * Reads the options from argv (first) and the environment. `--databases` defaults to every database of
 * tables.json; an invalid value is an error that names the flag.
 */
export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const known = new Set(['help', ...Object.keys(FLAGS)]);
  for (const arg of argv) {
    const m = /^--([a-z-]+)/.exec(arg);
    if (m && !known.has(m[1]!)) throw new Error(`unknown flag ${arg}; known: ${[...known].map((k) => `--${k}`).join(', ')}`);
  }
  const read = (name: keyof typeof FLAGS): number => {
    const { env: variable, fallback, min } = FLAGS[name];
    const raw = flagValue(argv, name) ?? env[variable];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} (${variable}) must be an integer >= ${min}, got "${raw}"`);
    return value;
  };
  return {
    databases: read('databases'),
    queries: read('queries'),
    warmup: read('warmup'),
    dimensions: read('dimensions'),
    model: 'text-embedding-3-small',
    editFraction: 0.01,
  };
}

export const USAGE =
  'usage: pnpm bench:pipeline [--databases N] [--queries N] [--dimensions N] [--warmup N]\n' +
  '       (or BENCH_DATABASES, BENCH_QUERIES, BENCH_DIMENSIONS, BENCH_WARMUP)\n' +
  'Prints one JSON object to stdout; progress goes to stderr.';
