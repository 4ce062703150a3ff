import { countTokens, truncateToTokens } from './tokens';

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

describe(countTokens.name, () => {
  it('counts special-token strings as ordinary text instead of throwing', () => {
    expect(countTokens('hello <|endoftext|> world')).toBe(8);
    expect(truncateToTokens('x <|endoftext|> '.repeat(100), 10).tokens).toBeLessThanOrEqual(10);
  });
});
