import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { MIGRATIONS, openDataSource, runMigrations } from '../data-source';
import { type NewEmbedding } from '../repositories/embedding.repository';
import { QuotesInChunkMetadata1764892800000 } from './1764892800000-quotes-in-chunk-metadata';

const catalogId = randomUUID();
const row = (kind: string, key: string, content: string, metadata: Record<string, unknown>): NewEmbedding => ({
  id: randomUUID(),
  catalogId,
  kind,
  chunkKey: key,
  itemKey: key,
  content,
  metadata,
  contentHash: `hash of ${key}`,
  model: 'm',
  dimensions: 4,
  indexRunId: null,
});

/** Rows as the chunker wrote them before documents and examples carried their text in their metadata. */
const legacy = {
  part: row('document', 'document:Revenue#1', 'Document: Revenue (part 2 of 2)\nRefunds are subtracted\nin the month they are paid.', { title: 'Revenue', part: 1, parts: 2 }),
  whole: row('document', 'document:Order statuses#0', "Document: Order statuses\nAn order starts as 'pending'.", { title: 'Order statuses', part: 0, parts: 1 }),
  example: row('example', 'example:1', 'Question: Why does\nSQL: this stay in the question?\nSQL: SELECT 1\nFROM s.t', { question: 'Why does\nSQL: this stay in the question?' }),
  /** A row of another shape (written by another writer): left as it is. */
  foreign: row('example', 'example:2', 'How many orders? SELECT count(*) FROM orders', { question: 'How many orders?' }),
  /** A row that already carries its SQL: left as it is. */
  current: row('example', 'example:3', 'Question: Q\nSQL: SELECT 2', { question: 'Q', sql: 'SELECT 2' }),
  table: row('table', 'table:sales.orders', 'Table sales.orders (table).\nColumns: id integer.', { schema: 'sales', table: 'orders' }),
};

describe(QuotesInChunkMetadata1764892800000.name, () => {
  let db: TestDatabase<DataSource>;

  beforeAll(async () => {
    // The schema as it was before this migration, holding rows of that time.
    db = await createTestDatabase(async (url) => {
      const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(QuotesInChunkMetadata1764892800000));
      const dataSource = new DataSource({ type: 'postgres', url, migrations: before, migrationsTableName: 'migrations', extra: { max: 2 } });
      await dataSource.initialize();
      await runMigrations(dataSource);
      // Written as rows were then (the repository of today writes columns added since).
      for (const r of Object.values(legacy)) {
        await dataSource.query(
          `INSERT INTO dq_embeddings (id, catalog_id, kind, chunk_key, item_key, content, metadata, qdrant_point_id, content_hash, model, dimensions, status, embedded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $1, $8, $9, $10, 'pending', now())`,
          [r.id, r.catalogId, r.kind, r.chunkKey, r.itemKey, r.content, r.metadata, r.contentHash, r.model, r.dimensions],
        );
      }
      await dataSource.destroy();
      return openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: true });
    });
  });
  afterAll(() => db.drop());

  const stored = async (r: NewEmbedding) =>
    (await db.dataSource.query<{ content: string; metadata: Record<string, unknown>; content_hash: string }[]>(
      `SELECT content, metadata, content_hash FROM dq_embeddings WHERE id = $1`,
      [r.id],
    ))[0]!;

  it('gives document rows the text of their part, without its heading', async () => {
    expect((await stored(legacy.part)).metadata).toEqual({ title: 'Revenue', part: 1, parts: 2, text: 'Refunds are subtracted\nin the month they are paid.' });
    expect((await stored(legacy.whole)).metadata).toEqual({ title: 'Order statuses', part: 0, parts: 1, text: "An order starts as 'pending'." });
  });

  it('gives example rows their SQL, cut after the question their metadata names', async () => {
    expect((await stored(legacy.example)).metadata).toEqual({ question: 'Why does\nSQL: this stay in the question?', sql: 'SELECT 1\nFROM s.t' });
  });

  it('leaves rows of another shape, rows already carrying their text and other kinds as they are', async () => {
    for (const r of [legacy.foreign, legacy.current, legacy.table]) expect((await stored(r)).metadata).toEqual(r.metadata);
  });

  it('changes neither the content nor the content hash of any row', async () => {
    for (const r of Object.values(legacy)) expect(await stored(r)).toMatchObject({ content: r.content, content_hash: r.contentHash });
  });
});
