import { parseArgs } from 'node:util';

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

/** An integer flag: `--name N` or `--name=N`, else its environment variable (when it has one), else the fallback. */
export interface IntegerFlag {
  env?: string;
  fallback: number;
  min: number;
}

/** The flags of a command: integers (`--name N`) and switches (`--name`, no value). */
export type CommandFlags<K extends string, S extends string> = Record<K, number> & Record<S | 'help', boolean>;

/** Why argv was refused, in the words of the command's flags. */
function explain(error: unknown, known: readonly string[]): Error {
  const { code, message } = error as { code?: string; message?: string };
  const list = known.map((k) => `--${k}`).join(', ');
  const flag = /'(-[^' ]+)/.exec(message ?? '')?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new Error(`unknown flag ${flag}; known: ${list}`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new Error(`unexpected argument ${/'([^']*)'/.exec(message ?? '')?.[1] ?? ''}; flags are --name N (known: ${list})`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new Error(`${flag} needs a value: ${flag} N`);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Reads integer flags (and switches) from argv through `node:util` `parseArgs`, each integer from argv first,
 * then its environment variable, then its fallback. An unknown flag, a stray argument or an invalid value is
 * an error that names it; `--help` is always known.
 */
export function readIntegerFlags<K extends string, S extends string = never>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  flags: Record<K, IntegerFlag>,
  switches: readonly S[] = [],
): CommandFlags<K, S> {
  const names = Object.keys(flags) as K[];
  const known = [...names, ...switches, 'help'];
  let parsed: ReturnType<typeof parseArgs>['values'];
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries([...switches, 'help'].map((name) => [name, { type: 'boolean' as const }])),
      },
    }).values;
  } catch (error) {
    throw explain(error, known);
  }
  const values: Record<string, number | boolean> = {};
  for (const name of [...switches, 'help']) values[name] = parsed[name] === true;
  for (const name of names) {
    const { env: variable, fallback, min } = flags[name];
    const given = parsed[name];
    const raw = typeof given === 'string' ? given : variable === undefined ? undefined : env[variable];
    if (raw === undefined || raw === '') {
      values[name] = fallback;
      continue;
    }
    const value = Number(raw);
    const source = variable === undefined ? `--${name}` : `--${name} (${variable})`;
    if (!Number.isInteger(value) || value < min) throw new Error(`${source} must be an integer >= ${min}, got "${raw}"`);
    values[name] = value;
  }
  return values as CommandFlags<K, S>;
}

/**
 * Reads the options from argv (first) and the environment. `--databases` defaults to every database of
 * tables.json; an invalid value is an error that names the flag.
 */
export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions & { help: boolean } {
  const { help, databases, queries, warmup, dimensions } = readIntegerFlags(argv, env, FLAGS);
  return { help, databases, queries, warmup, dimensions, model: 'text-embedding-3-small', editFraction: 0.01 };
}

export const USAGE =
  'usage: pnpm bench:pipeline [--databases N] [--queries N] [--dimensions N] [--warmup N]\n' +
  '       (or BENCH_DATABASES, BENCH_QUERIES, BENCH_DIMENSIONS, BENCH_WARMUP)\n' +
  'Prints one JSON object to stdout; progress goes to stderr.';
