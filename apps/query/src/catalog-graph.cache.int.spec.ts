import { flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { CatalogRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogGraphCache } from './catalog-graph.cache';

const toNew = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

/** Counts the reads of whole documents: a graph is built from one. */
class CountingCatalogs extends CatalogRepository {
  documentReads = 0;
  override get(id: string): ReturnType<CatalogRepository['get']> {
    this.documentReads++;
    return super.get(id);
  }
}

describe(CatalogGraphCache.name, () => {
  let db: TestDatabase<DataSource>;
  let catalogs: CountingCatalogs;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    catalogs = new CountingCatalogs(db.dataSource);
  });
  afterAll(() => db.drop());

  it('builds a graph once for concurrent requests, and again once after the catalog changes', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    const cache = new CatalogGraphCache(catalogs);
    catalogs.documentReads = 0;
    const graphs = await Promise.all(Array.from({ length: 8 }, () => cache.get(id)));
    expect(catalogs.documentReads).toBe(1);
    expect(new Set(graphs).size).toBe(1);
    expect(graphs[0]).not.toBeNull();
    expect(await cache.get(id)).toBe(graphs[0]);
    expect(catalogs.documentReads).toBe(1);

    await catalogs.replace(id, toNew({ ...shopCatalog, description: 'Edited.' }));
    const after = await Promise.all(Array.from({ length: 8 }, () => cache.get(id)));
    expect(catalogs.documentReads).toBe(2);
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(graphs[0]);
  });
});
