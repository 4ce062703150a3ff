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
