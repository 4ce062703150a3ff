/**
 * cl100k_base's byte-pair ranks as typed arrays, and the byte-pair merge that counts the tokens of one piece
 * of the pre-tokenizer.
 *
 * gpt-tokenizer keeps its 100,256 tokens as JavaScript strings in a `Map` (about 40 MB of heap, and some
 * 80 ms of CPU to build, after 80 ms to parse its table's source). Counting needs only a token's rank by its
 * bytes, so the tokens are kept here as one buffer of bytes with an open-addressing table over them (about
 * 2.4 MB), built from gpt-tokenizer's table or read back from the bytes of one built before
 * ({@link Cl100kRanks.toBuffer}).
 *
 * The merge is tiktoken's, as gpt-tokenizer runs it: a piece that is a token is one token; otherwise its
 * bytes start as parts of one byte each, and the adjacent pair of parts whose bytes form the token of
 * lowest rank is merged (the first such pair on a tie), until no adjacent pair forms a token. The count is
 * the number of parts left.
 */

/** FNV-1a over `bytes[start, end)`, seeded with the length. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}

/** The first four bytes of a serialized table. */
const MAGIC = 0x6b303031; // "100k"

export class Cl100kRanks {
  private readonly mask: number;
  /** Scratch of the merge: where each part starts, and the rank of each part with the next. */
  private partStarts = new Int32Array(256);
  private pairRanks = new Int32Array(256);

  private constructor(
    /** Every token's bytes, one after the other. */
    private readonly bytes: Uint8Array,
    /** Token `i`'s bytes are `bytes[offsets[i], offsets[i + 1])`. */
    private readonly offsets: Uint32Array,
    /** Token `i`'s rank. */
    private readonly ranks: Int32Array,
    /** Open addressing by hash of a token's bytes: token index + 1, or 0 for an empty slot. */
    private readonly slots: Int32Array,
  ) {
    this.mask = slots.length - 1;
  }

  /**
   * The table of `tokens`, indexed by rank: a token's text (its bytes in UTF-8), or its bytes when they are
   * not UTF-8 (gpt-tokenizer's `bpeRanks/cl100k_base`). Holes are ranks no token has.
   */
  static fromTokens(tokens: readonly (string | readonly number[] | undefined)[]): Cl100kRanks {
    const encoder = new TextEncoder();
    // A token's UTF-8 bytes are at most three per UTF-16 unit.
    let room = 0;
    let count = 0;
    for (const token of tokens) {
      if (token === undefined) continue;
      room += typeof token === 'string' ? token.length * 3 : token.length;
      count += 1;
    }
    const buffer = new Uint8Array(room);
    const offsets = new Uint32Array(count + 1);
    const ranks = new Int32Array(count);
    let at = 0;
    let i = 0;
    tokens.forEach((token, rank) => {
      if (token === undefined) return;
      offsets[i] = at;
      ranks[i] = rank;
      i += 1;
      if (typeof token !== 'string') {
        buffer.set(token, at);
        at += token.length;
        return;
      }
      let j = 0;
      while (j < token.length && token.charCodeAt(j) < 0x80) buffer[at++] = token.charCodeAt(j++);
      if (j < token.length) at += encoder.encodeInto(token.slice(j), buffer.subarray(at)).written;
    });
    offsets[count] = at;
    const bytes = buffer.slice(0, at);
    let size = 1;
    while (size < count * 2) size *= 2;
    const slots = new Int32Array(size);
    for (let k = 0; k < count; k++) {
      let slot = hashBytes(bytes, offsets[k]!, offsets[k + 1]!) & (size - 1);
      while (slots[slot] !== 0) slot = (slot + 1) & (size - 1);
      slots[slot] = k + 1;
    }
    return new Cl100kRanks(bytes, offsets, ranks, slots);
  }

