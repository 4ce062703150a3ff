import { parseCatalog, type CatalogInput } from '@catalog-indexer/catalog';
import { adoptedChunk, adoptedDocument, type NamedItem } from './legacy-chunk';

describe(adoptedChunk.name, () => {
  it('maps legacy kinds to the chunker’s and keeps the original as legacyKind', () => {
    expect(adoptedChunk({ kind: 'documentation', content: 'Revenue is net of refunds.', metadata: { title: 'Revenue' } })).toEqual({
      kind: 'document',
      metadata: { title: 'Revenue', text: 'Revenue is net of refunds.', legacyKind: 'documentation' },
    });
    expect(adoptedChunk({ kind: 'Example-Query', content: 'Question: How many orders?\nSQL: SELECT count(*) FROM orders', metadata: null })).toEqual({
      kind: 'example',
      metadata: { question: 'How many orders?', sql: 'SELECT count(*) FROM orders', legacyKind: 'Example-Query' },
    });
  });

  it('reads table and column names under their usual legacy keys, a table without a schema being in public', () => {
    expect(adoptedChunk({ kind: 'column', content: 'orders.total: order total', metadata: { table_name: 'orders', column_name: 'total', data_type: 'numeric' } })).toEqual({
      kind: 'column',
      metadata: { table_name: 'orders', column_name: 'total', data_type: 'numeric', schema: 'public', table: 'orders', column: 'total', type: 'numeric', legacyKind: 'column' },
    });
  });

  it('infers a missing or unknown kind from what the row names, and quotes an example whose SQL sits in the metadata', () => {
    expect(adoptedChunk({ kind: null, content: 'Table orders', metadata: { schema: 'sales', table: 'orders' } }).kind).toBe('table');
    expect(adoptedChunk({ kind: 'nl2sql', content: 'Top customers by revenue', metadata: { sql: 'SELECT 1' } })).toMatchObject({
      kind: 'example',
      metadata: { question: 'Top customers by revenue', sql: 'SELECT 1' },
    });
    // A column row that names no table cannot be a column of the context: it is quoted as a document.
    expect(adoptedChunk({ kind: 'column', content: 'Document: Notes\nfree text', metadata: {} })).toMatchObject({
      kind: 'document',
      metadata: { title: 'Notes', text: 'free text' },
    });
  });
});

