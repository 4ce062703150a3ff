import type * as Cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import { isAscii, pieceEnd } from './cl100k-pieces';
import { SpanTable } from './span-table';

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

/**
 * Counts of other texts already made, by text (an ASCII text is counted from its pieces' counts instead,
 * which is cheaper than finding it here). Bounded by texts and by characters held (a few MB); emptied when
 * full. Texts longer than {@link COUNT_CACHE_MAX_CHARS} are counted every time.
 */
const COUNT_CACHE_SIZE = 32_768;
const COUNT_CACHE_CHARS = 6_000_000;
const COUNT_CACHE_MAX_CHARS = 2_048;
const counts = new Map<string, number>();
let countedChars = 0;

/**
 * Token counts of the pieces of ASCII texts: the words, numbers, punctuation and spaces of a catalog's texts
 * repeat, so nearly every piece is found here. Made at the first count, so that a process that never counts
 * (an idle worker, the api) does not carry it.
 */
const PIECE_CACHE_SIZE = 65_536;
const PIECE_MAX_CHARS = 64;
let pieceCounts: SpanTable<number> | undefined;

/** The token count of `text.slice(start, end)`, one piece of cl100k's pre-tokenizer. */
function pieceTokenCount(text: string, start: number, end: number): number {
  pieceCounts ??= new SpanTable(PIECE_CACHE_SIZE);
  const known = pieceCounts.get(text, start, end);
  if (known !== undefined) return known;
  const piece = text.slice(start, end);
  const count = encoding().countTokens(piece, AS_PLAIN_TEXT);
  if (piece.length <= PIECE_MAX_CHARS) pieceCounts.add(piece, count);
  return count;
}

/**
 * Tokens of ASCII `text`: the sum of its pieces' counts (cl100k encodes each piece of its pre-tokenizer on
 * its own, see `cl100k-pieces.ts`).
 */
function countAsciiTokens(text: string): number {
  let total = 0;
  for (let start = 0; start < text.length; ) {
    const end = pieceEnd(text, start);
    total += pieceTokenCount(text, start, end);
    start = end;
  }
  return total;
}

/** Tokens of `text` as OpenAI's embedding models count them (cl100k_base). */
export function countTokens(text: string): number {
  if (isAscii(text)) return countAsciiTokens(text);
  if (text.length > COUNT_CACHE_MAX_CHARS) return encoding().countTokens(text, AS_PLAIN_TEXT);
  let count = counts.get(text);
  if (count === undefined) {
    count = encoding().countTokens(text, AS_PLAIN_TEXT);
    if (counts.size >= COUNT_CACHE_SIZE || countedChars + text.length > COUNT_CACHE_CHARS) {
      counts.clear();
      countedChars = 0;
    }
    counts.set(text, count);
    countedChars += text.length;
  }
  return count;
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

/** Characters `\s` matches that may sit between a line break and the next line's text: spaces and tabs. */
const isIndent = (code: number): boolean => code === 0x20 || code === 0x09;
const WHITESPACE = /\s/;

/**
 * `text` cut into pieces whose token counts add up to the count of the whole, so that a long text made of
 * lines that repeat (a context's table and column lines) can be counted from the cached counts of its
 * pieces.
 *
 * A cut goes after a line break (`\n`) that ends a run of line breaks and is followed by spaces or tabs and
 * then a character that is not whitespace. cl100k's pre-tokenizer (gpt-tokenizer's pattern: contractions
 * | `[^\r\n\p{L}\p{N}]?\p{L}+` | `\p{N}{1,3}` | ` ?[^\s\p{L}\p{N}]+[\r\n]*` | `\s+$` | `\s*[\r\n]` |
 * `\s+(?!\S)` | `\s`) always ends a piece there: a piece that holds a line break ends with it, since no
 * alternative goes on past a line break except whitespace to the end of the text, and what follows is not
 * whitespace to the end. The pieces on either side are the same whether they are split from the whole text
 * or from the part alone, and pieces are encoded one by one, so the counts add up.
 */
export function tokenSegments(text: string): string[] {
  const segments: string[] = [];
  let start = 0;
  for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', newline + 1)) {
    const cut = newline + 1;
    let next = cut;
    while (next < text.length && isIndent(text.charCodeAt(next))) next += 1;
    if (next >= text.length || WHITESPACE.test(text[next]!)) continue;
    segments.push(text.slice(start, cut));
    start = cut;
  }
  if (start < text.length) segments.push(text.slice(start));
  return segments;
}
