import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seededRandom } from '@catalog-indexer/testing';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { Cl100kRanks } from './cl100k-ranks';
import { CL100K_TABLE_FILE, loadCl100kRanks } from './tokens';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const TOKENS = (require('gpt-tokenizer/bpeRanks/cl100k_base') as { default: (string | number[])[] }).default;
const utf8 = new TextEncoder();
const bytesOf = (token: string | number[]): Uint8Array => (typeof token === 'string' ? utf8.encode(token) : Uint8Array.from(token));
const countPiece = (table: Cl100kRanks, piece: string): number => {
  const bytes = utf8.encode(piece);
  return table.tokenCount(bytes, bytes.length);
};

describe(Cl100kRanks.name, () => {
  const table = Cl100kRanks.fromTokens(TOKENS);

  it("finds every token of gpt-tokenizer's table at its rank, by its bytes", () => {
    let tokens = 0;
    TOKENS.forEach((token, rank) => {
      const bytes = bytesOf(token);
      if (table.rank(bytes, 0, bytes.length) !== rank) throw new Error(`token ${rank} (${JSON.stringify(token)}) not found at its rank`);
      tokens += 1;
    });
    expect(tokens).toBe(100_256);
    expect(table.size).toBe(tokens);
    // A sequence of bytes that is no token, and one found inside a longer input.
    expect(table.rank(utf8.encode('zqxjvkwpz'), 0, 9)).toBe(-1);
    const hello = utf8.encode('>>hello<<');
    expect(table.rank(hello, 2, 7)).toBe(TOKENS.indexOf('hello'));
  });

  it("counts the tokens of each piece as gpt-tokenizer encodes it (seed 20261208, 6,000 texts)", () => {
    const random = seededRandom(20261208);
    const alphabet = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n\t.,;:_-()\'"', 'é', 'ß', 'ñ', '数据', '表', 'α', 'Ω', '😀', '🎉', '\u0301', '\u00a0', 'ق', 'ह'];
    let pieces = 0;
    for (let t = 0; t < 6_000; t++) {
      const length = 1 + Math.floor(random() * 60);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      for (const [piece] of text.matchAll(CL100K_TOKEN_SPLIT_REGEX)) {
        const expected = encode(piece, { disallowedSpecial: new Set() }).length;
        const counted = countPiece(table, piece);
        if (counted !== expected) throw new Error(`seed 20261208: ${JSON.stringify(piece)} counted ${counted}, gpt-tokenizer ${expected}`);
        pieces += 1;
      }
    }
    expect(pieces).toBeGreaterThan(40_000);
  });

  it('merges the pair of lowest rank first, however the pairs lie', () => {
    // Ranks: a b c d, then bc before ab before cd. Merging ab first would end in ab|cd (2 tokens);
    // the lowest rank first gives a|bc|d, and no pair of those is a token.
    const small = Cl100kRanks.fromTokens(['a', 'b', 'c', 'd', 'bc', 'ab', 'cd']);
    expect(countPiece(small, 'abcd')).toBe(3);
    expect(countPiece(small, 'abab')).toBe(2);
    expect(countPiece(small, 'dcba')).toBe(4);
    expect(countPiece(small, 'bc')).toBe(1);
    expect(countPiece(small, '')).toBe(0);
    // A piece longer than the merge's first scratch arrays.
    expect(countPiece(small, 'ab'.repeat(300))).toBe(300);
  });

  it('reads back from its bytes as the same table, and refuses bytes that are not one', () => {
    const bytes = table.toBuffer();
    const back = Cl100kRanks.fromBuffer(bytes);
    expect(Buffer.compare(back.toBuffer(), bytes)).toBe(0);
    expect(back.size).toBe(table.size);
    expect(countPiece(back, ' catalogue')).toBe(countPiece(table, ' catalogue'));
    // Read from an offset that is not a multiple of 4, as a slice of a larger buffer can be.
    const shifted = Buffer.concat([Buffer.from([1, 2, 3]), bytes]).subarray(3);
    expect(countPiece(Cl100kRanks.fromBuffer(shifted), 'revenue_total')).toBe(countPiece(table, 'revenue_total'));
    expect(() => Cl100kRanks.fromBuffer(bytes.subarray(0, bytes.length - 4))).toThrow(/not a cl100k rank table: its header does not match its size/);
    expect(() => Cl100kRanks.fromBuffer(Buffer.from('not a table at all'))).toThrow(/not a cl100k rank table/);
    expect(() => Cl100kRanks.fromBuffer(Buffer.alloc(8))).toThrow(/too short/);
  });
});

describe(loadCl100kRanks.name, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cl100k-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the table file a production build writes beside its bundle, else builds gpt-tokenizer's", () => {
    const built = loadCl100kRanks(dir);
    expect(built.size).toBe(100_256);
    // A file of a table of its own: what is loaded is that table, not gpt-tokenizer's.
    writeFileSync(path.join(dir, CL100K_TABLE_FILE), Cl100kRanks.fromTokens(['a', 'b', 'ab']).toBuffer());
    const read = loadCl100kRanks(dir);
    expect(read.size).toBe(3);
    expect(countPiece(read, 'abab')).toBe(2);
    writeFileSync(path.join(dir, CL100K_TABLE_FILE), 'damaged');
    expect(() => loadCl100kRanks(dir)).toThrow(/not a cl100k rank table/);
  });
});