describe(`${adoptedChunk.name}, row by row`, () => {
  const chunk = (kind: string | null, content: string, metadata: unknown = {}) => adoptedChunk({ kind, content, metadata });

  it('adds only the keys a row gives it, and keeps a blank kind out of legacyKind', () => {
    expect(chunk('  ', 'Free text')).toStrictEqual({ kind: 'document', metadata: { title: 'Free text', text: 'Free text' } });
    // A column name without a table names no column of the catalog.
    expect(chunk(null, 'total', { column: 'total' })).toStrictEqual({ kind: 'document', metadata: { column: 'total', title: 'total', text: 'total' } });
    expect(chunk('column', 'orders', { table: 'orders' })).toStrictEqual({
      kind: 'document',
      metadata: { table: 'orders', schema: 'public', legacyKind: 'column', title: 'orders', text: 'orders' },
    });
  });

  it('infers a column, a table or a document from the names of a row of unknown kind', () => {
    expect(chunk('misc', 'orders.total', { schema_name: 'sales', table: 'orders', column_name: 'total', column_type: 'int' })).toStrictEqual({
      kind: 'column',
      metadata: { schema_name: 'sales', table: 'orders', column_name: 'total', column_type: 'int', schema: 'sales', column: 'total', type: 'int', legacyKind: 'misc' },
    });
    expect(chunk(null, 'orders', { table_schema: 'sales', table_name: 'orders' }).metadata).toMatchObject({ schema: 'sales', table: 'orders' });
    expect(chunk(null, 'Just words').kind).toBe('document');
  });

  it('reads an example from the usual question keys, or from content of the shape Question / SQL', () => {
    for (const key of ['question', 'nl', 'natural_language', 'prompt']) {
      expect(chunk('qa', 'whatever', { [key]: 'How many?', sql_query: 'SELECT 1' }).metadata).toMatchObject({ question: 'How many?', sql: 'SELECT 1' });
    }
    expect(chunk(null, '  q :  How many orders?  \n  Answer:  SELECT count(*) FROM orders  ')).toStrictEqual({
      kind: 'example',
      metadata: { question: 'How many orders?', sql: 'SELECT count(*) FROM orders' },
    });
    // The question is the content when only the SQL sits in the metadata, but not when the content is the SQL.
    expect(chunk(null, '  Top customers  ', { query: 'SELECT 1' }).metadata).toMatchObject({ question: 'Top customers', sql: 'SELECT 1' });
    expect(chunk(null, 'SELECT 1 FROM t', { sql: 'SELECT 1 FROM t' }).kind).toBe('document');
    expect(chunk(null, '   ', { sql: 'SELECT 1' }).kind).toBe('document');
  });

  it('titles a document from its metadata, a leading "Document:" line, or its first line, on one bounded line', () => {
    expect(chunk('doc', 'Body', { heading: 'Refunds' }).metadata).toMatchObject({ title: 'Refunds', text: 'Body' });
    expect(chunk('doc', 'Document: Refunds\nHow refunds count.').metadata).toMatchObject({ title: 'Refunds', text: 'How refunds count.' });
    // "Document:" only counts on the first line, and a heading without a body keeps the whole content.
    expect(chunk('doc', 'Intro\nDocument: Refunds\nbody').metadata).toMatchObject({ title: 'Intro', text: 'Intro\nDocument: Refunds\nbody' });
    expect(chunk('doc', 'Document: Refunds\n  ').metadata).toMatchObject({ title: 'Refunds', text: 'Document: Refunds\n  ' });
    expect(chunk('doc', '\n\n  First line  \nrest').metadata).toMatchObject({ title: 'First line' });
    expect(chunk('doc', '   ').metadata).toMatchObject({ title: 'Document' });
    expect(chunk('doc', 'x', { title: 'Tab\tand\u0007bell\nlines' }).metadata).toMatchObject({ title: 'Tab and bell lines' });
    const long = chunk('doc', 'x', { title: `${'a'.repeat(150)} ${'b'.repeat(100)}` }).metadata.title as string;
    expect(long).toBe(`${'a'.repeat(150)} ${'b'.repeat(48)}…`);
    expect(long).toHaveLength(200);
    const fits = 'c'.repeat(200);
    expect(chunk('doc', 'x', { title: fits }).metadata.title).toBe(fits);
  });
});

describe(adoptedDocument.name, () => {
  it('makes a valid catalog of the tables and columns the rows name, types and descriptions where known', () => {
    const document = adoptedDocument('pgvector 1234', 'Adopted', [
      { kind: 'table', schema: 'sales', table: 'orders', column: null, type: null, description: 'One row per order' },
      { kind: 'column', schema: 'sales', table: 'orders', column: 'total', type: 'numeric(12,2)', description: 'Order total' },
      { kind: 'column', schema: 'sales', table: 'orders', column: 'id', type: null, description: null },
      { kind: 'column', schema: 'sales', table: 'orders', column: 'id', type: 'integer', description: null },
      { kind: 'column', schema: 'sales', table: 'x'.repeat(200), column: 'y', type: null, description: null },
    ]);
    expect(parseCatalog(document).schemas).toEqual([
      {
        name: 'sales',
        tables: [
          {
            name: 'orders',
            type: 'table',
            description: 'One row per order',
            columns: [
              { name: 'total', type: 'numeric(12,2)', description: 'Order total' },
              { name: 'id', type: 'integer' },
            ],
          },
        ],
      },
    ]);
  });
});

