import { packBatches, spreadBatches, type PreparedInput } from './batching';

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

describe(spreadBatches.name, () => {
  const limits = { maxInputs: 512, maxTokensPerRequest: 100_000 };
  /** Batch sizes (inputs per batch) of an assignment, checking that batches are contiguous and numbered from 0. */
  const sizes = (assignment: number[]): number[] => {
    const out: number[] = [];
    let contiguous = true;
    assignment.forEach((b, i) => {
      if (b === out.length) out.push(0);
      if (b !== out.length - 1 || (i === 0 && b !== 0)) contiguous = false;
      out[out.length - 1]! += 1;
    });
    expect(contiguous).toBe(true);
    return out;
  };
  const tokensOf = (n: number, each = 40): number[] => Array.from({ length: n }, (_, i) => each + (i % 7));

  it('keeps the greedy plan with one slot', () => {
    const tokens = tokensOf(6_172);
    expect(sizes(spreadBatches(tokens, limits, { slots: 1 }))).toHaveLength(13);
  });

  it('rounds a mid-size catalog up to full rounds of the slots, within half as many requests again', () => {
    const tokens = tokensOf(6_172);
    const three = sizes(spreadBatches(tokens, limits, { slots: 6 }));
    expect(three).toHaveLength(18);
    expect(Math.max(...three) - Math.min(...three)).toBeLessThanOrEqual(3);
    expect(sizes(spreadBatches(tokens, limits, { slots: 2 }))).toHaveLength(14);
    // 13 batches over 12 slots would take 26: more than 1.5× the requests, so the plan stays greedy.
    expect(sizes(spreadBatches(tokens, limits, { slots: 12 }))).toHaveLength(13);
  });

  it('gives every slot a batch when the catalog fills them, however few batches packing would make', () => {
    const tokens = tokensOf(600);
    expect(sizes(spreadBatches(tokens, limits, { slots: 6 }))).toHaveLength(6);
    // Too small to fill 6 slots of 200 inputs: greedy packing (512 + 88).
    expect(sizes(spreadBatches(tokens, limits, { slots: 6, minInputs: 200 }))).toEqual([512, 88]);
    expect(sizes(spreadBatches(tokensOf(40), limits, { slots: 6 }))).toHaveLength(1);
  });

  it('balances batches by tokens when the token limit is the nearer one, and by inputs when the input limit is', () => {
    const tokens = [...Array.from({ length: 100 }, () => 10), ...Array.from({ length: 100 }, () => 90)];
    const assignment = spreadBatches(tokens, { maxInputs: 2048, maxTokensPerRequest: 100_000 }, { slots: 4 });
    const perBatch = new Map<number, number>();
    assignment.forEach((b, i) => perBatch.set(b, (perBatch.get(b) ?? 0) + tokens[i]!));
    expect(perBatch.size).toBe(4);
    for (const t of perBatch.values()) expect(Math.abs(t - 2_500)).toBeLessThanOrEqual(90);

    // 512 inputs per request are nearer to full than 100,000 tokens: batches of 50 inputs each.
    expect(sizes(spreadBatches(tokens, limits, { slots: 4 }))).toEqual([50, 50, 50, 50]);
  });

  it('never breaks the input and token limits, and never makes more batches than allowed unless packing needs them', () => {
    const tokens = tokensOf(5_000, 100);
    const tight = { maxInputs: 300, maxTokensPerRequest: 20_000 };
    const assignment = spreadBatches(tokens, tight, { slots: 4 });
    const batches = sizes(assignment);
    const used = new Map<number, number>();
    assignment.forEach((b, i) => used.set(b, (used.get(b) ?? 0) + tokens[i]!));
    expect(Math.max(...batches)).toBeLessThanOrEqual(300);
    expect(Math.max(...used.values())).toBeLessThanOrEqual(20_000);
    expect(batches.length % 4).toBe(0);
    const greedy = packBatches(tokens.map((t, index) => ({ index, text: '', tokens: t })), { ...tight, maxTokensPerInput: 8191 }).length;
    expect(sizes(spreadBatches(tokens, tight, { slots: 64, maxBatches: 1 }))).toHaveLength(greedy);
    expect(sizes(spreadBatches(tokensOf(600), limits, { slots: 6, maxBatches: 3 }))).toHaveLength(3);
  });

  it('keeps batches of about one size where short inputs cluster and would fill a batch to its input limit first', () => {
    const tokens = [...Array.from({ length: 3_000 }, () => 60), ...Array.from({ length: 2_000 }, () => 8), ...Array.from({ length: 1_000 }, () => 60)];
    const batches = sizes(spreadBatches(tokens, limits, { slots: 2 }));
    expect(Math.max(...batches)).toBeLessThanOrEqual(512);
    expect(Math.min(...batches)).toBeGreaterThan(100);
    expect(batches.length % 2).toBe(0);
  });

  it('plans nothing for no inputs', () => {
    expect(spreadBatches([], limits, { slots: 6 })).toEqual([]);
  });
});
