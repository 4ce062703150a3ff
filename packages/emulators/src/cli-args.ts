/** What the emulators CLI was asked to start. */
export interface CliArgs {
  which: 'qdrant' | 'openai' | 'all';
  /** Port of Qdrant (or of the single emulator started). */
  port: number;
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
  'usage: cli.ts qdrant|openai|all [--port N] [--openai-port N] [--api-key KEY] ' +
  '[--latency-ms N] [--latency-per-1k-tokens-ms N] [--tpm N] [--rpm N]';

/** Flags of the OpenAI emulator: latency (fixed and per 1,000 tokens) and rate limits. */
const OPENAI_FLAGS = ['latency-ms', 'latency-per-1k-tokens-ms', 'tpm', 'rpm'];

/**
 * Parses `qdrant|openai|all --port N --openai-port N --api-key KEY`. Default ports are the real services'
 * (Qdrant 6333; 6335 for OpenAI, beside Qdrant's gRPC 6334), so a local stack can use fixed URLs.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const [which = 'all', ...rest] = argv;
  if (which !== 'qdrant' && which !== 'openai' && which !== 'all') throw new Error(`unknown emulator "${which}"; ${USAGE}`);
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (!flag?.startsWith('--') || value === undefined) throw new Error(`bad arguments near "${flag ?? ''}"; ${USAGE}`);
    flags.set(flag.slice(2), value);
  }
  for (const flag of flags.keys()) {
    if (!['port', 'openai-port', 'api-key', ...OPENAI_FLAGS].includes(flag)) throw new Error(`unknown flag --${flag}; ${USAGE}`);
  }
  const port = (name: string, fallback: number): number => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, got "${raw}"`);
    return n;
  };
  const single = which === 'openai' ? 6335 : 6333;
  const number = (name: string, min: number): number | undefined => {
    const raw = flags.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${raw}"`);
    return n;
  };
  return {
    which,
    port: port('port', single),
    openaiPort: port('openai-port', 6335),
    apiKey: flags.get('api-key'),
    openai: {
      latencyMs: number('latency-ms', 0),
      latencyPer1kTokensMs: number('latency-per-1k-tokens-ms', 0),
      tokensPerMinute: number('tpm', 1),
      requestsPerMinute: number('rpm', 1),
    },
  };
}
