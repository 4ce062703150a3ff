import { tableKey } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { countTokens } from '@catalog-indexer/text';
import { CatalogGraph } from './catalog-graph';
import { packContext, type Quotable } from './context-packer';
import { LineTokens } from './line-tokens';
import { chooseTables } from './table-chooser';
import { type TableScore } from './table-ranker';

const graph = new CatalogGraph(shopCatalog, new Set());
/** Tables in rank order; `columns` are the columns of the first table the question touched, best first. */
const ranked = (keys: [string, string][], columns: string[] = []): TableScore[] =>
  keys.map(([schema, table], i) => ({
    schema,
    table,
    key: tableKey(schema, table),
    score: 1 - i / 10,
    chunks: i === 0 ? columns.map((column, j) => ({ kind: 'column', score: 0.9 - j / 100, metadata: { schema, table, column } })) : [],
  }));
const ORDERS_AND_PRODUCTS = ranked([['sales', 'orders'], ['catalog', 'products']], ['shipping_country', 'total_amount']);
const nothing: Quotable = { examples: [], documents: [] };

describe(packContext.name, () => {
  const pack = (budget: number, quotable = nothing, tables = ORDERS_AND_PRODUCTS, maxTables = 10) => {
    const { chosen, joins } = chooseTables(graph, tables, maxTables);
    return packContext(chosen, joins, quotable, budget, new LineTokens());
  };

  it('stays within the budget at every size, and counts its text exactly', () => {
    let previous = -1;
    for (const budget of [20, 60, 120, 250, 500, 1_000, 4_000]) {
      const packed = pack(budget, { examples: [{ question: 'How many orders?', sql: 'SELECT count(*) FROM sales.orders' }], documents: [] });
      expect(packed.tokens).toBe(countTokens(packed.text));
      expect(packed.tokens).toBeLessThanOrEqual(budget);
      expect(packed.tokens).toBeGreaterThanOrEqual(previous);
      previous = packed.tokens;
    }
  });

  it('shows keys first, then the columns the question touched, then the others while the budget lasts', () => {
    const small = pack(150);
    const orders = small.tables.find((t) => t.table === 'orders')!;
    expect(orders.columns.map((c) => c.name).slice(0, 3).sort()).toEqual(['id', 'shipping_country', 'total_amount']);
    const all = pack(100_000).tables.find((t) => t.table === 'orders')!;
    expect(all.columns.map((c) => c.name)).toEqual(graph.tables.get('sales.orders')!.columns.map((c) => c.name));
    expect(small.text).toMatch(/-- … and \d+ more columns/);
  });

  it('ends the list of tables at the first that does not fit, and keeps only joins between tables it shows', () => {
    const full = pack(100_000);
    expect(full.tables.map((t) => t.table)).toEqual(['orders', 'products', 'order_items']);
    expect(full.joins).toHaveLength(2);
    const one = pack(60);
    expect(one.tables.map((t) => t.table)).toEqual(['orders']);
    expect(one.joins).toEqual([]);
    expect(one.text).not.toContain('JOIN ON');
  });

  it('quotes at most three examples and two documents, one part per title, best first', () => {
    const quotable: Quotable = {
      examples: [1, 2, 3, 4].map((i) => ({ question: `Question ${i}?`, sql: `SELECT ${i}` })),
      documents: [
        { title: 'Revenue', text: 'Part one.' },
        { title: 'Revenue', text: 'Part two.' },
        { title: 'Order statuses', text: 'Pending, paid, cancelled.' },
        { title: 'Refunds', text: 'Issued later.' },
      ],
    };
    const packed = pack(100_000, quotable);
    expect(packed.examples.map((e) => e.sql)).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
    expect(packed.documents).toEqual([
      { title: 'Revenue', text: 'Part one.' },
      { title: 'Order statuses', text: 'Pending, paid, cancelled.' },
    ]);
    expect(packed.text).toContain('-- Q: Question 3?\nSELECT 3');
    expect(packed.text.endsWith('-- Document: Order statuses\n-- Pending, paid, cancelled.')).toBe(true);
  });

  it('marks bridge tables and leaves tables, columns and quotes out rather than exceed the budget', () => {
    const bridged = pack(100_000).tables.find((t) => t.table === 'order_items')!;
    expect(bridged.bridge).toBe(true);
    const long = { title: 'Long', text: Array.from({ length: 200 }, (_, i) => `Line ${i} of a long document.`).join('\n') };
    const packed = pack(400, { examples: [], documents: [long] });
    expect(packed.documents).toEqual([]);
    expect(packed.tokens).toBeLessThanOrEqual(400);
  });
});
