import type * as Cl100k from 'gpt-tokenizer/encoding/cl100k_base';

let cl100k: typeof Cl100k | undefined;

/**
 * The cl100k_base encoding, loaded on first use: its tables take about 40 MB of memory that a process
 * which never counts tokens (an idle worker, the api) should not carry.
 */
function encoding(): typeof Cl100k {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cl100k ??= require('gpt-tokenizer/encoding/cl100k_base') as typeof Cl100k;
  return cl100k;
}

/**
 * Special-token strings such as `<|endoftext|>` are ordinary text in an embeddings input. gpt-tokenizer
 * throws on them by default, which would fail a whole catalog over one description that mentions one.
 */
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Tokens of `text` as OpenAI's embedding models count them (cl100k_base). */
export function countTokens(text: string): number {
  return encoding().countTokens(text, AS_PLAIN_TEXT);
}

/**
 * `text` cut to its longest prefix of at most `maxTokens` tokens (on a character boundary), with the
 * prefix's exact token count.
 *
 * The cut is searched on the text rather than decoded from a token prefix: gpt-tokenizer 4 decodes with
 * one shared streaming `TextDecoder`, so a token prefix that ends inside a multi-byte character (emoji,
 * many CJK characters) leaves bytes behind that come out as U+FFFD at the start of the next decode, in
 * another text; and a decoded prefix can re-encode to more tokens than it came from.
 */
export function truncateToTokens(text: string, maxTokens: number): { text: string; tokens: number } {
  const total = countTokens(text);
  if (total <= maxTokens) return { text, tokens: total };
  const chars = Array.from(text); // code points, so a cut never splits a surrogate pair
  // Invariant: the first `lo` characters fit, the first `hi` do not.
  let lo = 0;
  let hi = chars.length;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (encoding().isWithinTokenLimit(chars.slice(0, mid).join(''), maxTokens, AS_PLAIN_TEXT) === false) hi = mid;
    else lo = mid;
  }
  const cut = chars.slice(0, lo).join('');
  return { text: cut, tokens: countTokens(cut) };
}
