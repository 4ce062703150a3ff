import { SlidingWindowLimiter, formatResetDuration } from './rate-limiter';

describe(SlidingWindowLimiter.name, () => {
  it('grants amounts until the window holds the limit, then says how long to wait', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter(100, () => now);
    expect(limiter.tryTake(60).allowed).toBe(true);
    now = 10_000;
    expect(limiter.tryTake(30).allowed).toBe(true);
    expect(limiter.remaining()).toBe(10);
    now = 20_000;
    // 60 tokens granted at t=0 leave the window at t=60s: 40 s from now.
    expect(limiter.tryTake(50)).toEqual({ allowed: false, retryAfterMs: 40_000 });
    now = 60_001;
    expect(limiter.tryTake(50).allowed).toBe(true);
  });

  it('reports when the whole limit is available again', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter(10, () => now);
    limiter.tryTake(5);
    now = 15_000;
    limiter.tryTake(1);
    expect(limiter.resetInMs()).toBe(60_000);
    now = 75_001;
    expect(limiter.resetInMs()).toBe(0);
    expect(limiter.remaining()).toBe(10);
  });

  it('asks a request larger than the limit to wait a whole window', () => {
    const limiter = new SlidingWindowLimiter(10, () => 0);
    expect(limiter.tryTake(11)).toEqual({ allowed: false, retryAfterMs: 60_000 });
  });
});

describe(formatResetDuration.name, () => {
  it('formats durations like the OpenAI headers', () => {
    expect(formatResetDuration(12)).toBe('12ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1500)).toBe('1.5s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(61_250)).toBe('1m1.25s');
  });
});
