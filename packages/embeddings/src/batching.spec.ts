import { packBatches, type PreparedInput } from './batching';

const inputs = (tokens: number[]): PreparedInput[] => tokens.map((t, index) => ({ index, text: `t${index}`, tokens: t }));

describe(packBatches.name, () => {
  it('keeps every batch within the token budget, in order', () => {
    const batches = packBatches(inputs([40, 30, 40, 10, 90]), { maxInputs: 100, maxTokensPerInput: 100, maxTokensPerRequest: 100 });
    expect(batches.map((b) => b.map((i) => i.index))).toEqual([[0, 1], [2, 3], [4]]);
    for (const b of batches) expect(b.reduce((s, i) => s + i.tokens, 0)).toBeLessThanOrEqual(100);
  });

  it('keeps every batch within the input count', () => {
    const batches = packBatches(inputs(new Array(5).fill(1)), { maxInputs: 2, maxTokensPerInput: 10, maxTokensPerRequest: 1000 });
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('refuses an input over the per-input limit instead of sending it to fail', () => {
    expect(() => packBatches(inputs([5, 11]), { maxInputs: 10, maxTokensPerInput: 10, maxTokensPerRequest: 100 })).toThrow(RangeError);
  });
});
