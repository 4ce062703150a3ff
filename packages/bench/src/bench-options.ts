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

/** The value of `--name V` or `--name=V` in argv, if given. */
export function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** An integer flag: `--name N`, else its environment variable, else the fallback. */
export interface IntegerFlag {
  env: string;
  fallback: number;
  min: number;
}

/**
 * Reads integer flags from argv (first) and the environment; an unknown flag or an invalid value is an
 * error that names it.
 */
export function readIntegerFlags<K extends string>(argv: string[], env: NodeJS.ProcessEnv, flags: Record<K, IntegerFlag>): Record<K, number> {
  const names = Object.keys(flags) as K[];
  const known = new Set<string>(['help', ...names]);
  for (const arg of argv) {
    const m = /^--([a-z0-9-]+)/.exec(arg);
    if (m && !known.has(m[1]!)) throw new Error(`unknown flag ${arg}; known: ${[...known].map((k) => `--${k}`).join(', ')}`);
  }
  const values = {} as Record<K, number>;
  for (const name of names) {
    const { env: variable, fallback, min } = flags[name];
    const raw = flagValue(argv, name) ?? env[variable];
    if (raw === undefined || raw === '') {
      values[name] = fallback;
      continue;
    }
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} (${variable}) must be an integer >= ${min}, got "${raw}"`);
    values[name] = value;
  }
  return values;
}

/**
 * Reads the options from argv (first) and the environment. `--databases` defaults to every database of
 * tables.json; an invalid value is an error that names the flag.
 */
export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  return { ...readIntegerFlags(argv, env, FLAGS), model: 'text-embedding-3-small', editFraction: 0.01 };
}

export const USAGE =
  'usage: pnpm bench:pipeline [--databases N] [--queries N] [--dimensions N] [--warmup N]\n' +
  '       (or BENCH_DATABASES, BENCH_QUERIES, BENCH_DIMENSIONS, BENCH_WARMUP)\n' +
  'Prints one JSON object to stdout; progress goes to stderr.';
