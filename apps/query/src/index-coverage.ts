import { measureServing, type EmbeddingRepository, type ServedPoints } from '@catalog-indexer/db';
import { VectorStoreError, type VectorReader } from '@catalog-indexer/vector-store';

/** A catalog whose current rows lack their points: the vector store lost them and a rebuild is filling it. */
export class IndexRebuildingError extends Error {
  readonly code = 'index_rebuilding';
  /** Shown to the client as it is (see the HTTP error mapping). */
  readonly expose = true;

  constructor(
    message: string,
    readonly details: { catalogId: string; points: number; rows: number },
  ) {
    super(message);
    this.name = 'IndexRebuildingError';
  }
}

/** What the served collection holds against what Postgres says it must hold. */
interface Measure {
  at: number;
  /** Whether the served collection exists. */
  exists: boolean;
  /** Active rows whose points the vector store holds (see `servedRows`). */
  served: number;
  rows: number;
}

/**
 * Tells whether the vector store holds the index Postgres describes. Points are written before their rows
 * become active and deleted after their rows go, so every active row has its point, unless Qdrant lost them
 * (restarted empty, a collection dropped): then the index is being rebuilt, and answers say so instead of
 * returning nothing, until the rebuilt rows are active (see `measureServing`: the points the rebuild writes
 * before then are not taken for the lost ones).
 */
export class IndexCoverage {
  private last?: Measure;
  private measuring?: Promise<Measure>;

  constructor(
    private readonly store: VectorReader,
    private readonly embeddings: EmbeddingRepository,
    /** How long a measure is trusted by {@link guard}. */
    private readonly maxAgeMs = 2_000,
  ) {}

  /** Readiness: `true`, or a sentence naming the index that is missing or rebuilding. */
  async probe(): Promise<true | string> {
    const m = await this.measure();
    if (!m.exists) return `index "${this.store.collection}" is missing from the vector store: it is being recreated and rebuilt`;
    if (m.served < m.rows) return `index "${this.store.collection}" is rebuilding: the vector store serves ${m.served} of ${m.rows} current chunks`;
    return true;
  }

  /**
   * Before a search: when the last measure (at most `maxAgeMs` old; a stale one is renewed in the background,
   * never waited for) found points missing, checks this catalog and throws {@link IndexRebuildingError} if
   * it is affected.
   */
  async guard(catalogId: string): Promise<void> {
    const last = this.last;
    if (!last || Date.now() - last.at > this.maxAgeMs) this.measure().catch(() => undefined);
    if (last && last.served < last.rows) await this.assertServing(catalogId);
  }

  /** Throws {@link IndexRebuildingError} when points of the catalog's current rows are missing (checked now). */
  async assertServing(catalogId: string): Promise<void> {
    // A collection that is missing holds nothing (the reader never recreates it; the workers do).
    const catalogPoints: ServedPoints = {
      countPoints: () =>
        this.store.count(catalogId).catch(async (error: unknown) => {
          // A 404 is the collection missing when counted; asking again whether it exists could already find
          // the one the workers are recreating, and turn the rebuild into a bare 503.
          if (error instanceof VectorStoreError && error.status === 404) return 0;
          if (await this.store.collectionExists()) throw error;
          return 0;
        }),
      existingIds: (ids) =>
        this.store.existingIds(ids).catch((error: unknown) => {
          if (error instanceof VectorStoreError && error.status === 404) return new Set<string>();
          throw error;
        }),
    };
    const { rows, served } = await measureServing(this.embeddings, catalogPoints, catalogId);
    if (served < rows) {
      throw new IndexRebuildingError(
        `the index of catalog ${catalogId} is being rebuilt after the vector store lost its points (${served} of ${rows} chunks back so far); retry in a few seconds`,
        { catalogId, points: served, rows },
      );
    }
  }

  /** Measures now; concurrent callers share one measure. */
  private measure(): Promise<Measure> {
    this.measuring ??= (async () => {
      const { rows, served, points } = await measureServing(this.embeddings, {
        countPoints: () => this.store.countAll(),
        existingIds: (ids) => this.store.existingIds(ids),
      });
      this.last = { at: Date.now(), exists: points !== null, served, rows };
      return this.last;
    })().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }
}
