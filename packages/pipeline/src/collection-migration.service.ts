import { catalogVocabulary, parseCatalog } from '@catalog-indexer/catalog';
import { type CatalogRepository, type EmbeddingRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { documentSparseVector } from '@catalog-indexer/text';
import { type PointPayload, QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';

export interface CollectionMigrationDeps {
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  /** The store of the configured collection name. */
  store: QdrantStore;
  logger: Logger;
}

export interface CollectionMigrationResult {
  /** False when there was nothing to migrate (a new install, or one already on the hybrid layout). */
  migrated: boolean;
  /** Points copied into the new collection. */
  copied: number;
  /** Points of the old collection left behind because no current row owns them (orphans). */
  skipped: number;
}

/**
 * Moves an install from the layout before hybrid search (a collection under the configured name holding one
 * unnamed vector per point) to the hybrid layout behind an alias, without embedding anything: it creates
 * the collection of the hybrid layout, copies every point whose row is current (the stored dense vector as
 * is, the sparse vector computed here from the row's text and its catalog's vocabulary), then drops the old
 * collection and creates the alias in its place. Qdrant cannot give an alias the name of a collection, so
 * between those two requests the configured name does not exist for a moment. Running it again, or from
 * several processes at once, is safe: copies are idempotent upserts and the alias is created once.
 */
export class CollectionMigrationService {
  constructor(private readonly deps: CollectionMigrationDeps) {}

  async migrateLegacy(): Promise<CollectionMigrationResult> {
    const { store, embeddings, logger } = this.deps;
    const served = await store.resolve();
    if (served !== store.collection || !(await store.isLegacyLayout(served))) return { migrated: false, copied: 0, skipped: 0 };
    const target = QdrantStore.collectionFor(store.collection, store.dimensions);
    logger.info({ from: served, to: target }, 'migrating the collection to the hybrid layout (no embedding)');
    // The copied vectors are of whatever embedder ran under the configured model's name (the local one
    // did, without a key): recorded without a provider, they fit no embedder and the space switch embeds
    // them again.
    await store.createLayout(target, { model: store.model });
    const into = store.withCollection(target);
    const vocabularies = new Map<string, ReadonlySet<string>>();
    let copied = 0;
    let skipped = 0;
    for await (const page of store.scrollPoints()) {
      const rows = await embeddings.hydrate(page.map((p) => p.id));
      const points: VectorPoint[] = [];
      for (const p of page) {
        const row = rows.get(p.id);
        if (!row || !Array.isArray(p.vector)) {
          skipped++;
          continue;
        }
        const vocabulary = await this.vocabulary(row.catalogId, vocabularies);
        points.push({
          id: p.id,
          vector: p.vector as number[],
          sparse: documentSparseVector(row.content, vocabulary),
          payload: p.payload as PointPayload,
        });
      }
      await into.upsert(points);
      copied += points.length;
    }
    await store.dropCollection(served);
    await store.switchAlias(target);
    logger.info({ to: target, copied, skipped }, 'collection migrated; the configured name is now an alias');
    return { migrated: true, copied, skipped };
  }

  private async vocabulary(catalogId: string, cache: Map<string, ReadonlySet<string>>): Promise<ReadonlySet<string> | undefined> {
    const known = cache.get(catalogId);
    if (known) return known;
    const row = await this.deps.catalogs.get(catalogId);
    if (!row) return undefined;
    const vocabulary = catalogVocabulary(parseCatalog(row.document));
    cache.set(catalogId, vocabulary);
    return vocabulary;
  }
}
