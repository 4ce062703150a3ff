import { hashingVector, words } from './hashing-vector';

const cosine = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);

describe(hashingVector.name, () => {
  it('returns unit vectors of the requested size', () => {
    const v = hashingVector('customer orders by region', 256);
    expect(v).toHaveLength(256);
    expect(cosine(v, v)).toBeCloseTo(1, 10);
  });

  it('is deterministic', () => {
    expect(hashingVector('sales.orders', 64)).toEqual(hashingVector('sales.orders', 64));
  });

  it('puts texts that share words closer than unrelated texts', () => {
    const q = hashingVector('how many orders did each customer place', 512);
    const related = hashingVector('table sales.orders: one row per order placed by a customer', 512);
    const unrelated = hashingVector('table hr.payroll: salary payments to employees', 512);
    expect(cosine(q, related)).toBeGreaterThan(cosine(q, unrelated) + 0.2);
  });

  it('gives punctuation-only text a valid vector', () => {
    const v = hashingVector('---', 8);
    expect(cosine(v, v)).toBeCloseTo(1, 10);
  });

  it('rejects a size that is not a positive integer', () => {
    expect(() => hashingVector('x', 0)).toThrow(RangeError);
  });
});

describe(words.name, () => {
  it('splits identifiers in snake_case and camelCase', () => {
    expect(words('customer_id totalAmount')).toEqual(['customer', 'id', 'total', 'amount']);
  });
});
