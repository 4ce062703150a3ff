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
