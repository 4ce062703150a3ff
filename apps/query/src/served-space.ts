import { LOCAL_MODEL, type Embedder, type EmbedderIdentity } from '@catalog-indexer/embeddings';
import { AppError } from '@catalog-indexer/http';
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
 * The embedder identity in which to embed questions for a served space. A collection made before providers
 * were recorded (`provider: null`) holds vectors of whatever embedder ran under its model's name then; its
 * questions are embedded as that version did under the configuration this process has: with OpenAI's model
 * when a key is configured, else with the local embedder at the collection's size.
 */
export function questionIdentity(served: EmbeddingSpace, configured: EmbedderIdentity): EmbedderIdentity {
  if (served.provider === 'openai' || served.provider === 'local') {
    return { provider: served.provider, model: served.model, dimensions: served.dimensions };
  }
  if (served.provider !== null) throw new RangeError(`the served collection holds vectors of an unknown provider "${served.provider}"`);
  return configured.provider === 'openai'
    ? { provider: 'openai', model: served.model, dimensions: served.dimensions }
    : { provider: 'local', model: LOCAL_MODEL, dimensions: served.dimensions };
}

/**
 * The space the configured name serves right now: the collection the alias points at, and an embedder for
 * the provider, model and size its vectors hold (read from the collection). While the index moves to a new
 * embedder or size, questions are embedded for the collection still served, whatever this process is
 * configured with; once the alias switches, the next resolution (at most `maxAgeMs` later) follows it. A
 * request pins the collection it resolved, so a question is never searched with vectors of another space.
 */
export class ServedSpace implements SpaceSource {
  private cached: { at: number; space: Promise<QuerySpace> } | undefined;
  private readonly embedders = new Map<string, Embedder>();

  /**
   * `makeEmbedder` may throw (an OpenAI space without a key): requests then answer 503 with its message,
   * and readiness fails, until the configuration or the served collection changes.
   */
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
    const space = served ?? { collection: undefined, provider: this.store.provider ?? null, model: this.store.model ?? '', dimensions: this.store.dimensions };
    const key = `${space.provider}/${space.model}@${space.dimensions}`;
    let embedder = this.embedders.get(key);
    if (!embedder) {
      try {
        embedder = this.makeEmbedder({ provider: space.provider, model: space.model, dimensions: space.dimensions });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new AppError('service_unavailable', `questions cannot be embedded for the served collection: ${reason}`);
      }
      this.embedders.set(key, embedder);
    }
    return { embedder, collection: space.collection };
  }
}
