import { BM25, documentSparseVector, querySparseVector, termIndex } from './sparse-vector';
import { analyzeText } from './text-analyzer';

describe(documentSparseVector.name, () => {
  it('gives unique, sorted uint32 indices, one per distinct term', () => {
    const v = documentSparseVector('singer singers concert Concert stadium');
    expect(v.indices).toEqual([...new Set(v.indices)].sort((a, b) => a - b));
    expect(v.indices).toHaveLength(3);
    for (const i of v.indices) expect(Number.isInteger(i) && i >= 0 && i < 2 ** 32).toBe(true);
  });

  it('weighs repeats of a term with saturation, as BM25 does', () => {
    const once = documentSparseVector('singer stadium');
    const twice = documentSparseVector('singer singer stadium');
    const at = (v: { indices: number[]; values: number[] }, term: string) => v.values[v.indices.indexOf(termIndex(term))]!;
    const { k1, b, averageLength } = BM25;
    expect(at(once, 'singer')).toBeCloseTo((1 * (k1 + 1)) / (1 + k1 * (1 - b + (b * 2) / averageLength)), 10);
    expect(at(twice, 'singer')).toBeGreaterThan(at(once, 'singer'));
    expect(at(twice, 'singer')).toBeLessThan(2 * at(once, 'singer'));
  });

  it('is BM25 of the terms analyzeText finds: each distinct term once, weighed by its count and the text length', () => {
    const { k1, b, averageLength } = BM25;
    const texts = ['Table sales.orders: paid orders. Columns: order_id number primary key, customer_id number, total number.', 'orders orders ORDERS order Orders_2019 Umsätze 売上 ﬁle', '', '...', 'the of and'];
    for (const text of texts) {
      const terms = analyzeText(text);
      const counts = new Map<number, number>();
      for (const term of terms) counts.set(termIndex(term), (counts.get(termIndex(term)) ?? 0) + 1);
      const norm = k1 * (1 - b + (b * terms.length) / averageLength);
      const indices = [...counts.keys()].sort((x, y) => x - y);
      expect(documentSparseVector(text)).toEqual({ indices, values: indices.map((i) => (counts.get(i)! * (k1 + 1)) / (counts.get(i)! + norm)) });
    }
  });

  it('discounts the terms of long chunks', () => {
    const short = documentSparseVector('singer stadium');
    const long = documentSparseVector(`singer ${'stadium '.repeat(60)}`);
    const i = termIndex('singer');
    expect(long.values[long.indices.indexOf(i)]!).toBeLessThan(short.values[short.indices.indexOf(i)]!);
  });
});

describe(querySparseVector.name, () => {
  it('weighs each distinct question term once and shares indices with documents', () => {
    const q = querySparseVector('How many singers? List the singers.');
    expect(q.values).toEqual(q.indices.map(() => 1));
    expect(q.indices).toEqual(analyzeText('singers list').map(termIndex).sort((a, b) => a - b));
    expect(documentSparseVector('Table singer').indices).toContain(termIndex('singer'));
  });
});
