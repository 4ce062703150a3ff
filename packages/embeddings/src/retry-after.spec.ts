import { retryAfterMs } from './retry-after';

describe(retryAfterMs.name, () => {
  it('prefers retry-after-ms, then retry-after in seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '1250.5', 'retry-after': '2' }))).toBe(1250.5);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
  });

  it('reads an HTTP date as the time left until it', () => {
    const inFiveSeconds = new Date(Date.now() + 5_000).toUTCString();
    const ms = retryAfterMs(new Headers({ 'retry-after': inFiveSeconds }))!;
    expect(ms).toBeGreaterThan(3_000);
    expect(ms).toBeLessThanOrEqual(5_000);
  });

  it('says nothing when the headers do not', () => {
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });
});
