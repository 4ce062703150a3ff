import { tableKey } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { CatalogGraph } from './catalog-graph';
import { chooseTables } from './table-chooser';
import { type TableScore } from './table-ranker';

const ranked = (...keys: [string, string, number][]): TableScore[] =>
  keys.map(([schema, table, score]) => ({ schema, table, key: tableKey(schema, table), score, chunks: [] }));

describe(chooseTables.name, () => {
  const graph = new CatalogGraph(shopCatalog, new Set());

  it('joins two chosen tables through the bridge table their shortest path passes through', () => {
    const { chosen, joins } = chooseTables(graph, ranked(['sales', 'orders', 0.9], ['catalog', 'products', 0.8]), 10);
    expect(chosen.map((c) => [c.graph.key, c.bridge])).toEqual([
      ['sales.orders', false],
      ['catalog.products', false],
      ['sales.order_items', true],
    ]);
    expect(joins).toEqual([
      { from: { schema: 'sales', table: 'order_items', columns: ['order_id'] }, to: { schema: 'sales', table: 'orders', columns: ['id'] } },
      { from: { schema: 'sales', table: 'order_items', columns: ['product_id'] }, to: { schema: 'catalog', table: 'products', columns: ['id'] } },
    ]);
    // Join columns and primary keys are always kept.
    const items = chosen.find((c) => c.graph.table === 'order_items')!;
    expect([...items.keyColumns].sort()).toEqual(['line_no', 'order_id', 'product_id']);
  });

  it('adds no bridge when it would exceed maxTables, and never more tables than maxTables', () => {
    const { chosen, joins } = chooseTables(graph, ranked(['sales', 'orders', 0.9], ['catalog', 'products', 0.8]), 2);
    expect(chosen.map((c) => c.graph.key)).toEqual(['sales.orders', 'catalog.products']);
    expect(joins).toEqual([]);
  });

  it('follows no path longer than two foreign keys, and leaves rejected tables out of paths', () => {
    // customers → orders → order_items → products: three foreign keys.
    expect(chooseTables(graph, ranked(['sales', 'customers', 0.9], ['catalog', 'products', 0.8]), 10).joins).toEqual([]);
    const hidden = new CatalogGraph(shopCatalog, new Set(['sales.order_items']));
    const { chosen, joins } = chooseTables(hidden, ranked(['sales', 'orders', 0.9], ['catalog', 'products', 0.8], ['sales', 'order_items', 0.7]), 10);
    expect(chosen.map((c) => c.graph.key)).toEqual(['sales.orders', 'catalog.products']);
    expect(joins).toEqual([]);
  });
});
