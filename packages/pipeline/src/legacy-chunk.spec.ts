import { parseCatalog } from '@catalog-indexer/catalog';
import { adoptedChunk, adoptedDocument } from './legacy-chunk';

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
