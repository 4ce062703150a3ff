import { decode, encode } from 'gpt-tokenizer/encoding/cl100k_base';

/** Tokens of `text` as OpenAI's embedding models count them (cl100k_base). */
export function countTokens(text: string): number {
  return encode(text).length;
}

/** `text` cut to at most `maxTokens` tokens, on a token boundary. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; tokens: number } {
  const tokens = encode(text);
  if (tokens.length <= maxTokens) return { text, tokens: tokens.length };
  return { text: decode(tokens.slice(0, maxTokens)), tokens: maxTokens };
}
