import { QdrantError } from './qdrant-error';
import { comparePointIds, parsePointId } from './point-id';

describe(parsePointId.name, () => {
  it('accepts unsigned integers as they are', () => {
    expect(parsePointId(0)).toBe(0);
    expect(parsePointId(42)).toBe(42);
  });

  it('returns UUIDs lowercase and hyphenated whatever form they came in', () => {
    const canonical = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    expect(parsePointId('3F2504E0-4F89-41D3-9A0C-0305E82C3301')).toBe(canonical);
    expect(parsePointId('3f2504e04f8941d39a0c0305e82c3301')).toBe(canonical);
    expect(parsePointId(`urn:uuid:${canonical}`)).toBe(canonical);
    expect(parsePointId(`{${canonical}}`)).toBe(canonical);
  });

  it('rejects other strings with the 400 Qdrant answers', () => {
    expect(() => parsePointId('users.orders')).toThrow(
      new QdrantError(400, 'Format error in JSON body: value users.orders is not a valid point ID, valid values are either an unsigned integer or a UUID'),
    );
    try {
      parsePointId('abc');
    } catch (err) {
      expect((err as QdrantError).status).toBe(400);
    }
  });

  it('rejects negative, fractional and non-scalar ids', () => {
    expect(() => parsePointId(-1)).toThrow(QdrantError);
    expect(() => parsePointId(1.5)).toThrow(QdrantError);
    expect(() => parsePointId(null)).toThrow(QdrantError);
    expect(() => parsePointId({ id: 1 })).toThrow(QdrantError);
  });
});

describe(comparePointIds.name, () => {
  it('orders integers ascending before UUIDs', () => {
    const ids = ['ffffffff-0000-0000-0000-000000000000', 10, '00000000-0000-0000-0000-000000000001', 2];
    expect([...ids].sort(comparePointIds)).toEqual([
      2,
      10,
      '00000000-0000-0000-0000-000000000001',
      'ffffffff-0000-0000-0000-000000000000',
    ]);
  });
});
