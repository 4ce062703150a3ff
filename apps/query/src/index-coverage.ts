import { type EmbeddingRepository } from '@catalog-indexer/db';
import { VectorStoreError, type VectorReader } from '@catalog-indexer/vector-store';

/** A catalog whose points are fewer than its current rows: the vector store lost them and a rebuild is filling it. */
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
  /** Points of the served collection, `null` when it is missing. */
  points: number | null;
  rows: number;
}

/**
 * Tells whether the vector store holds the index Postgres describes. Points are written before their rows
 * become active and deleted after their rows go, so a collection never holds fewer points than there are
 * active rows, unless Qdrant lost them (restarted empty, a collection dropped): then the index is being
 * rebuilt, and answers say so instead of returning nothing.
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
    if (m.points === null) return `index "${this.store.collection}" is missing from the vector store: it is being recreated and rebuilt`;
    if (m.points < m.rows) return `index "${this.store.collection}" is rebuilding: the vector store holds ${m.points} points for ${m.rows} current chunks`;
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
    if (last && (last.points === null || last.points < last.rows)) await this.assertServing(catalogId);
  }

  /** Throws {@link IndexRebuildingError} when the catalog has fewer points than current rows (checked now). */
  async assertServing(catalogId: string): Promise<void> {
    const rows = await this.embeddings.countActive(catalogId);
    if (rows === 0) return;
    // A collection that is missing holds nothing (the reader never recreates it; the workers do).
    const points = await this.store.count(catalogId).catch(async (error: unknown) => {
      // A 404 is the collection missing when counted; asking again whether it exists could already find the
      // one the workers are recreating, and turn the rebuild into a bare 503.
      if (error instanceof VectorStoreError && error.status === 404) return 0;
      if (await this.store.collectionExists()) throw error;
      return 0;
    });
    if (points < rows) {
      throw new IndexRebuildingError(
        `the index of catalog ${catalogId} is being rebuilt after the vector store lost its points (${points} of ${rows} chunks back so far); retry in a few seconds`,
        { catalogId, points, rows },
      );
    }
  }

  /** Measures now; concurrent callers share one measure. */
  private measure(): Promise<Measure> {
    this.measuring ??= (async () => {
      const [rows, points] = await Promise.all([this.embeddings.countAllActive(), this.store.countAll()]);
      this.last = { at: Date.now(), points, rows };
      return this.last;
    })().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }
}
