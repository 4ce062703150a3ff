import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { chunkCatalog, flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  LeaseRepository,
  PgvectorAdoptionRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
} from '@catalog-indexer/db';
import { LocalEmbedder } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import {
  cosineSimilarity,
  createPgvectorEraTable,
  createTestDatabase,
  legacyRows,
  uniqueName,
  withDatabase,
  type LegacyTestRow,
  type TestDatabase,
} from '@catalog-indexer/testing';
import { QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';
import { type ServedSpace } from '@catalog-indexer/importer';
import { PgvectorAdoptionService } from './pgvector-adoption.service';
import { reindexInProcess } from './in-process-fan-out';
import { ReindexService } from './reindex.service';

const toNew = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

const DIMS = 16;
const SPACE: ServedSpace = { provider: 'openai', model: 'text-embedding-3-large', dimensions: DIMS };

/** A pgvector-era database migrated in place, the Qdrant emulator, and the adoption service over them. */
class Install {
  db!: TestDatabase<DataSource>;
  store!: QdrantStore;
  service!: PgvectorAdoptionService;
  leases!: LeaseRepository;

  constructor(
    readonly qdrantUrl: string,
    readonly rows: LegacyTestRow[],
    private readonly dims: number | null = DIMS,
  ) {}

  async start(space: ServedSpace = SPACE): Promise<this> {
    this.db = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, this.rows, { dims: this.dims });
      return openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true });
    });
    this.store = new QdrantStore({ url: this.qdrantUrl, collection: uniqueName('adopt'), dimensions: DIMS, writeAttempts: 2 });
    await this.store.ensureCollection();
    this.leases = new LeaseRepository(this.db.dataSource);
    this.service = this.serviceFor(space);
    return this;
  }

  serviceFor(space: ServedSpace, pageSize = 7): PgvectorAdoptionService {
    return new PgvectorAdoptionService({
      adoptions: new PgvectorAdoptionRepository(this.db.dataSource),
      leases: this.leases,
      store: this.store,
      logger: createLogger({ level: 'silent' }),
      space,
      databaseUrl: this.db.url,
      pageSize,
      leaseTtlMs: 5_000,
    });
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const rows: T[] = await this.db.dataSource.query(sql, params);
    return rows;
  }

  async pointIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of this.store.scrollPoints()) ids.push(...page.map((p) => p.id));
    return ids.sort();
  }

  migratable(): LegacyTestRow[] {
    return this.rows.filter((r) => r.vector && r.catalogId && r.vector.length === DIMS);
  }
}

/** `work` on a fresh install of `rows` (its own database and collection), dropped afterwards. */
async function withInstall(qdrantUrl: string, rows: LegacyTestRow[], work: (on: Install) => Promise<void>): Promise<void> {
  const on = await new Install(qdrantUrl, rows).start();
  try {
    await work(on);
  } finally {
    await on.db.drop();
  }
}

