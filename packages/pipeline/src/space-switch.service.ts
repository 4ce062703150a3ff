import { catalogVocabulary, contentHash, parseCatalog } from '@catalog-indexer/catalog';
import { identityName, type Embedder } from '@catalog-indexer/embeddings';
import { QdrantStore, type ServedCollection, type VectorPoint } from '@catalog-indexer/vector-store';
import { chunkPoint } from './chunk-point';
import { type CleanupDeps } from './cleanup.service';
import { LeaseSection } from './lease-section';

export interface SpaceSwitchDeps extends CleanupDeps {
  /** The configured embedder: the space (provider, model and size) the index is to be in. */
  embedder: Embedder;
  /** Rows embedded per request while filling the new collection (default 256). */
  batchSize?: number;
}

/** Where a switch of embedding space stands after {@link SpaceSwitchService.run}. */
export type SpaceSwitchResult =
  /** The served collection holds the configured space; `dropped` are earlier generations removed now. */
  | { state: 'current'; served: string; dropped: string[] }
  /** Catalogs held by other writers were not filled yet: run again later. */
  | { state: 'switching'; served: string; target: string; busy: string[]; points: number; tokens: number }
  /** Every catalog was filled and the configured name now serves `target`. */
  | { state: 'switched'; from: string; target: string; points: number; tokens: number };

/**
 * Moves the index to another embedder (provider, model) or size without a moment in which queries find nothing, through
 * the alias the configured collection name is:
 *
 * 1. The served collection keeps serving (the query service embeds questions in the space it holds, read
 *    from the collection's metadata), and reindexes wait (see {@link SpaceSwitchService.switching}).
 * 2. A collection for the new space is created next to it and filled catalog by catalog, each under the
 *    catalog's lease: every active row is embedded again and written with the same point id and payload, so
 *    Postgres needs no second set of rows and hydration serves both collections alike; the rows then record
 *    the new model, size and content hash (a later reindex finds them current). Points of the new
 *    collection that no active row owns (rows a cleanup removed meanwhile) are deleted.
 * 3. Once every catalog is filled, the alias is switched to the new collection in one request.
 * 4. A later run (the periodic reconcile) drops the earlier collections, after queries that resolved the old
 *    one have finished; a query that still finds it gone resolves the alias again.
 *
 * A run that stops midway (crash, outage, busy catalogs) is simply run again: filling skips the points
 * already written. Runs from several processes at once are safe: catalogs are filled under their leases.
 */
export class SpaceSwitchService {
  private readonly lease: LeaseSection;
  private known: { at: number; switching: boolean } | undefined;

  constructor(private readonly deps: SpaceSwitchDeps) {
    this.lease = new LeaseSection(deps);
  }

  /** The collection this service's space lives in (where a switch to it builds). */
  get target(): string {
    const { store, embedder } = this.deps;
    return QdrantStore.collectionFor(store.collection, embedder.dimensions, embedder.model, embedder.provider);
  }

  /**
   * Whether the served collection holds another space than the configured one, i.e. a switch is under way:
   * writes of the configured embedder would not fit the served collection. Cached for `maxAgeMs`.
   */
  async switching(maxAgeMs = 2_000): Promise<boolean> {
    if (this.known && Date.now() - this.known.at < maxAgeMs) return this.known.switching;
    const served = await this.deps.store.served();
    const switching = served !== null && !this.fits(served);
    this.known = { at: Date.now(), switching };
    return switching;
  }

