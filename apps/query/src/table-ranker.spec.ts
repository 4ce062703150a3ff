import { rankTables, tablesOf, TABLE_SCORE } from './table-ranker';

const column = (table: string, score: number, schema = 's') => ({ kind: 'column', score, metadata: { schema, table, column: 'c' } });
const tableChunk = (table: string, score: number) => ({ kind: 'table', score, metadata: { schema: 's', table } });
const relationship = (from: string, to: string, score: number) => ({
  kind: 'relationship',
  score,
  metadata: { schema: 's', table: from, referencedSchema: 's', referencedTable: to },
});

describe(rankTables.name, () => {
  it('scores a table by its three best chunks with halving weights', () => {
    const [wide] = rankTables([column('wide', 0.4), column('wide', 0.3), column('wide', 0.2), column('wide', 0.1)]);
    expect(TABLE_SCORE).toEqual({ chunks: 3, decay: 0.5 });
    expect(wide!.score).toBeCloseTo(0.4 + 0.15 + 0.05, 10);
    expect(wide!.chunks).toHaveLength(4);
  });

  it('does not let a wide table win by the number of its columns alone', () => {
    const many = Array.from({ length: 30 }, (_, i) => column('wide', 0.5 - i * 0.001));
    const ranked = rankTables([...many, tableChunk('exact', 0.9)]);
    expect(ranked.map((t) => t.table)).toEqual(['exact', 'wide']);
  });

  it('credits a relationship chunk to both of its tables', () => {
    const ranked = rankTables([relationship('orders', 'customers', 0.5), column('other', 0.4)]);
    expect(ranked.map((t) => [t.table, t.score])).toEqual([
      ['orders', 0.5],
      ['customers', 0.5],
      ['other', 0.4],
    ]);
    expect(tablesOf(relationship('a', 'a', 1))).toEqual([{ schema: 's', table: 'a' }]);
  });

  it('keys tables as item keys, quoting names that need it, and ignores chunks without a table', () => {
    const ranked = rankTables([column('a.b', 0.3, 'x y'), { kind: 'document', score: 1, metadata: { title: 't' } }]);
    expect(ranked.map((t) => t.key)).toEqual(['x y."a.b"']);
  });
});
