import { MAX_BACKOFF_MS, cappedBackoff, jobCatalog } from './job-catalog';

describe('cappedBackoff', () => {
  const middle = () => 0.5;

  it('doubles from 2 s and stops growing at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => cappedBackoff(n, 2_000, middle))).toEqual([
      2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(cappedBackoff(50, 2_000, middle)).toBe(MAX_BACKOFF_MS);
  });

  it('spreads retries by at most 20 % either way', () => {
    expect(cappedBackoff(3, 2_000, () => 0)).toBe(6_400);
    expect(cappedBackoff(3, 2_000, () => 0.999_999)).toBe(9_600);
  });

  it.each(['reindex', 'embed-batch', 'cleanup'] as const)(
    'gives a %s job the patience to outlive an outage of five minutes',
    (name) => {
      const attempts = jobCatalog[name].options.attempts;
      // The shortest possible total wait (every jitter at its low end) before the last attempt.
      let waited = 0;
      for (let n = 1; n < attempts; n++) waited += cappedBackoff(n, 2_000, () => 0);
      expect(waited).toBeGreaterThan(5 * 60_000);
    },
  );
});
