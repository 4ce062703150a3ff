import { countTokens as wholeTextCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { CL100K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { isAscii, pieceEnd } from './cl100k-pieces';
import { seededRandom } from '@catalog-indexer/testing';
import { countTokens } from './tokens';

/** The pieces `pieceEnd` cuts ASCII `text` into, one after another. */
function asciiPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start = pieceEnd(text, start)) pieces.push(text.slice(start, pieceEnd(text, start)));
  return pieces;
}

/** The pieces gpt-tokenizer's own pattern cuts `text` into. */
const patternPieces = (text: string): string[] => [...text.matchAll(CL100K_TOKEN_SPLIT_REGEX)].map((m) => m[0]);

/** Characters where the pattern's alternatives meet: contractions, letters, digits, every kind of space, breaks, controls. */
const TRICKY = "aZsSdDmMtTlLvVeErR'''0123456789      \t\t\n\n\r\v\f..,,!?-_()[]<|>\"#$%&*+/:;=@\\^`{}~\x00\x08\x0e\x1b\x1c\x1f\x7f";

function randomAsciiTexts(seed: number, count: number): string[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * 48);
    let text = '';
    for (let i = 0; i < length; i++) {
      // Mostly the tricky characters, sometimes any ASCII code.
      text += next() < 0.85 ? TRICKY[Math.floor(next() * TRICKY.length)] : String.fromCharCode(Math.floor(next() * 128));
    }
    return text;
  });
}

describe(pieceEnd.name, () => {
  it('cuts ASCII text into the pieces of the pattern, wherever its alternatives meet (seed 20261206)', () => {
    const seed = 20261206;
    const texts = randomAsciiTexts(seed, 20_000);
    for (const text of texts) {
      try {
        expect(asciiPieces(text)).toEqual(patternPieces(text));
      } catch (error) {
        throw new Error(`seed ${seed}, text ${JSON.stringify(text)}: ${(error as Error).message}`);
      }
    }
  });

  it('cuts contractions, words with what precedes them, numbers by three, and runs of spaces as the pattern does', () => {
    const cases = [
      "I'LL don't we've 'Re 'x",
      'order_id12345 = 3.14159, "Revenue (USD)"\n\n  next',
      '   trailing spaces   ',
      'a \n\n \t b\r\n\tc',
      '\tindented\v\fline',
      '',
      ' ',
      '?!\n\n\r',
    ];
    for (const text of cases) expect(asciiPieces(text)).toEqual(patternPieces(text));
  });
});

describe(isAscii.name, () => {
  it('tells ASCII text from text with any other character', () => {
    expect(isAscii('plain \x00\x7f text')).toBe(true);
    expect(isAscii('café')).toBe(false);
    expect(isAscii('😀')).toBe(false);
    expect(isAscii('')).toBe(true);
  });
});

describe(`${countTokens.name} of ASCII text, piece by piece`, () => {
  it('gives the count of gpt-tokenizer on the whole text (seed 20261207)', () => {
    const seed = 20261207;
    const words = randomAsciiTexts(seed, 4_000);
    // Texts longer than the cache's limit are counted piece by piece too.
    const texts = [...words, words.join(' '), 'SELECT count(*) FROM orders WHERE total > 100;\n'.repeat(200)];
    for (const text of texts) {
      const expected = wholeTextCount(text, { disallowedSpecial: new Set() });
      if (countTokens(text) !== expected) throw new Error(`seed ${seed}, text ${JSON.stringify(text.slice(0, 200))}: ${countTokens(text)} tokens, ${expected} expected`);
    }
  });
});
