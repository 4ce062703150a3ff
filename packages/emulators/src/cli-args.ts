import { parseArgs } from 'node:util';

/** What the emulators CLI was asked to start. */
export interface CliArgs {
  which: 'qdrant' | 'openai' | 'all';
  /** Port of Qdrant (or of the single emulator started). */
  port: number;
  /** Port of Qdrant's gRPC API: by default the next one after Qdrant's (6334 beside 6333), 0 with port 0. */
  grpcPort: number;
  /** Port of the OpenAI emulator when both start. */
  openaiPort: number;
  apiKey?: string;
  /** Switches of the OpenAI emulator; each undefined when its flag was not given. */
  openai: {
    latencyMs?: number;
    latencyPer1kTokensMs?: number;
    tokensPerMinute?: number;
    requestsPerMinute?: number;
  };
}

const USAGE =
  'usage: cli.ts qdrant|openai|all [--port N] [--grpc-port N] [--openai-port N] [--api-key KEY] ' +
  '[--latency-ms N] [--latency-per-1k-tokens-ms N] [--tpm N] [--rpm N]';

/** Flags of the OpenAI emulator: latency (fixed and per 1,000 tokens) and rate limits. */
const OPENAI_FLAGS = ['latency-ms', 'latency-per-1k-tokens-ms', 'tpm', 'rpm'] as const;
const FLAGS = ['port', 'grpc-port', 'openai-port', 'api-key', ...OPENAI_FLAGS] as const;

/** `node:util` `parseArgs` over the flags above (each takes a value), with messages that end in the usage. */
function readFlags(args: readonly string[]): { positionals: string[]; flags: Partial<Record<(typeof FLAGS)[number], string>> } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(FLAGS.map((name) => [name, { type: 'string' as const }])),
    });
    return { positionals, flags: values };
  } catch (error) {
    const { code, message = '' } = error as { code?: string; message?: string };
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new Error(`unknown flag ${flag}; ${USAGE}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new Error(`${flag} needs a value; ${USAGE}`);
    throw new Error(`${message}; ${USAGE}`);
  }
}

/**
 * Parses `qdrant|openai|all --port N --openai-port N --api-key KEY`. Default ports are the real services'
 * (Qdrant 6333; 6335 for OpenAI, beside Qdrant's gRPC 6334), so a local stack can use fixed URLs.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { positionals, flags } = readFlags(argv);
  const [which = 'all', ...extra] = positionals;
  if (which !== 'qdrant' && which !== 'openai' && which !== 'all') throw new Error(`unknown emulator "${which}"; ${USAGE}`);
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}": name one emulator; ${USAGE}`);
  const port = (name: 'port' | 'grpc-port' | 'openai-port', fallback: number): number => {
    const raw = flags[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, got "${raw}"`);
    return n;
  };
  const single = which === 'openai' ? 6335 : 6333;
  const number = (name: (typeof OPENAI_FLAGS)[number], min: number): number | undefined => {
    const raw = flags[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${raw}"`);
    return n;
  };
  const main = port('port', single);
  return {
    which,
    port: main,
    grpcPort: port('grpc-port', which === 'openai' || main === 0 ? 0 : main + 1),
    openaiPort: port('openai-port', 6335),
    apiKey: flags['api-key'],
    openai: {
      latencyMs: number('latency-ms', 0),
      latencyPer1kTokensMs: number('latency-per-1k-tokens-ms', 0),
      tokensPerMinute: number('tpm', 1),
      requestsPerMinute: number('rpm', 1),
    },
  };
}
