import { type Embedder } from '@catalog-indexer/embeddings';
import { type EmbeddingSpace, type VectorReader } from '@catalog-indexer/vector-store';

/** What a question is embedded with and the collection it is searched in. */
export interface QuerySpace {
  embedder: Embedder;
  /** The collection to search; the configured name (alias) when absent. */
  collection?: string;
}

/** Gives each request its {@link QuerySpace}; `refresh` forgets what it knew (the collection went away). */
export interface SpaceSource {
  current(): Promise<QuerySpace>;
  refresh(): void;
}

/** One embedder and the configured collection name, always. */
export class FixedSpace implements SpaceSource {
  private readonly space: QuerySpace;

  constructor(embedder: Embedder) {
    this.space = { embedder };
  }

  current(): Promise<QuerySpace> {
    return Promise.resolve(this.space);
  }

  refresh(): void {}
}

/**
 * The space the configured name serves right now: the collection the alias points at, and an embedder for
 * the model and size its vectors hold (read from the collection). While the index moves to a new model or
 * size, questions are embedded for the collection still served, whatever this process is configured with;
 * once the alias switches, the next resolution (at most `maxAgeMs` later) follows it. A request pins the
 * collection it resolved, so a question is never searched with vectors of another size.
 */
export class ServedSpace implements SpaceSource {
  private cached: { at: number; space: Promise<QuerySpace> } | undefined;
  private readonly embedders = new Map<string, Embedder>();

  constructor(
    private readonly store: VectorReader,
    private readonly makeEmbedder: (space: EmbeddingSpace) => Embedder,
    private readonly maxAgeMs = 2_000,
  ) {}

  current(): Promise<QuerySpace> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.maxAgeMs) {
      const space = this.resolve();
      this.cached = { at: now, space };
      // A failed resolution is not kept: the next request asks again.
      space.catch(() => {
        if (this.cached?.space === space) this.cached = undefined;
      });
    }
    return this.cached.space;
  }

  refresh(): void {
    this.cached = undefined;
  }

  private async resolve(): Promise<QuerySpace> {
    const served = await this.store.served();
    // Nothing served yet (a new install before its first write): the configured space and name.
    const space = served ?? { collection: undefined, model: this.store.model ?? '', dimensions: this.store.dimensions };
    const key = `${space.model}@${space.dimensions}`;
    let embedder = this.embedders.get(key);
    if (!embedder) {
      embedder = this.makeEmbedder({ model: space.model, dimensions: space.dimensions });
      this.embedders.set(key, embedder);
    }
    return { embedder, collection: space.collection };
  }
}
