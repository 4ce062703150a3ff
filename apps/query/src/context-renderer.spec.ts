import { type GraphTable } from './catalog-graph';
import { columnLine, documentLines, renderContext, sqlName, tableFrameLines, tableLines } from './context-renderer';

const table: GraphTable = {
  key: 'sales.orders',
  schema: 'sales',
  table: 'orders',
  type: 'table',
  description: 'One row per order,\nwhatever its status.',
  columns: [
    { name: 'id', type: 'integer', primaryKey: true },
    { name: 'customer_id', type: 'integer', nullable: false, description: 'Buyer.' },
    { name: 'Total (EUR)', type: 'numeric' },
  ],
};

describe(sqlName.name, () => {
  it('quotes identifiers SQL cannot write bare', () => {
    expect(sqlName('orders')).toBe('orders');
    expect(sqlName('Official_ratings_(millions)')).toBe('"Official_ratings_(millions)"');
    expect(sqlName('say "hi"')).toBe('"say ""hi"""');
  });
});

describe(tableLines.name, () => {
  it('writes a CREATE statement of the columns shown, the last without a comma, and how many are left out', () => {
    expect(tableLines(table, [table.columns[0]!, table.columns[1]!])).toEqual([
      '-- One row per order, whatever its status.',
      'CREATE TABLE sales.orders (',
      '  id integer PRIMARY KEY,',
      '  customer_id integer NOT NULL -- Buyer.',
      '  -- … and 1 more columns',
      ');',
    ]);
    expect(tableLines({ ...table, type: 'view', description: undefined }, table.columns).slice(0, 1)).toEqual(['CREATE VIEW sales.orders (']);
    expect(tableLines(table, table.columns).at(-2)).toBe('  "Total (EUR)" numeric');
  });

  it('reserves in its frame every line besides the columns a table can take', () => {
    const shown = tableLines(table, [table.columns[0]!]);
    const frame = tableFrameLines(table);
    expect(shown.filter((l) => l !== columnLine(table.columns[0]!, true))).toEqual(frame.map((l) => (l.includes('999') ? '  -- … and 2 more columns' : l)));
  });
});

describe(renderContext.name, () => {
  it('puts a blank line after each table, after the joins, each example and each document, and none at the end', () => {
    const join = { from: { schema: 'sales', table: 'orders', columns: ['customer_id'] }, to: { schema: 'sales', table: 'customers', columns: ['id'] } };
    const text = renderContext({
      tables: [{ table, columns: [table.columns[0]!] }],
      joins: [join],
      examples: [{ question: 'How many\norders?', sql: 'SELECT count(*)\nFROM sales.orders' }],
      documents: [{ title: 'Revenue', text: 'Net of refunds.\nIn order currency.' }],
    });
    expect(text).toBe(
      [
        '-- One row per order, whatever its status.',
        'CREATE TABLE sales.orders (',
        '  id integer PRIMARY KEY',
        '  -- … and 2 more columns',
        ');',
        '',
        '-- JOIN ON sales.orders.customer_id = sales.customers.id',
        '',
        '-- Q: How many orders?',
        'SELECT count(*)',
        'FROM sales.orders',
        '',
        '-- Document: Revenue',
        '-- Net of refunds.',
        '-- In order currency.',
      ].join('\n'),
    );
    expect(documentLines({ title: 'T', text: 'a\nb' })).toEqual(['-- Document: T', '-- a', '-- b']);
  });
});