describe(PgvectorAdoptionService.name, () => {
  const qdrant = new QdrantEmulator();
  const catalogs = [randomUUID(), randomUUID()];
  let qdrantUrl: string;
  let install: Install;

  beforeAll(async () => {
    qdrantUrl = (await qdrant.start(0)).url;
    install = await new Install(qdrantUrl, legacyRows({ rows: 40, dims: DIMS, catalogs, awkward: true })).start();
  });
  afterAll(async () => {
    await install.db.drop();
    await qdrant.stop();
  });

  it('keeps the pgvector-era table in place, with its rows, vectors and indexes, beside the product tables', async () => {
    const legacy = await install.query<{ n: number; v: number }>(`SELECT count(*)::int AS n, count(embedding)::int AS v FROM dq_embeddings_pgvector`);
    expect(legacy[0]).toEqual({ n: install.rows.length, v: install.rows.filter((r) => r.vector).length });
    const indexes = await install.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE tablename = 'dq_embeddings_pgvector' ORDER BY 1`);
    expect(indexes.map((i) => i.name)).toEqual(['dq_embeddings_pgvector_catalog_idx', 'dq_embeddings_pgvector_embedding_idx', 'dq_embeddings_pgvector_pkey']);
    const product = await install.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'dq_embeddings'`);
    expect(product.map((c) => c.column_name)).toEqual(expect.arrayContaining(['chunk_key', 'content_hash', 'status']));
    const one = install.rows[0]!;
    const [stored] = await install.query<{ embedding: string }>(`SELECT embedding::text FROM dq_embeddings_pgvector WHERE id = $1`, [one.id]);
    expect((JSON.parse(stored!.embedding) as number[]).map(Math.fround)).toEqual(one.vector);
  });

  it('reads and reports everything in a dry run and writes nothing', async () => {
    const result = await install.service.adopt({ dryRun: true }, 'dry');
    expect(result).toMatchObject({ dryRun: true, rows: 43, migrated: 41, unchanged: 0, skipped: { noVector: 1, noCatalog: 1, wrongSize: 0 }, catalogs: 2, tokens: 0 });
    expect(await install.pointIds()).toEqual([]);
    expect(await install.query(`SELECT id FROM dq_embeddings`)).toEqual([]);
    expect(await install.query(`SELECT id FROM catalogs`)).toEqual([]);
    expect(await install.query(`SELECT source FROM pgvector_adoptions`)).toEqual([]);
  });

  it('refuses to drop the legacy column before a verified adoption, writing nothing', async () => {
    await expect(install.service.adopt({ dropLegacy: true }, 'early')).rejects.toMatchObject({ code: 'adoption_not_verified' });
    await expect(install.service.check({ dropLegacy: true })).rejects.toMatchObject({ code: 'adoption_not_verified' });
    expect(await install.pointIds()).toEqual([]);
    const [legacy] = await install.query<{ v: number }>(`SELECT count(embedding)::int AS v FROM dq_embeddings_pgvector`);
    expect(legacy!.v).toBe(42);
  });

  it('refuses another embedding space with a 409 naming the settings, before writing anything', async () => {
    const local = install.serviceFor({ provider: 'local', model: 'local-hash', dimensions: DIMS });
    await expect(local.adopt({}, 'x')).rejects.toMatchObject({ code: 'space_mismatch', message: expect.stringContaining('OPENAI_API_KEY') });
    const small = install.serviceFor({ ...SPACE, dimensions: 8 });
    await expect(small.check({})).rejects.toMatchObject({ code: 'space_mismatch', message: expect.stringContaining('EMBEDDING_DIMENSIONS=16') });
    await expect(install.service.check({ model: 'text-embedding-3-small' })).rejects.toMatchObject({ message: expect.stringContaining('EMBEDDING_MODEL=text-embedding-3-small') });
    expect(await install.pointIds()).toEqual([]);
    expect(await install.query(`SELECT id FROM catalogs`)).toEqual([]);
  });

  it('adopts every row with its id and vector, zero tokens, resumes after a stop, and verifies the copy', async () => {
    // Stopped after its second page: the checkpoint holds, and the next run continues from it.
    // It stops a little after its second page, while the third is being written: the checkpoint still
    // records the counts of the pages up to it, nothing of the page after.
    let pages = 0;
    await expect(
      install.service.adopt({}, 'first', async () => {
        if (++pages === 2) {
          await new Promise((r) => setTimeout(r, 500));
          throw new Error('stopped');
        }
      }),
    ).rejects.toThrow('stopped');
    const [checkpoint] = await install.query<{ last_id: string | null; counts: { rows: number; skipped: Record<string, number> } }>(`SELECT last_id, counts FROM pgvector_adoptions`);
    expect(checkpoint!.last_id).not.toBeNull();
    const before = install.rows.filter((r) => r.id <= checkpoint!.last_id!);
    expect(checkpoint!.counts).toMatchObject({
      rows: before.length,
      skipped: { noVector: before.filter((r) => !r.vector).length, noCatalog: before.filter((r) => r.vector && !r.catalogId).length, wrongSize: 0 },
    });
    const partial = await install.pointIds();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(41);

    const result = await install.service.adopt({}, 'second');

    const migratable = install.migratable();
    expect(result).toMatchObject({ rows: 43, migrated: 41, skipped: { noVector: 1, noCatalog: 1, wrongSize: 0 }, catalogs: 2, tokens: 0 });
    expect(result.verified).toMatchObject({ ok: true, catalogs: 2, countMismatches: [], vectorsSampled: 41, recallAt10: 1 });
    expect(result.verified!.minCosine).toBeGreaterThanOrEqual(0.9999);
    expect(await install.pointIds()).toEqual(migratable.map((r) => r.id).sort());
    const vectors = await install.store.denseVectors(migratable.map((r) => r.id));
    for (const row of migratable) expect(cosineSimilarity(vectors.get(row.id)!, row.vector!)).toBeGreaterThanOrEqual(0.9999);
    const rows = await install.query<{ id: string; status: string; content: string; kind: string; metadata: unknown }>(
      `SELECT id, status, content, kind, metadata FROM dq_embeddings ORDER BY id`,
    );
    expect(rows).toHaveLength(41);
    const byId = new Map(install.rows.map((r) => [r.id, r]));
    for (const row of rows) {
      const legacy = byId.get(row.id)!;
      expect(row).toMatchObject({ id: row.id, status: 'active', content: legacy.content, kind: legacy.kind ?? 'document', metadata: legacy.metadata ?? {} });
    }
    const adopted = await install.query<{ id: string; adopted_from: string }>(`SELECT id, adopted_from FROM catalogs ORDER BY id`);
    expect(adopted).toEqual([...catalogs].sort().map((id) => ({ id, adopted_from: 'pgvector' })));
    // Each adopted catalog's document names the tables and columns its rows name, as the context reads them.
    const [described] = await install.query<{ document: Catalog }>(`SELECT document FROM catalogs WHERE id = $1`, [catalogs[0]]);
    const named = migratable.filter((r) => r.catalogId === catalogs[0] && r.metadata?.column);
    const tables = described!.document.schemas.flatMap((sc) => sc.tables.map((t) => ({ schema: sc.name, table: t.name, columns: t.columns.map((c) => c.name) })));
    for (const row of named) {
      expect(tables.find((t) => t.schema === 'public' && t.table === row.metadata!.table)?.columns).toContain(row.metadata!.column);
    }
    expect(await install.query(`SELECT catalog_id FROM catalog_leases WHERE expires_at > now() AND holder = 'second'`)).toEqual([]);
  });

  it('writes nothing when run again', async () => {
    const before = await install.query<{ id: string; updated_at: Date }>(`SELECT id, updated_at FROM dq_embeddings ORDER BY id`);
    const result = await install.service.adopt({}, 'again');
    expect(result).toMatchObject({ migrated: 0, unchanged: 41, verified: { ok: true } });
    expect(await install.query(`SELECT id, updated_at FROM dq_embeddings ORDER BY id`)).toEqual(before);
    expect(await install.pointIds()).toHaveLength(41);
  });

  it('waits for a catalog held by another writer', async () => {
    const fence = await install.leases.acquire(catalogs[0]!, 'reindex-elsewhere', 60_000);
    const extra = legacyRows({ rows: 1, dims: DIMS, catalogs: [catalogs[0]!], seed: 9 });
    await createPgvectorEraRows(install.db.url, extra);
    let settled = false;
    const adoption = install.service.adopt({}, 'waiting').finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1_500));
    expect(settled).toBe(false);
    expect(await install.pointIds()).not.toContain(extra[0]!.id);
    await install.leases.release(fence!);
    expect(await adoption).toMatchObject({ migrated: 1, unchanged: 41 });
    install.rows.push(...extra);
  });

  it('does not verify a copy whose points were lost or changed in Qdrant, and keeps the legacy column', async () => {
    await withInstall(qdrantUrl, legacyRows({ rows: 12, dims: DIMS, catalogs: [randomUUID()], seed: 9 }), async (other) => {
      expect((await other.service.adopt({}, 'adopt')).verified).toMatchObject({ ok: true, countMismatches: [] });
      const [lost, changed] = other.migratable();
      await other.store.deleteIds([lost!.id]);
      // Another vector under the same id and payload: the copy no longer matches its source.
      for await (const page of other.store.scrollPoints()) {
        const point = page.find((p) => p.id === changed!.id);
        if (point) await other.store.upsert([{ id: point.id, vector: changed!.vector!.map((x) => -x), sparse: { indices: [], values: [] }, payload: point.payload as VectorPoint['payload'] }]);
      }
      const failed = other.service.adopt({ dropLegacy: true }, 'drop');
      await expect(failed).rejects.toMatchObject({ code: 'adoption_not_verified' });
      const verified = (await other.query<{ verified: { ok: boolean; minCosine: number; countMismatches: { points: number; legacy: number }[] } }>(`SELECT verified FROM pgvector_adoptions`))[0]!.verified;
      expect(verified.ok).toBe(false);
      expect(verified.minCosine).toBeLessThan(0);
      expect(verified.countMismatches).toEqual([expect.objectContaining({ legacy: other.migratable().length, points: other.migratable().length - 1 })]);
      expect(await other.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'dq_embeddings_pgvector' AND column_name = 'embedding'`)).toHaveLength(1);
    });
  });

  it('fails the verification on any one of its measures: adopted rows, points, vectors or neighbours', async () => {
    const catalogId = randomUUID();
    await withInstall(qdrantUrl, legacyRows({ rows: 12, dims: DIMS, catalogs: [catalogId], seed: 11 }), async (other) => {
      const verify = async () => (await other.service.adopt({}, 'verify')).verified!;
      const clean = { ok: true, catalogs: 1, countMismatches: [], vectorsSampled: 12, minCosine: 1, neighbourQueries: 12, recallAt10: 1 };
      expect(await verify()).toEqual(clean);
      const [row, lost] = other.migratable();
      const points = new Map<string, VectorPoint['payload']>();
      for await (const page of other.store.scrollPoints()) for (const p of page) points.set(p.id, p.payload as VectorPoint['payload']);
      const write = (id: string, vector: ArrayLike<number>) => other.store.upsert([{ id, vector: Array.from(vector), sparse: { indices: [], values: [] }, payload: points.get(row!.id)! }]);

      // A vector a little off its source (cosine about 0.9998): only the cosine fails.
      const norm = Math.hypot(...row!.vector!);
      const nudged = Array.from(row!.vector!);
      nudged[0]! += 0.02 * norm;
      await write(row!.id, nudged);
      const offVector = await verify();
      expect(offVector).toMatchObject({ ...clean, ok: false, minCosine: expect.any(Number) });
      expect(offVector.minCosine).toBeLessThan(0.9999);
      expect(offVector.minCosine).toBeGreaterThan(0.999);
      await write(row!.id, row!.vector!);
      expect(await verify()).toEqual(clean);

      // Qdrant answers other points nearest (a copy of every vector under another id): only the recall fails.
      const copies = other.migratable().map((r) => ({ id: randomUUID(), vector: Array.from(r.vector!), sparse: { indices: [], values: [] }, payload: points.get(r.id)! }));
      await other.store.upsert(copies);
      const offNeighbours = await verify();
      expect(offNeighbours).toMatchObject({ ...clean, ok: false, recallAt10: expect.any(Number) });
      expect(offNeighbours.recallAt10).toBeLessThan(0.95);
      expect(offNeighbours.recallAt10).toBeGreaterThan(0.3);
      await other.store.deleteIds(copies.map((c) => c.id));
      expect(await verify()).toEqual(clean);

      // A product row not active (pending): only the rows are counted short.
      await other.query(`UPDATE dq_embeddings SET status = 'pending' WHERE id = $1`, [row!.id]);
      expect(await verify()).toEqual({ ...clean, ok: false, countMismatches: [{ catalogId, legacy: 12, rows: 11, points: 12 }] });
      await other.query(`UPDATE dq_embeddings SET status = 'active' WHERE id = $1`, [row!.id]);

      // A point lost: its vector counts as dissimilar, and the points are counted short.
      await other.store.deleteIds([lost!.id]);
      const offPoint = await verify();
      expect(offPoint).toMatchObject({ ok: false, countMismatches: [{ catalogId, legacy: 12, rows: 12, points: 11 }], minCosine: 0 });
    });
  });

  it('resumes with the counts of the rows before its checkpoint, skipped rows included', async () => {
    const rows = legacyRows({ rows: 16, dims: DIMS, catalogs: [randomUUID()], seed: 12, awkward: true });
    // The three rows that are not adopted come first in id order, before the stop.
    rows.slice(-3).forEach((r, i) => (r.id = `00000000-0000-4000-8000-00000000000${i}`));
    await withInstall(qdrantUrl, rows, async (other) => {
      await expect(
        other.service.adopt({}, 'first', () => {
          throw new Error('stopped');
        }),
      ).rejects.toThrow('stopped');
      const [checkpoint] = await other.query<{ counts: unknown }>(`SELECT counts FROM pgvector_adoptions`);
      expect(checkpoint!.counts).toEqual({ rows: 7, migrated: 5, unchanged: 0, skipped: { noVector: 1, noCatalog: 1, wrongSize: 0 } });
      const result = await other.service.adopt({}, 'second');
      expect(result).toMatchObject({ rows: 19, migrated: 17, unchanged: 0, skipped: { noVector: 1, noCatalog: 1, wrongSize: 0 }, verified: { ok: true } });
    });
  });

  it('drops the legacy column and the extension once verified, keeping the text, and rolls the vectors back', async () => {
    const result = await install.service.adopt({ dropLegacy: true }, 'drop');
    expect(result.dropped).toEqual({ column: 'embedding', extensionDropped: true });
    expect(await install.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'dq_embeddings_pgvector' AND column_name = 'embedding'`)).toEqual([]);
    expect(await install.query(`SELECT extname FROM pg_extension WHERE extname = 'vector'`)).toEqual([]);
    const [text] = await install.query<{ n: number }>(`SELECT count(content)::int AS n FROM dq_embeddings_pgvector`);
    expect(text!.n).toBe(install.rows.length);

    const rollback = await install.service.rollback({});

    expect(rollback).toMatchObject({ rows: install.rows.length, restored: 42, missing: 2, dimensions: DIMS, tokens: 0 });
    const restored = await install.query<{ id: string; embedding: string | null }>(`SELECT id, embedding::text FROM dq_embeddings_pgvector`);
    const byId = new Map(restored.map((r) => [r.id, r.embedding]));
    for (const row of install.migratable()) {
      expect(cosineSimilarity(JSON.parse(byId.get(row.id)!) as number[], row.vector!)).toBeGreaterThanOrEqual(0.9999);
    }
    const [typ] = await install.query<{ t: string }>(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'dq_embeddings_pgvector'::regclass AND attname = 'embedding'`);
    expect(typ!.t).toBe(`vector(${DIMS})`);
  });
});

describe('PgvectorAdoptionService with a separate source', () => {
  const qdrant = new QdrantEmulator();
  let install: Install;
  let source: TestDatabase<{ destroy(): Promise<void> }>;
  const rows = [
    ...legacyRows({ rows: 12, dims: DIMS, catalogs: [randomUUID()] }),
    ...legacyRows({ rows: 3, dims: 8, catalogs: [randomUUID()], seed: 3 }),
  ];

  beforeAll(async () => {
    const { url } = await qdrant.start(0);
    install = await new Install(url, []).start();
    source = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, rows, { dims: null, table: 'embeddings_v1' });
      return { destroy: () => Promise.resolve() };
    });
  });
  afterAll(async () => {
    await source.drop();
    await install.db.drop();
    await qdrant.stop();
  });

  it('adopts the vectors of the common size from an untyped column and skips the others by reason', async () => {
    const result = await install.service.adopt({ sourceUrl: source.url, table: 'embeddings_v1' }, 'sep');
    expect(result).toMatchObject({ rows: 15, migrated: 12, skipped: { noVector: 0, noCatalog: 0, wrongSize: 3 }, dimensions: DIMS, verified: { ok: true } });
    expect(result.source).not.toContain('postgres@');
    expect(await install.pointIds()).toHaveLength(12);
  });

  it('rolls the vectors back into the separate source, refusing a host it may not name', async () => {
    const client = new Client({ connectionString: source.url });
    await client.connect();
    try {
      await client.query(`UPDATE embeddings_v1 SET embedding = NULL`);
      // The table of a separate source is dq_embeddings unless named.
      await expect(install.service.rollback({ targetUrl: source.url })).rejects.toMatchObject({ code: 'source_table_not_found' });
      await expect(install.service.rollback({ targetUrl: 'postgres://u:secret@192.0.2.7:5432/x', table: 'embeddings_v1' })).rejects.toMatchObject({
        code: 'source_not_allowed',
        message: expect.not.stringContaining('secret'),
      });
      const pages: number[] = [];
      const result = await install.service.rollback({ targetUrl: source.url, table: 'embeddings_v1' }, (p) => void pages.push(p.rows));
      expect(result).toMatchObject({ table: 'embeddings_v1', rows: 15, restored: 12, missing: 3, dimensions: DIMS, tokens: 0 });
      expect(pages).toEqual([7, 14, 15]);
      const { rows: restored } = await client.query<{ id: string; embedding: string | null }>(`SELECT id, embedding::text FROM embeddings_v1`);
      const byId = new Map(restored.map((r) => [r.id, r.embedding]));
      for (const row of rows) {
        if (row.vector!.length === DIMS) expect(cosineSimilarity(JSON.parse(byId.get(row.id)!) as number[], row.vector!)).toBeGreaterThanOrEqual(0.9999);
        else expect(byId.get(row.id)).toBeNull();
      }
    } finally {
      await client.end();
    }
  });

  it('answers a missing table, a table without vectors, a refused user and an unreachable host clearly', async () => {
    await expect(install.service.check({ sourceUrl: source.url, table: 'nope' })).rejects.toMatchObject({ code: 'source_table_not_found' });
    const client = new Client({ connectionString: source.url });
    await client.connect();
    await client.query(`CREATE TABLE plain (id uuid PRIMARY KEY, content text)`);
    await client.end();
    await expect(install.service.check({ sourceUrl: source.url, table: 'plain' })).rejects.toMatchObject({ code: 'source_not_vector' });
    const wrong = new URL(source.url);
    // This server trusts local connections: a user it does not know is what it refuses.
    wrong.username = 'no_such_adopter';
    wrong.password = 'wrong';
    wrong.hostname = '127.0.0.1';
    const denied = install.service.check({ sourceUrl: wrong.toString() });
    await expect(denied).rejects.toMatchObject({ code: 'source_access_denied' });
    await expect(denied).rejects.toMatchObject({ message: expect.not.stringContaining('wrong') });
    const closed = withDatabase('postgres://u:secret@127.0.0.1:1/x', 'x');
    await expect(install.service.check({ sourceUrl: closed })).rejects.toMatchObject({ code: 'source_unreachable', message: expect.not.stringContaining('secret') });
    await expect(install.service.check({ sourceUrl: 'mysql://a@b/c' })).rejects.toMatchObject({ code: 'invalid_connection_string' });
  });
});

async function createPgvectorEraRows(url: string, rows: LegacyTestRow[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const r of rows) {
      await client.query(`INSERT INTO dq_embeddings_pgvector (id, content, embedding, kind, catalog_id, metadata) VALUES ($1, $2, $3, $4, $5, $6)`, [
        r.id,
        r.content,
        `[${r.vector!.join(',')}]`,
        r.kind,
        r.catalogId,
        JSON.stringify(r.metadata),
      ]);
    }
  } finally {
    await client.end();
  }
}

describe('ReindexService on an adopted catalog', () => {
  const qdrant = new QdrantEmulator();
  const catalogId = randomUUID();
  const chunks = chunkCatalog(shopCatalog);
  // Three legacy rows carry the text of a chunk of the real document; two carry text it no longer has.
  const same = chunks.slice(0, 3);
  const rows: LegacyTestRow[] = [
    ...legacyRows({ rows: 5, dims: DIMS, catalogs: [catalogId], seed: 5 }).map((r, i) => ({ ...r, content: same[i]?.content ?? r.content })),
  ];
  let qdrantUrl: string;
  let install: Install;

  beforeAll(async () => {
    qdrantUrl = (await qdrant.start(0)).url;
    install = await new Install(qdrantUrl, rows).start();
  });
  afterAll(async () => {
    await install.db.drop();
    await qdrant.stop();
  });

  /** A reindex service over the install's stores, counting the texts it embeds. */
  const reindexOf = (on: Install) => {
    const embedder = new LocalEmbedder(DIMS);
    const counted = { texts: 0 };
    const counting = { provider: 'openai' as const, model: 'text-embedding-3-large', dimensions: DIMS, embed: (texts: string[]) => ((counted.texts += texts.length), embedder.embed(texts)) };
    const catalogs = new CatalogRepository(on.db.dataSource);
    const reindex = new ReindexService({
      catalogs,
      embeddings: new EmbeddingRepository(on.db.dataSource),
      runs: new IndexRunRepository(on.db.dataSource),
      leases: on.leases,
      deletions: new PointDeletionRepository(on.db.dataSource),
      store: on.store,
      embedder: counting,
      logger: createLogger({ level: 'silent' }),
    });
    return { reindex, catalogs, counted };
  };
  const activeRows = (on: Install) => on.query<{ id: string; chunk_key: string }>(`SELECT id, chunk_key FROM dq_embeddings WHERE status = 'active'`);

  it('leaves an adopted catalog alone until its document is stored, then reuses the vectors of equal text and retires the rest', async () => {
    await install.service.adopt({}, 'adopt');
    const { reindex, catalogs, counted } = reindexOf(install);
    expect(await reindexInProcess(reindex, catalogId)).toMatchObject({ status: 'skipped', embedded: 0 });
    expect(await install.pointIds()).toHaveLength(5);

    await catalogs.replace(catalogId, toNew(shopCatalog));
    const result = await reindexInProcess(reindex, catalogId);

    expect(result).toMatchObject({ status: 'completed', chunks: chunks.length, embedded: chunks.length - 3, deleted: 2 });
    expect(counted.texts).toBe(chunks.length - 3);
    const active = await activeRows(install);
    expect(active).toHaveLength(chunks.length);
    const byKey = new Map(active.map((r) => [r.chunk_key, r.id]));
    for (let i = 0; i < 3; i++) expect(byKey.get(same[i]!.key)).toBe(rows[i]!.id);
    expect(active.some((r) => r.chunk_key.startsWith('pgvector:'))).toBe(false);
    const vectors = await install.store.denseVectors([rows[0]!.id]);
    expect(cosineSimilarity(vectors.get(rows[0]!.id)!, rows[0]!.vector!)).toBeGreaterThanOrEqual(0.9999);
    expect(await install.pointIds()).toEqual(active.map((r) => r.id).sort());
  });

  /** `work` on a fresh install of the same legacy rows, adopted. */
  const adoptedInstall = (work: (on: Install) => Promise<void>) =>
    withInstall(qdrantUrl, rows, async (on) => {
      await on.service.adopt({}, 'adopt');
      await work(on);
    });

  it('embeds again the text of an adopted row whose point was lost', async () => {
    await adoptedInstall(async (on) => {
      // The point of the third row of equal text is gone (a Qdrant restored from an older snapshot).
      await on.store.deleteIds([rows[2]!.id]);
      const { reindex, catalogs, counted } = reindexOf(on);
      await catalogs.replace(catalogId, toNew(shopCatalog));
      expect(await reindexInProcess(reindex, catalogId)).toMatchObject({ status: 'completed', chunks: chunks.length, embedded: chunks.length - 2, deleted: 3 });
      expect(counted.texts).toBe(chunks.length - 2);
      const byKey = new Map((await activeRows(on)).map((r) => [r.chunk_key, r.id]));
      expect(byKey.get(same[0]!.key)).toBe(rows[0]!.id);
      expect(byKey.get(same[2]!.key)).not.toBe(rows[2]!.id);
      expect(await on.pointIds()).toEqual([...byKey.values()].sort());
    });
  });

  it('takes over no adopted row in a forced run: every chunk is embedded and every adopted row retired', async () => {
    await adoptedInstall(async (on) => {
      const { reindex, catalogs, counted } = reindexOf(on);
      await catalogs.replace(catalogId, toNew(shopCatalog));
      expect(await reindexInProcess(reindex, catalogId, { force: true })).toMatchObject({ status: 'completed', embedded: chunks.length, deleted: 5 });
      expect(counted.texts).toBe(chunks.length);
      const active = await activeRows(on);
      expect(active.map((r) => r.id).filter((id) => rows.some((r) => r.id === id))).toEqual([]);
      expect(await on.pointIds()).toEqual(active.map((r) => r.id).sort());
    });
  });
});
