import { Collection } from './collection';
import { parseCreateSettings } from './collection-settings';
import { QueryEngine } from './query-engine';
import { type VectorLayout, parseLayout, parsePointVectors } from './vectors';

function hybridCollection(modifier: 'idf' | 'none' = 'idf'): Collection {
  const layout: VectorLayout = parseLayout({ dense: { size: 2, distance: 'Dot' } }, { terms: { modifier } });
  const c = new Collection('c', layout, parseCreateSettings({}));
  const point = (id: number, dense: number[], terms: number[], catalog: string) => ({
    id,
    vectors: parsePointVectors(layout, { dense, terms: { indices: terms, values: terms.map(() => 1) } }, 'v'),
    payload: { catalog_id: catalog },
  });
  c.upsert([
    point(1, [1, 0], [1, 2], 'a'),
    point(2, [0.9, 0.1], [1, 3], 'a'),
    point(3, [0.1, 0.9], [1, 4], 'a'),
    point(4, [1, 0], [1, 2, 9], 'b'),
  ]);
  c.createIndex('catalog_id', { dataType: 'keyword' });
  return c;
}

describe(QueryEngine.name, () => {
  it('weighs sparse query terms by IDF over the whole collection', () => {
    const c = hybridCollection('idf');
    const hits = new QueryEngine(c).run({ query: { indices: [1, 4], values: [1, 1] }, using: 'terms', limit: 4 });
    // Term 1 is in every point (idf ln(1 + 0.5/4.5)), term 4 in one (idf ln(1 + 3.5/1.5)).
    expect(hits.map((h) => h.point.id)).toEqual([3, 1, 2, 4]);
    expect(hits[0]?.score).toBeCloseTo(Math.log(1 + 0.5 / 4.5) + Math.log(1 + 3.5 / 1.5), 6);
    const plain = new QueryEngine(hybridCollection('none')).run({ query: { indices: [1, 4], values: [1, 1] }, using: 'terms' });
    expect(plain[0]?.score).toBe(2);
  });

  it('returns only points sharing a dimension with a sparse query', () => {
    const hits = new QueryEngine(hybridCollection()).run({ query: { indices: [9], values: [1] }, using: 'terms' });
    expect(hits.map((h) => h.point.id)).toEqual([4]);
  });

  it('applies the root filter inside every prefetch and fuses by rrf', () => {
    const hits = new QueryEngine(hybridCollection()).run({
      prefetch: [
        { query: [1, 0], using: 'dense', limit: 2 },
        { query: { indices: [2], values: [1] }, using: 'terms', limit: 2 },
      ],
      query: { fusion: 'rrf' },
      filter: { must: [{ key: 'catalog_id', match: { value: 'a' } }] },
    });
    expect(hits.map((h) => h.point.id)).toEqual([1, 2]);
    expect(hits[0]?.score).toBeCloseTo(1 / 2 + 1 / 2, 6);
  });

  it('rescores the candidates of nested prefetches with the outer nearest query', () => {
    const hits = new QueryEngine(hybridCollection()).run({
      prefetch: { prefetch: { query: { indices: [1], values: [1] }, using: 'terms', limit: 10 }, query: [0, 1], using: 'dense', limit: 2 },
      query: [1, 0],
      using: 'dense',
      limit: 5,
    });
    expect(hits.map((h) => h.point.id)).toEqual([2, 3]);
    expect(hits[0]?.score).toBeCloseTo(0.9, 6);
  });

  it('scores prefetched points with a formula', () => {
    const hits = new QueryEngine(hybridCollection()).run({
      prefetch: { query: [1, 0], using: 'dense', limit: 4 },
      query: { formula: { sum: ['$score', { mult: [10, { key: 'catalog_id', match: { value: 'b' } }] }] } },
    });
    expect(hits[0]?.point.id).toBe(4);
    expect(hits[0]?.score).toBeCloseTo(11, 6);
  });

  it('refuses prefetches without a query and a score threshold without a query', () => {
    const engine = new QueryEngine(hybridCollection());
    expect(() => engine.run({ prefetch: [{ query: [1, 0], using: 'dense' }] })).toThrow('A query is needed to merge the prefetches');
    expect(() => engine.run({ score_threshold: 1 })).toThrow('A query is needed to use the score_threshold');
    expect(() => engine.run({ query: [1, 0] })).toThrow('Not existing vector name error: ');
  });
});
