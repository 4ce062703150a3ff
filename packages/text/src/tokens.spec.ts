import { countTokens, tokenSegments, truncateToTokens } from './tokens';

describe(truncateToTokens.name, () => {
  it('cuts a long text to the token limit and leaves a short one alone', () => {
    const long = 'customer order revenue '.repeat(5000);
    const cut = truncateToTokens(long, 100);
    expect(cut.tokens).toBe(100);
    expect(countTokens(cut.text)).toBeLessThanOrEqual(100);
    expect(truncateToTokens('hello world', 100)).toEqual({ text: 'hello world', tokens: 2 });
  });
});

describe(`${truncateToTokens.name} with multi-byte characters`, () => {
  it('returns a clean prefix within the limit with its exact count, however earlier cuts fell', () => {
    // Cuts inside emoji and CJK characters, one after another, as a batch of long chunks would make them.
    const texts = ['😀 '.repeat(9000), '数据库表列 '.repeat(5000), 'ab😀c🎉 '.repeat(4000), '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 '.repeat(3000)];
    for (const text of texts) {
      for (const max of [8191, 8190, 101, 100, 7]) {
        const cut = truncateToTokens(text, max);
        expect(cut.tokens).toBeLessThanOrEqual(max);
        expect(countTokens(cut.text)).toBe(cut.tokens);
        expect(text.startsWith(cut.text)).toBe(true);
        expect(cut.text).not.toContain('\uFFFD');
        // The longest such prefix: one more character would not fit.
        expect(countTokens(Array.from(text).slice(0, Array.from(cut.text).length + 1).join(''))).toBeGreaterThan(max);
      }
    }
  });
});

describe(`${countTokens.name} of repeated texts`, () => {
  it('answers the same count for a text every time, also after its memory of counts fills and empties', () => {
    const texts = Array.from({ length: 40_000 }, (_, i) => `Column shop.orders.c${i} (integer): holds ${i % 7} items.`);
    const first = texts.map(countTokens);
    expect(texts.map(countTokens)).toEqual(first);
    expect(first[0]).toBe(countTokens('Column shop.orders.c0 (integer): holds 0 items.'));
    expect(countTokens('hello world')).toBe(2);
    const long = 'revenue '.repeat(1_000);
    expect(countTokens(long)).toBeGreaterThanOrEqual(1_000);
    expect(countTokens(long)).toBe(countTokens(long));
  });
});

describe(countTokens.name, () => {
  it('counts special-token strings as ordinary text instead of throwing', () => {
    expect(countTokens('hello <|endoftext|> world')).toBe(8);
    expect(truncateToTokens('x <|endoftext|> '.repeat(100), 10).tokens).toBeLessThanOrEqual(10);
  });
});

describe(tokenSegments.name, () => {
  const sum = (text: string): number => tokenSegments(text).reduce((n, segment) => n + countTokens(segment), 0);

  it('cuts a context after its line breaks, before lines and indented lines, and keeps the text whole', () => {
    const text = '-- Orders\nCREATE TABLE sales.orders (\n  id integer PRIMARY KEY,\n  "Revenue (USD)" numeric\n);\n\n-- JOIN ON a.b = c.d';
    expect(tokenSegments(text)).toEqual([
      '-- Orders\n',
      'CREATE TABLE sales.orders (\n',
      '  id integer PRIMARY KEY,\n',
      '  "Revenue (USD)" numeric\n',
      ');\n\n',
      '-- JOIN ON a.b = c.d',
    ]);
    expect(tokenSegments('')).toEqual([]);
    expect(tokenSegments('a\n\n  \n')).toEqual(['a\n\n  \n']);
  });

  it('gives pieces whose token counts add up to the count of the whole text, for random texts of line breaks, spaces, words and signs', () => {
    const seed = Number(process.env.TOKENS_SEED ?? Date.now() % 1_000_000);
    // mulberry32: a small seeded generator, so a failure can be replayed with TOKENS_SEED.
    let state = seed;
    const random = (): number => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const parts = ['\n', '\n', '\r\n', '\r', ' ', '  ', '\t', '\u00a0', '\u2028', 'id', 'Revenue', ' (USD)', '42', '1234', ',', ');', '--', "'s", "'ll", '"', 'é', '数据', '😀', '.', '(', ' -- note'];
    try {
      for (let i = 0; i < 3000; i++) {
        let text = '';
        const length = 1 + Math.floor(random() * 40);
        for (let j = 0; j < length; j++) text += parts[Math.floor(random() * parts.length)];
        expect({ text, tokens: sum(text) }).toEqual({ text, tokens: countTokens(text) });
        expect(tokenSegments(text).join('')).toBe(text);
      }
    } catch (error) {
      throw new Error(`seed ${seed} (replay with TOKENS_SEED=${seed}): ${String(error)}`);
    }
  });
});
