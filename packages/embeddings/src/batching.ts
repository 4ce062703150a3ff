/** Limits of one embeddings request. OpenAI's: 2,048 inputs, 8,192 tokens per input, 300,000 per request. */
export interface BatchLimits {
  maxInputs: number;
  maxTokensPerInput: number;
  maxTokensPerRequest: number;
}

export const OPENAI_LIMITS: BatchLimits = { maxInputs: 2048, maxTokensPerInput: 8191, maxTokensPerRequest: 300_000 };

export interface PreparedInput {
  /** Position in the caller's list. */
  index: number;
  text: string;
  tokens: number;
}

/**
 * Packs inputs into batches in order, each within the limits. Inputs must already be within
 * `maxTokensPerInput`. Greedy: a batch closes when the next input would break a limit.
 */
export function packBatches(inputs: PreparedInput[], limits: BatchLimits): PreparedInput[][] {
  const batches: PreparedInput[][] = [];
  let current: PreparedInput[] = [];
  let tokens = 0;
  for (const input of inputs) {
    if (input.tokens > limits.maxTokensPerInput) {
      throw new RangeError(`input ${input.index} has ${input.tokens} tokens, over ${limits.maxTokensPerInput}`);
    }
    if (current.length > 0 && (current.length >= limits.maxInputs || tokens + input.tokens > limits.maxTokensPerRequest)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(input);
    tokens += input.tokens;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** How a plan spreads its inputs over the embedding slots that exist (see {@link spreadBatches}). */
export interface SpreadOptions {
  /** Batch jobs that can run at once: worker processes × jobs per process. */
  slots: number;
  /** Fewest inputs a batch is made smaller to; below `slots × minInputs` a catalog is too small to spread. */
  minInputs?: number;
  /** Most batches a plan may have (e.g. what the requests-per-minute limit allows); never fewer than packing needs. */
  maxBatches?: number;
}

/** Default {@link SpreadOptions.minInputs}: smaller requests cost more in overhead than they save in waiting. */
export const SPREAD_MIN_INPUTS = 16;

/**
 * The batch (from 0) of each input, in order, sized so that the plan's batch jobs keep every slot busy:
 * never more inputs or tokens per batch than `limits`, and
 * - the batches that greedy packing within `limits` makes ({@link packBatches}), rounded up to a multiple
 *   of `slots` (full rounds: the last round does not leave slots idle) when that costs at most half as
 *   many requests again;
 * - at least `slots` batches when the inputs fill them (`slots × minInputs` inputs or more);
 * - at most `maxBatches`, unless packing alone needs more.
 * Batches are contiguous runs of inputs with about the same number of tokens each, since a request's time
 * grows with its tokens.
 */
export function spreadBatches(tokens: readonly number[], limits: Omit<BatchLimits, 'maxTokensPerInput'>, options: SpreadOptions): number[] {
  const packed = packBatches(
    tokens.map((t, index) => ({ index, text: '', tokens: t })),
    { ...limits, maxTokensPerInput: Infinity },
  );
  const greedy = packed.length;
  const slots = Math.max(1, Math.floor(options.slots));
  let target = greedy;
  const fullRounds = Math.ceil(greedy / slots) * slots;
  if (fullRounds <= greedy * 1.5) target = fullRounds;
  if (target < slots && tokens.length >= slots * (options.minInputs ?? SPREAD_MIN_INPUTS)) target = slots;
  target = Math.max(greedy, Math.min(target, options.maxBatches ?? Infinity));
  if (target === greedy) return packed.flatMap((batch, b) => batch.map(() => b));


  // A region of short inputs can fill a batch to its input limit before its share of tokens: the plan
  // then has more batches than aimed at, so aim at the next round of slots (at most a few times).
  let out = evenShares(tokens, limits, target);
  for (let tries = 0; tries < 4; tries++) {
    const made = (out[out.length - 1] ?? -1) + 1;
    const next = Math.min(Math.ceil(made / slots) * slots, Math.max(made, options.maxBatches ?? Infinity));
    if (made <= target || next <= target) break;
    target = next;
    out = evenShares(tokens, limits, target);
  }
  return out;
}

/**
 * Inputs in `target` contiguous batches of about equal size (an input goes to the share its middle falls
 * in), a batch closing early where it would break a limit. Size is counted in tokens, since a request's time
 * grows with them, unless the input limit is the one the batches come nearer to: then in inputs, or regions
 * of short inputs would reach it before their share of tokens.
 */
function evenShares(tokens: readonly number[], limits: Omit<BatchLimits, 'maxTokensPerInput'>, target: number): number[] {
  const totalTokens = tokens.reduce((s, t) => s + t, 0);
  const byInputs = tokens.length / limits.maxInputs >= totalTokens / limits.maxTokensPerRequest;
  const total = byInputs ? tokens.length : totalTokens;
  const out: number[] = [];
  let batch = 0;
  let share = 0;
  let inputs = 0;
  let used = 0;
  let before = 0;
  for (const t of tokens) {
    const size = byInputs ? 1 : t;
    const wanted = total > 0 ? Math.min(target - 1, Math.floor(((before + size / 2) * target) / total)) : 0;
    const full = inputs > 0 && (inputs + 1 > limits.maxInputs || used + t > limits.maxTokensPerRequest);
    if (inputs > 0 && (wanted > share || full)) {
      batch++;
      inputs = 0;
      used = 0;
      share = Math.max(share + (full ? 0 : 1), wanted);
    }
    out.push(batch);
    inputs++;
    used += t;
    before += size;
  }
  return out;
}
