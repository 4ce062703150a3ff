import {
  EMBEDDINGS_BACKOFF,
  EMBEDDINGS_RATE_LIMIT_BACKOFF,
  JOB_BACKOFF,
  QDRANT_BACKOFF,
  REDIS_ERROR_BACKOFF,
  REPLAN_BACKOFF,
  STORE_OUTAGE_BACKOFF,
  backoffDelay,
  type BackoffRule,
} from './backoff';

const low = () => 0;
const middle = () => 0.5;
const high = () => 0.999_999;
const delays = (rule: BackoffRule, attempts: number, random: () => number) =>
  Array.from({ length: attempts }, (_, i) => backoffDelay(rule, i + 1, random));

describe(backoffDelay.name, () => {
  it('doubles from the first wait and stops growing at the cap', () => {
    expect(delays({ initialMs: 100, maxMs: 1_000 }, 6, middle)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('treats attempt 0 or less as the first retry', () => {
    expect(backoffDelay({ initialMs: 100, maxMs: 1_000 }, 0)).toBe(100);
    expect(backoffDelay({ initialMs: 100, maxMs: 1_000 }, -3)).toBe(100);
  });

  it('stays at the cap, a finite number, after very many attempts, even from a first wait of 0', () => {
    expect(backoffDelay({ initialMs: 100, maxMs: 1_000 }, 10_000)).toBe(1_000);
    expect(backoffDelay({ initialMs: 0, maxMs: 1_000 }, 10_000)).toBe(0);
  });

  it('multiplies by a factor between the jitter bounds, the low one included', () => {
    const rule: BackoffRule = { initialMs: 1_000, maxMs: 10_000, jitter: [0.5, 1.5] };
    expect(backoffDelay(rule, 2, low)).toBe(1_000);
    expect(backoffDelay(rule, 2, middle)).toBe(2_000);
    expect(backoffDelay(rule, 2, high)).toBe(3_000);
    for (let i = 0; i < 200; i++) {
      const wait = backoffDelay(rule, 2);
      expect(wait).toBeGreaterThanOrEqual(1_000);
      expect(wait).toBeLessThanOrEqual(3_000);
    }
  });

  it('lets jitter go past the cap unless the rule cuts the jittered wait too', () => {
    const rule: BackoffRule = { initialMs: 1_000, maxMs: 4_000, jitter: [0.8, 1.2] };
    expect(backoffDelay(rule, 9, high)).toBe(4_800);
    expect(backoffDelay({ ...rule, capJittered: true }, 9, high)).toBe(4_000);
    expect(backoffDelay({ ...rule, capJittered: true }, 9, low)).toBe(3_200);
  });

  it('answers whole milliseconds', () => {
    expect(backoffDelay({ initialMs: 333, maxMs: 10_000, jitter: [0.75, 1.25] }, 1, () => 0.3)).toBe(300);
  });
});

describe('the rules of the product', () => {
  it('retries a job from 2 s doubling to 60 s, ±20 %', () => {
    expect(delays(JOB_BACKOFF, 8, middle)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(backoffDelay(JOB_BACKOFF, 3, low)).toBe(6_400);
    expect(backoffDelay(JOB_BACKOFF, 3, high)).toBe(9_600);
  });

  it('pauses a worker whose Redis calls fail from 1 s doubling to 30 s, ±20 %, never past 30 s', () => {
    expect(delays(REDIS_ERROR_BACKOFF, 7, middle)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoffDelay(REDIS_ERROR_BACKOFF, 1, low)).toBe(800);
    expect(backoffDelay(REDIS_ERROR_BACKOFF, 1, high)).toBe(1_200);
    expect(backoffDelay(REDIS_ERROR_BACKOFF, 20, high)).toBe(30_000);
  });

  it('retries an embeddings request from 0.5 s doubling to at most 8 s, shortened by up to a quarter', () => {
    expect(delays(EMBEDDINGS_BACKOFF, 7, high)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(delays(EMBEDDINGS_BACKOFF, 2, low)).toEqual([375, 750]);
  });

  it('waits out a 429 without retry-after from 1 s doubling to 60 s, the same for everyone', () => {
    expect(delays(EMBEDDINGS_RATE_LIMIT_BACKOFF, 8, high)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(backoffDelay(EMBEDDINGS_RATE_LIMIT_BACKOFF, 3, low)).toBe(4_000);
  });

  it('retries a Qdrant call from 0.2 s doubling to 5 s, ±25 %', () => {
    expect(delays(QDRANT_BACKOFF, 7, middle)).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
    expect(backoffDelay(QDRANT_BACKOFF, 1, low)).toBe(150);
    expect(backoffDelay(QDRANT_BACKOFF, 10, high)).toBe(6_250);
  });

  it('waits out a vector store outage from 0.5 s doubling to 15 s, without jitter', () => {
    expect(delays(STORE_OUTAGE_BACKOFF, 7, high)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect(backoffDelay(STORE_OUTAGE_BACKOFF, 2, low)).toBe(1_000);
  });

  it('plans a run again after failed batches from 1 s doubling to 30 s', () => {
    expect(delays(REPLAN_BACKOFF, 7, middle)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});
