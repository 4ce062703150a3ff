import { createHash } from 'node:crypto';
import { contentHash, sha256Hex } from './hash';

describe(contentHash.name, () => {
  const openai = { provider: 'openai', model: 'text-embedding-3-large', dimensions: 3072 };

  it('is the SHA-256 of the canonical JSON of content, dimensions, model and provider', () => {
    const expected = createHash('sha256')
      .update('{"content":"Table sales.orders","dimensions":3072,"model":"text-embedding-3-large","provider":"openai"}')
      .digest('hex');
    expect(contentHash('Table sales.orders', openai)).toBe(expected);
  });

  it('is the same for the same inputs', () => {
    expect(contentHash('abc', openai)).toBe(contentHash('abc', { ...openai }));
  });

  it('changes with the content, the provider, the model or the dimensions', () => {
    const base = contentHash('abc', openai);
    expect(contentHash('abd', openai)).not.toBe(base);
    expect(contentHash('abc', { ...openai, provider: 'local' })).not.toBe(base);
    expect(contentHash('abc', { ...openai, model: 'text-embedding-3-small' })).not.toBe(base);
    expect(contentHash('abc', { ...openai, dimensions: 1536 })).not.toBe(base);
  });

  it('never equals a hash of the form before providers were part of it', () => {
    const before = createHash('sha256').update('{"content":"abc","dimensions":3072,"model":"text-embedding-3-large"}').digest('hex');
    expect(contentHash('abc', openai)).not.toBe(before);
    expect(contentHash('abc', { ...openai, provider: 'local' })).not.toBe(before);
  });

  it('cannot be imitated by moving text between content, model and provider', () => {
    expect(contentHash('a', { provider: 'p', model: 'bc', dimensions: 8 })).not.toBe(contentHash('ab', { provider: 'p', model: 'c', dimensions: 8 }));
    expect(contentHash('a', { provider: 'pq', model: 'c', dimensions: 8 })).not.toBe(contentHash('a', { provider: 'p', model: 'qc', dimensions: 8 }));
  });

  it('refuses dimensions that are not a positive integer, and an empty provider or model', () => {
    expect(() => contentHash('abc', { ...openai, dimensions: 0 })).toThrow(RangeError);
    expect(() => contentHash('abc', { ...openai, dimensions: 1.5 })).toThrow(RangeError);
    expect(() => contentHash('abc', { ...openai, dimensions: Number.NaN })).toThrow(RangeError);
    expect(() => contentHash('abc', { ...openai, provider: '' })).toThrow(RangeError);
    expect(() => contentHash('abc', { ...openai, model: '' })).toThrow(RangeError);
  });
});


describe(sha256Hex.name, () => {
  it('is the hex SHA-256 of the text as UTF-8, as a Hash object computes it', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const text of ['', 'Tábla „ügyfél” ✓ 表 😀', 'x'.repeat(10_000)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });
});