  /** The table as bytes: a header (magic, counts) and the four arrays, each at an offset that is a multiple of 4. */
  toBuffer(): Buffer {
    const header = new Uint32Array([MAGIC, this.ranks.length, this.bytes.length, this.slots.length]);
    const padded = (this.bytes.length + 3) & ~3;
    const out = Buffer.alloc(header.byteLength + this.offsets.byteLength + this.ranks.byteLength + this.slots.byteLength + padded);
    let at = 0;
    for (const part of [header, this.offsets, this.ranks, this.slots]) {
      out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
      at += part.byteLength;
    }
    out.set(this.bytes, at);
    return out;
  }

  /** A table from the bytes {@link toBuffer} made. Throws when they are not such bytes. */
  static fromBuffer(buffer: Uint8Array): Cl100kRanks {
    // Aligned copy: the typed arrays below view it in place.
    const data = new Uint8Array(buffer.byteLength);
    data.set(buffer);
    const words = (offset: number, count: number) => new Uint32Array(data.buffer, offset, count);
    if (data.byteLength < 16) throw new Error('not a cl100k rank table: too short');
    const [magic, tokens, byteCount, slotCount] = words(0, 4) as unknown as [number, number, number, number];
    const expected = 16 + 4 * (tokens + 1) + 4 * tokens + 4 * slotCount + ((byteCount + 3) & ~3);
    if (magic !== MAGIC || data.byteLength !== expected || (slotCount & (slotCount - 1)) !== 0) {
      throw new Error('not a cl100k rank table: its header does not match its size');
    }
    let at = 16;
    const offsets = words(at, tokens + 1);
    at += offsets.byteLength;
    const ranks = new Int32Array(data.buffer, at, tokens);
    at += ranks.byteLength;
    const slots = new Int32Array(data.buffer, at, slotCount);
    at += slots.byteLength;
    return new Cl100kRanks(new Uint8Array(data.buffer, at, byteCount), offsets, ranks, slots);
  }

  /** The rank of the token whose bytes are `input[start, end)`, or -1 when no token has them. */
  rank(input: Uint8Array, start: number, end: number): number {
    const { bytes, offsets, slots, mask } = this;
    const length = end - start;
    let slot = hashBytes(input, start, end) & mask;
    for (let entry = slots[slot]!; entry !== 0; entry = slots[slot]!) {
      const from = offsets[entry - 1]!;
      if (offsets[entry]! - from === length) {
        let i = 0;
        while (i < length && bytes[from + i] === input[start + i]) i++;
        if (i === length) return this.ranks[entry - 1]!;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** How many tokens cl100k encodes the piece `input[0, length)` into. */
  tokenCount(input: Uint8Array, length: number): number {
    if (length === 0) return 0;
    if (this.rank(input, 0, length) >= 0) return 1;
    if (this.partStarts.length <= length) {
      this.partStarts = new Int32Array(length * 2);
      this.pairRanks = new Int32Array(length * 2);
    }
    const starts = this.partStarts;
    const ranks = this.pairRanks;
    // Parts of one byte; parts[i] spans starts[i] to starts[i + 1]; ranks[i] is the rank of parts i and i + 1.
    let parts = length;
    for (let i = 0; i <= length; i++) starts[i] = i;
    for (let i = 0; i < parts - 1; i++) ranks[i] = this.pairRank(input, starts, i, parts);
    while (parts > 1) {
      let lowest = -1;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        const r = ranks[i]!;
        if (r >= 0 && (lowest < 0 || r < lowest)) {
          lowest = r;
          at = i;
        }
      }
      if (at < 0) break;
      // Part at + 1 joins part at.
      starts.copyWithin(at + 1, at + 2, parts + 1);
      ranks.copyWithin(at + 1, at + 2, parts - 1);
      parts -= 1;
      if (at < parts - 1) ranks[at] = this.pairRank(input, starts, at, parts);
      if (at > 0) ranks[at - 1] = this.pairRank(input, starts, at - 1, parts);
    }
    return parts;
  }

  /** The rank of parts `i` and `i + 1` merged, or -1. */
  private pairRank(input: Uint8Array, starts: Int32Array, i: number, parts: number): number {
    if (i + 1 >= parts) return -1;
    return this.rank(input, starts[i]!, starts[i + 2]!);
  }

  /** Tokens in the table. */
  get size(): number {
    return this.ranks.length;
  }
}
