import { isRetryableStatus } from './retryable';

describe(isRetryableStatus.name, () => {
  it.each([undefined, 408, 429, 500, 502, 503, 504, 599])('retries %s', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });

  it.each([200, 400, 401, 403, 404, 409, 413, 422])('does not retry %s', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});