describe(`${adoptedDocument.name}, within the upload format's limits`, () => {
  const item = (table: string, column: string | null, extra: Partial<NamedItem> = {}): NamedItem => ({
    kind: column === null ? 'table' : 'column',
    schema: 'public',
    table,
    column,
    type: null,
    description: null,
    ...extra,
  });
  const tablesOf = (document: CatalogInput) => document.schemas.flatMap((s) => s.tables);

  it('keeps names of 1 to 128 characters without NUL, and types of at most 256 characters, trimmed', () => {
    const document = adoptedDocument('n', 'd', [
      item('t'.repeat(128), 'c'.repeat(128), { type: ' integer ' }),
      item('t'.repeat(128), 'c'.repeat(129)),
      item('t'.repeat(128), 'nul\u0000'),
      item('t'.repeat(128), ''),
      item('t'.repeat(128), 'wide', { type: 'x'.repeat(256) }),
      item('t'.repeat(128), 'wider', { type: 'x'.repeat(257) }),
      item('t'.repeat(128), 'blank', { type: '   ' }),
      item('t'.repeat(129), 'c'),
      item('', 'c'),
      { ...item('t', 'c'), schema: 's'.repeat(129) },
      { ...item('t', 'c'), schema: 'bad\u0000' },
    ]);
    expect(parseCatalog(document).schemas).toEqual([
      {
        name: 'public',
        tables: [
          {
            name: 't'.repeat(128),
            type: 'table',
            columns: [
              { name: 'c'.repeat(128), type: 'integer' },
              { name: 'wide', type: 'x'.repeat(256) },
              { name: 'wider', type: 'unknown' },
              { name: 'blank', type: 'unknown' },
            ],
          },
        ],
      },
    ]);
  });

  it('describes a table from its first table row only, and a column from the first row that describes it', () => {
    const long = 'd'.repeat(4_001);
    const [orders] = tablesOf(
      adoptedDocument('n', 'd', [
        item('orders', null, { kind: 'document', description: 'not a table row' }),
        item('orders', null, { description: long }),
        item('orders', null, { description: 'second' }),
        item('orders', 'id', { type: 'integer' }),
        item('orders', 'id', { type: 'bigint', description: 'Key' }),
        item('orders', 'id', { description: 'Other' }),
      ]),
    );
    expect(orders).toEqual({ name: 'orders', type: 'table', description: 'd'.repeat(4_000), columns: [{ name: 'id', type: 'integer', description: 'Key' }] });
  });

  it('stops adding tables at 10,000 and columns at 2,000 per table, and still fills the ones it has', () => {
    const items = Array.from({ length: 10_001 }, (_, i) => item(`t${i}`, null));
    items.push(item('t10000', 'late'), item('t0', 'kept', { description: 'after the limit' }));
    const tables = tablesOf(adoptedDocument('n', 'd', items));
    expect(tables).toHaveLength(10_000);
    expect(tables.find((t) => t.name === 't10000')).toBeUndefined();
    expect(tables[0]!.columns).toEqual([{ name: 'kept', type: 'unknown', description: 'after the limit' }]);

    const wide = Array.from({ length: 2_001 }, (_, i) => item('wide', `c${i}`));
    wide.push(item('wide', 'c0', { type: 'text' }), item('narrow', 'c'));
    const [w, narrow] = tablesOf(adoptedDocument('n', 'd', wide));
    expect(w!.columns).toHaveLength(2_000);
    expect(w!.columns[0]).toEqual({ name: 'c0', type: 'text' });
    expect(w!.columns.at(-1)!.name).toBe('c1999');
    expect(narrow!.columns).toEqual([{ name: 'c', type: 'unknown' }]);
  });

  it('stops adding columns at 200,000 over the catalog', () => {
    const items: NamedItem[] = [];
    for (let t = 0; t < 101; t++) for (let c = 0; c < 2_000; c++) items.push(item(`t${t}`, `c${c}`));
    const tables = tablesOf(adoptedDocument('n', 'd', items));
    expect(tables.reduce((n, t) => n + t.columns.length, 0)).toBe(200_000);
    expect(tables).toHaveLength(101);
    expect(tables[100]!.columns).toEqual([]);
  });
});
