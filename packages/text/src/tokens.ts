import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { isAscii, pieceEnd } from './cl100k-pieces';
import { Cl100kRanks } from './cl100k-ranks';
import { SpanTable } from './span-table';

/**
 * The file a production build writes beside its bundle: cl100k's rank table as {@link Cl100kRanks.toBuffer}
 * makes it (about 2.5 MB, read in a few milliseconds). Without it (running from sources) the table is built
 * from gpt-tokenizer's at first use.
 */
export const CL100K_TABLE_FILE = 'cl100k.bin';

/**
 * cl100k's ranks from `dir`'s {@link CL100K_TABLE_FILE} when it has one, else built from gpt-tokenizer's
 * table.
 */
export function loadCl100kRanks(dir: string): Cl100kRanks {
  const file = path.join(dir, CL100K_TABLE_FILE);
  if (existsSync(file)) return Cl100kRanks.fromBuffer(readFileSync(file));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const table = require('gpt-tokenizer/bpeRanks/cl100k_base') as { default: (string | number[])[] };
  return Cl100kRanks.fromTokens(table.default);
}

let ranks: Cl100kRanks | undefined;

/**
 * cl100k_base's ranks, loaded on first use (beside the bundle in a production build), so that a process which
 * never counts tokens (an idle worker, the api) does not carry them.
 */
function cl100k(): Cl100kRanks {
  ranks ??= loadCl100kRanks(__dirname);
  return ranks;
}

/**
 * Token counts of pieces of the pre-tokenizer: the words, numbers, punctuation and spaces of a catalog's texts
 * repeat, so nearly every piece is found here. Made at the first count, so that a process that never counts
 * (an idle worker, the api) does not carry it.
 */
const PIECE_CACHE_SIZE = 65_536;
const PIECE_MAX_CHARS = 64;
let pieceCounts: SpanTable<number> | undefined;

/** The UTF-8 bytes of the piece being counted; grown for a longer piece. */
let pieceBytes = new Uint8Array(1024);
const utf8 = new TextEncoder();

/**
 * The token count of `text.slice(start, end)`, one piece of cl100k's pre-tokenizer (special-token strings
 * such as `<|endoftext|>` are ordinary text in an embeddings input).
 */
function pieceTokenCount(text: string, start: number, end: number, ascii: boolean): number {
  pieceCounts ??= new SpanTable(PIECE_CACHE_SIZE);
  const known = pieceCounts.get(text, start, end);
  if (known !== undefined) return known;
  const piece = text.slice(start, end);
  let length: number;
  if (ascii) {
    if (pieceBytes.length < piece.length) pieceBytes = new Uint8Array(piece.length * 2);
    for (let i = 0; i < piece.length; i++) pieceBytes[i] = piece.charCodeAt(i);
    length = piece.length;
  } else {
    if (pieceBytes.length < piece.length * 3) pieceBytes = new Uint8Array(piece.length * 6);
    length = utf8.encodeInto(piece, pieceBytes).written;
  }
  const count = cl100k().tokenCount(pieceBytes, length);
  if (piece.length <= PIECE_MAX_CHARS) pieceCounts.add(piece, count);
  return count;
}

/** cl100k's pre-tokenizer for any text (gpt-tokenizer's pattern), with a `lastIndex` of its own. */
const SPLIT = new RegExp(CL100K_TOKEN_SPLIT_REGEX.source, CL100K_TOKEN_SPLIT_REGEX.flags);

/**
 * Tokens of `text` as OpenAI's embedding models count them (cl100k_base): the sum of its pieces' counts, as
 * cl100k encodes each piece of its pre-tokenizer on its own. ASCII text is cut into pieces by character code
 * (`cl100k-pieces.ts`), other text by the pre-tokenizer's pattern.
 */
export function countTokens(text: string): number {
  let total = 0;
  if (isAscii(text)) {
    for (let start = 0; start < text.length; ) {
      const end = pieceEnd(text, start);
      total += pieceTokenCount(text, start, end, true);
      start = end;
    }
    return total;
  }
  SPLIT.lastIndex = 0;
  for (let match = SPLIT.exec(text); match !== null; match = SPLIT.exec(text)) {
    total += pieceTokenCount(text, match.index, match.index + match[0].length, false);
  }
  return total;
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
    if (countTokens(chars.slice(0, mid).join('')) > maxTokens) hi = mid;
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
