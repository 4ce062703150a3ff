import { DEFAULT_RRF_K, distributionBasedScoreFusion, reciprocalRankFusion } from './fusion';

const hits = (...ids: number[]): { point: { id: number }; score: number }[] => ids.map((id, i) => ({ point: { id }, score: 1 - i / 10 }));

describe(reciprocalRankFusion.name, () => {
  it('adds 1 / (position + k) over the sources, best first', () => {
    const fused = reciprocalRankFusion([hits(2, 1), hits(1, 2, 3), hits(5, 3, 1)], DEFAULT_RRF_K);
    expect(fused.map((h) => h.point.id)).toEqual([1, 2, 3, 5]);
    expect(fused[0]?.score).toBeCloseTo(1 / 3 + 1 / 2 + 1 / 4, 6);
    expect(fused[3]?.score).toBeCloseTo(0.5, 6);
  });

  it('stretches positions by the source weight and ignores sources of weight 0', () => {
    const fused = reciprocalRankFusion([hits(1, 2), hits(2, 1)], DEFAULT_RRF_K, [3, 1]);
    expect(fused[0]?.point.id).toBe(2);
    expect(fused[0]?.score).toBeCloseTo(1 / (2 / 3 + 1) + 1 / 2, 6);
    const silenced = reciprocalRankFusion([hits(1), hits(2)], 60, [1, 0]);
    expect(silenced.find((h) => h.point.id === 2)?.score).toBe(0);
  });

  it('refuses a weight list that does not match the prefetches', () => {
    expect(() => reciprocalRankFusion([hits(1), hits(2)], 2, [1])).toThrow('Number of weights in RRF should match number of pre-fetches: got 1, expected 2');
  });
});

describe(distributionBasedScoreFusion.name, () => {
  it('maps each source to mean ± 3 sample deviations and sums, flipping distance sources', () => {
    const a = [{ point: { id: 1 }, score: 3 }, { point: { id: 2 }, score: 1 }];
    const b = [{ point: { id: 2 }, score: 0.1 }, { point: { id: 1 }, score: 0.9 }];
    const fused = distributionBasedScoreFusion([a, b], [true, false]);
    const std = Math.sqrt(2);
    expect(fused[0]?.point.id).toBe(1);
    expect(fused[0]?.score).toBeCloseTo((3 - (2 - 3 * std)) / (6 * std) + (0.5 + 3 * Math.sqrt(0.32) - 0.9) / (6 * Math.sqrt(0.32)), 6);
    expect(distributionBasedScoreFusion([[{ point: { id: 7 }, score: 42 }]], [true])[0]?.score).toBe(0.5);
  });
});
