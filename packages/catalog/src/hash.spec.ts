import { createHash } from 'node:crypto';
import { contentHash } from './hash';

describe(contentHash.name, () => {
  const model = 'text-embedding-3-large';

  it('is the SHA-256 of the canonical JSON of content, dimensions and model', () => {
    const expected = createHash('sha256').update('{"content":"Table sales.orders","dimensions":3072,"model":"text-embedding-3-large"}').digest('hex');
    expect(contentHash('Table sales.orders', model, 3072)).toBe(expected);
  });

  it('is the same for the same inputs', () => {
    expect(contentHash('abc', model, 3072)).toBe(contentHash('abc', model, 3072));
  });

  it('changes with the content, the model or the dimensions', () => {
    const base = contentHash('abc', model, 3072);
    expect(contentHash('abd', model, 3072)).not.toBe(base);
    expect(contentHash('abc', 'text-embedding-3-small', 3072)).not.toBe(base);
    expect(contentHash('abc', model, 1536)).not.toBe(base);
  });

  it('cannot be imitated by moving text between content and model', () => {
    expect(contentHash('a', 'bc', 8)).not.toBe(contentHash('ab', 'c', 8));
  });

  it('refuses dimensions that are not a positive integer', () => {
    expect(() => contentHash('abc', model, 0)).toThrow(RangeError);
    expect(() => contentHash('abc', model, 1.5)).toThrow(RangeError);
    expect(() => contentHash('abc', model, Number.NaN)).toThrow(RangeError);
  });
});