  /** Carries a switch as far as it can go now (see the class comment); `holder` names the leases it takes. */
  async run(holder: string): Promise<SpaceSwitchResult> {
    const { store, catalogs, logger, embedder } = this.deps;
    const served = await store.served();
    if (served === null) return { state: 'current', served: this.target, dropped: [] };
    if (this.fits(served)) return { state: 'current', served: served.collection, dropped: await this.dropEarlier(served.collection) };
    const target = served.collection === this.target ? `${this.target}-next` : this.target;
    logger.info({ from: served, to: { collection: target, embedder: identityName(embedder) } }, 'switching the index to a new embedding space');
    await store.createLayout(target, embedder);
    await store.ensurePayloadIndexes(target);
    const into = store.withCollection(target);
    const busy: string[] = [];
    let points = 0;
    let tokens = 0;
    for (const catalog of await catalogs.list(1_000_000, 0)) {
      const filled = await this.fill(catalog.id, into, `${holder}:${catalog.id}`);
      if (filled === 'busy') busy.push(catalog.id);
      else {
        points += filled.points;
        tokens += filled.tokens;
      }
    }
    if (busy.length > 0) return { state: 'switching', served: served.collection, target, busy, points, tokens };
    await store.switchAlias(target);
    this.known = undefined;
    logger.info({ from: served.collection, to: target, points, tokens }, 'the index now serves the new embedding space');
    return { state: 'switched', from: served.collection, target, points, tokens };
  }

  private fits(served: ServedCollection): boolean {
    const { embedder } = this.deps;
    // A collection of no recorded provider (made before providers were) fits no embedder.
    return served.dimensions === embedder.dimensions && served.model === embedder.model && served.provider === embedder.provider;
  }

  /**
   * Makes the catalog's points in `into` those of its active rows, embedded in the configured space, under
   * the catalog's lease. Deleted catalogs are skipped (the reconciler removes what they left).
   */
  private async fill(catalogId: string, into: QdrantStore, holder: string): Promise<'busy' | { points: number; tokens: number }> {
    const outcome = await this.lease.withLease(catalogId, holder, async ({ fence }) => {
      const { catalogs, embeddings, embedder, leases } = this.deps;
      const catalog = await catalogs.get(catalogId);
      if (!catalog) return { points: 0, tokens: 0 };
      const vocabulary = catalogVocabulary(parseCatalog(catalog.document));
      const active = await embeddings.activeChunks(catalogId);
      const present = new Set(await into.listIds(catalogId));
      const owned = new Set(active.map((r) => r.id));
      const extra = [...present].filter((id) => !owned.has(id));
      if (extra.length > 0) await into.deleteIds(extra);
      const missing = active.filter((r) => !present.has(r.id)).map((r) => r.id);
      const size = this.deps.batchSize ?? 256;
      let points = 0;
      let tokens = 0;
      for (let i = 0; i < missing.length; i += size) {
        const rows = [...(await embeddings.hydrate(missing.slice(i, i + size))).values()];
        if (rows.length === 0) continue;
        const embedded = await embedder.embed(rows.map((r) => r.content));
        const hashes = rows.map((r) => contentHash(r.content, embedder));
        const batch: VectorPoint[] = rows.map((row, j) => chunkPoint(catalogId, row, hashes[j]!, embedded.vectors[j], vocabulary));
        await this.lease.assertHeld(fence);
        await into.upsert(batch);
        await leases.fenced(fence, (m) =>
          embeddings.setSpace(m, catalogId, rows.map((r, j) => ({ id: r.id, contentHash: hashes[j]! })), embedder),
        );
        points += batch.length;
        tokens += embedded.tokens;
      }
      return { points, tokens };
    });
    return outcome.kind === 'busy' ? 'busy' : outcome.value;
  }

  /**
   * Drops the collections of earlier generations behind the configured name: those created before the
   * served one (or that do not say when), never the served one, nor one a switch to yet another space is
   * filling (created after it).
   */
  private async dropEarlier(served: string): Promise<string[]> {
    const { store, logger } = this.deps;
    const prefix = `${store.collection}-hybrid-`;
    const servedAt = (await store.createdAt(served))?.getTime() ?? 0;
    const earlier: string[] = [];
    for (const name of await store.listCollections()) {
      if (name === served || !name.startsWith(prefix)) continue;
      if (((await store.createdAt(name))?.getTime() ?? 0) <= servedAt) earlier.push(name);
    }
    for (const name of earlier) await store.dropCollection(name);
    if (earlier.length > 0) logger.info({ dropped: earlier, served }, 'dropped the collections of earlier embedding spaces');
    return earlier;
  }
}
