import { type Catalog } from './catalog.schema';
import { type Chunk, chunkCatalog, chunkDocument, chunkExample } from './chunker';
import { shopCatalog } from './testing';
import { parseCatalog } from './catalog.parser';

function byKey(chunks: Chunk[]): Map<string, Chunk> {
  return new Map(chunks.map((c) => [c.key, c]));
}

function chunk(chunks: Chunk[], key: string): Chunk {
  const found = byKey(chunks).get(key);
  if (!found) throw new Error(`no chunk ${key}; have ${chunks.map((c) => c.key).join(', ')}`);
  return found;
}

describe(chunkCatalog.name, () => {
  const chunks = chunkCatalog(shopCatalog);

  it('gives unique keys and the same chunks on every call', () => {
    expect(new Set(chunks.map((c) => c.key)).size).toBe(chunks.length);
    expect(chunkCatalog(structuredClone(shopCatalog))).toEqual(chunks);
  });

  it('orders chunks per table (table, columns, foreign keys), then documents, then examples', () => {
    expect(chunks.slice(0, 2).map((c) => c.key)).toEqual(['table:sales.customers', 'column:sales.customers.id']);
    const orders = chunks.filter((c) => c.metadata.schema === 'sales' && c.metadata.table === 'orders').map((c) => c.kind);
    expect(orders).toEqual(['table', ...Array<string>(10).fill('column'), 'relationship']);
    expect(chunks.slice(-6).map((c) => c.kind)).toEqual(['document', 'document', 'document', 'example', 'example', 'example']);
  });

  it('gives no chunks for schemas: their descriptions ride along in table chunks', () => {
    expect(chunks.some((c) => c.itemKey === 'sales')).toBe(false);
    expect(chunk(chunks, 'table:sales.orders').content).toContain('Schema sales: Orders, customers and refunds.');
  });

  it('describes a table with its type, description, columns, foreign keys and the columns that reference it', () => {
    const table = chunk(chunks, 'table:sales.orders');
    expect(table).toMatchObject({ kind: 'table', itemKey: 'sales.orders', metadata: { schema: 'sales', table: 'orders', tableType: 'table' } });
    expect(table.content).toMatch(/^Table sales\.orders \(table\): One row per order\./);
    expect(table.content).toContain('Columns: id integer primary key, customer_id integer → sales.customers.id, ordered_at timestamptz,');
    expect(table.content).toContain('Referenced by: sales.order_items.order_id, sales.refunds.order_id.');
    expect(chunk(chunks, 'table:sales.daily_revenue').content).toMatch(/^Table sales\.daily_revenue \(view\):/);
  });

  it('lists composite foreign keys of a table on their own line', () => {
    const catalog = structuredClone(shopCatalog);
    catalog.schemas[0]!.tables[3]!.columns.push({ name: 'line_no', type: 'smallint' });
    catalog.schemas[0]!.tables[3]!.foreignKeys!.push({
      columns: ['order_id', 'line_no'],
      references: { schema: 'sales', table: 'order_items', columns: ['order_id', 'line_no'] },
    });
    const composite = chunkCatalog(parseCatalog(catalog));
    expect(chunk(composite, 'table:sales.refunds').content).toContain(
      'Foreign keys: sales.refunds(order_id, line_no) → sales.order_items(order_id, line_no).',
    );
    expect(chunk(composite, 'column:sales.refunds.line_no').content).toContain(
      'Part of the foreign key sales.refunds(order_id, line_no) → sales.order_items(order_id, line_no).',
    );
    expect(chunk(composite, 'relationship:sales.refunds(order_id,line_no)->sales.order_items(order_id,line_no)').content).toBe(
      'sales.refunds(order_id, line_no) references sales.order_items(order_id, line_no) (many refunds to one order item). ' +
        'Join on sales.refunds.order_id = sales.order_items.order_id AND sales.refunds.line_no = sales.order_items.line_no.',
    );
  });

  it('caps the column list of very wide tables', () => {
    const wide: Catalog = {
      name: 'wide',
      schemas: [{ name: 's', tables: [{ name: 't', type: 'table', columns: Array.from({ length: 130 }, (_, i) => ({ name: `c${i}`, type: 'int' })) }] }],
    };
    const content = chunk(chunkCatalog(wide), 'table:s.t').content;
    expect(content).toContain('c99 int, … and 30 more columns.');
    expect(content).not.toContain('c100 int');
    expect(chunk(chunkCatalog(wide, { tableColumns: 5 }), 'table:s.t').content).toContain('c4 int, … and 125 more columns.');
  });

  it('describes a column with its type, nullability, description, table, examples and reference', () => {
    const column = chunk(chunks, 'column:sales.orders.customer_id');
    expect(column).toMatchObject({
      kind: 'column',
      itemKey: 'sales.orders.customer_id',
      metadata: { schema: 'sales', table: 'orders', column: 'customer_id', type: 'integer' },
    });
    expect(column.content).toBe(
      'Column sales.orders.customer_id (integer, not null): Buyer. Table sales.orders: One row per order. ' +
        'Examples: 42, 97. References sales.customers.id.',
    );
    expect(chunk(chunks, 'column:sales.customers.id').content).toBe(
      'Column sales.customers.id (integer, primary key): Customer id. Table sales.customers: One row per customer account. ' +
        'Examples: 42, 97. Referenced by: sales.orders.customer_id.',
    );
    expect(chunk(chunks, 'column:sales.daily_revenue.day').content).toBe(
      'Column sales.daily_revenue.day (date): Order day (UTC). View sales.daily_revenue: Net revenue per day and currency, following the Revenue document.',
    );
  });

  it('describes a relationship as a join with its cardinality', () => {
    const rel = chunk(chunks, 'relationship:sales.orders(customer_id)->sales.customers(id)');
    expect(rel).toMatchObject({
      kind: 'relationship',
      itemKey: 'fk:sales.orders(customer_id)->sales.customers(id)',
      metadata: { schema: 'sales', table: 'orders', referencedSchema: 'sales', referencedTable: 'customers', columns: ['customer_id'], referencedColumns: ['id'] },
    });
    expect(rel.content).toBe(
      'sales.orders.customer_id references sales.customers.id (many orders to one customer). ' +
        'Join on sales.orders.customer_id = sales.customers.id.',
    );
  });

  it('calls a foreign key on the whole primary key one to one', () => {
    const catalog = parseCatalog({
      name: 'x',
      schemas: [
        {
          name: 'crm',
          tables: [
            { name: 'users', columns: [{ name: 'id', type: 'int', primaryKey: true }] },
            {
              name: 'profiles',
              columns: [{ name: 'user_id', type: 'int', primaryKey: true }],
              foreignKeys: [{ columns: ['user_id'], references: { schema: 'crm', table: 'users', columns: ['id'] } }],
            },
          ],
        },
      ],
    });
    expect(chunk(chunkCatalog(catalog), 'relationship:crm.profiles(user_id)->crm.users(id)').content).toContain('(one profile to one user)');
  });

  it('splits a long document into parts within the budget, each titled', () => {
    const parts = chunks.filter((c) => c.itemKey === 'doc:Revenue');
    expect(parts.map((c) => c.key)).toEqual(['document:Revenue#0', 'document:Revenue#1']);
    expect(parts[0]!.content).toMatch(/^Document: Revenue \(part 1 of 2\)\nRevenue is the sum of order totals/);
    expect(parts[1]!.metadata).toEqual({ title: 'Revenue', part: 1, parts: 2, text: parts[1]!.content.slice('Document: Revenue (part 2 of 2)\n'.length) });
    for (const part of parts) expect(part.content.length).toBeLessThanOrEqual(4_000 + 'Document: Revenue (part 1 of 2)\n'.length);
    expect(chunk(chunks, 'document:Order statuses#0').content).toMatch(/^Document: Order statuses\nAn order starts as 'pending'/);
    expect(chunkCatalog(shopCatalog, { documentPartChars: 1_000 }).filter((c) => c.itemKey === 'doc:Revenue').length).toBeGreaterThanOrEqual(5);
  });

  it('gives each example its question and SQL', () => {
    const example = chunks.find((c) => c.kind === 'example')!;
    expect(example.key).toMatch(/^example:[0-9a-f]{16}$/);
    expect(example.itemKey).toBe(example.key);
    expect(example.content).toMatch(/^Question: How many orders were placed last month\?\nSQL: SELECT count\(\*\) FROM sales\.orders/);
  });

  it('carries the text of documents and examples in their metadata, the embedded text unchanged', () => {
    const documents = chunks.filter((c) => c.kind === 'document');
    expect(documents.length).toBeGreaterThan(0);
    for (const c of documents) {
      const { title, part, parts } = c.metadata;
      const label = parts! > 1 ? ` (part ${part! + 1} of ${parts})` : '';
      expect(c.content).toBe(`Document: ${title}${label}\n${c.metadata.text}`);
      expect(chunkDocument(c.metadata)).toEqual({ title, text: c.metadata.text });
    }
    const examples = chunks.filter((c) => c.kind === 'example');
    expect(examples.map((c) => chunkExample(c.metadata))).toEqual(shopCatalog.examples!.map((e) => ({ question: e.question, sql: e.sql })));
    for (const c of examples) expect(c.content).toBe(`Question: ${c.metadata.question}\nSQL: ${c.metadata.sql}`);
  });

  it('keeps a question that looks like the SQL line apart from the SQL', () => {
    const catalog = parseCatalog({
      name: 'tricky',
      schemas: [{ name: 's', tables: [{ name: 't', columns: [{ name: 'id', type: 'integer' }] }] }],
      examples: [{ question: 'Why does\nSQL: this line stay in the question?', sql: 'SELECT 1\nFROM s.t' }],
    });
    const [example] = chunkCatalog(catalog).filter((c) => c.kind === 'example');
    expect(chunkExample(example!.metadata)).toEqual({ question: 'Why does\nSQL: this line stay in the question?', sql: 'SELECT 1\nFROM s.t' });
  });

  it('reads no example or document out of metadata that does not hold one', () => {
    expect(chunkExample({ question: 'How many orders?' })).toBeUndefined();
    expect(chunkExample({ schema: 'sales', table: 'orders' })).toBeUndefined();
    expect(chunkDocument({ title: 'Revenue', part: 0, parts: 1 })).toBeUndefined();
  });

  describe('rejected items', () => {
    it('hide a rejected schema, everything in it and every relationship touching it', () => {
      const kept = chunkCatalog(shopCatalog, { rejectedKeys: new Set(['catalog']) });
      expect(kept.some((c) => c.metadata.schema === 'catalog')).toBe(false);
      expect(kept.some((c) => c.itemKey.includes('catalog.'))).toBe(false);
      expect(byKey(kept).has('relationship:sales.order_items(product_id)->catalog.products(id)')).toBe(false);
      expect(chunk(kept, 'table:sales.order_items').content).toContain('product_id integer,');
      expect(chunk(kept, 'column:sales.order_items.product_id').content).not.toContain('References');
    });

    it('hide a rejected table, its columns, its foreign keys and those pointing at it, and its mentions elsewhere', () => {
      const kept = chunkCatalog(shopCatalog, { rejectedKeys: new Set(['sales.orders']) });
      expect(kept.some((c) => c.itemKey.startsWith('sales.orders'))).toBe(false);
      expect(kept.filter((c) => c.kind === 'relationship' && c.key.includes('sales.orders'))).toEqual([]);
      expect(chunk(kept, 'table:sales.customers').content).not.toContain('Referenced by');
      expect(chunk(kept, 'column:sales.refunds.order_id').content).not.toContain('sales.orders');
      expect(kept.length).toBe(chunks.length - 1 - 10 - 1 - 2);
    });

    it('hide a rejected column and the relationships that use it, and leave it out of its table chunk', () => {
      const kept = chunkCatalog(shopCatalog, { rejectedKeys: new Set(['sales.customers.email', 'sales.customers.id']) });
      expect(byKey(kept).has('column:sales.customers.email')).toBe(false);
      expect(byKey(kept).has('relationship:sales.orders(customer_id)->sales.customers(id)')).toBe(false);
      const table = chunk(kept, 'table:sales.customers').content;
      expect(table).not.toContain('email');
      expect(table).toContain('Columns: full_name text, country char(2), created_at timestamptz.');
      expect(chunk(kept, 'table:sales.orders').content).toContain('customer_id integer,');
    });

    it('hide a rejected relationship, document or example and nothing else', () => {
      const [example] = chunks.filter((c) => c.kind === 'example');
      const rejectedKeys = new Set(['fk:hr.employees(manager_id)->hr.employees(id)', 'doc:Revenue', example!.itemKey]);
      const kept = chunkCatalog(shopCatalog, { rejectedKeys });
      expect(kept.map((c) => c.key)).toEqual(
        chunks
          .map((c) => c.key)
          .filter((k) => !['relationship:hr.employees(manager_id)->hr.employees(id)', 'document:Revenue#0', 'document:Revenue#1', example!.key].includes(k)),
      );
    });
  });
});
