/**
 * Whether another attempt may get past a failed HTTP call with this answer: no answer at all (`undefined`:
 * refused or lost connection, timeout), 408 Request Timeout, 429 Too Many Requests and any 5xx. Other 4xx
 * say what is wrong with the request; sending it again changes nothing.
 */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}
