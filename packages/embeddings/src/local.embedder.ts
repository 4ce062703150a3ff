import { type Embedder, type EmbeddingResult } from './embedder';
import { hashingVector } from '@catalog-indexer/text';
import { countTokens } from '@catalog-indexer/text';

/**
 * A deterministic embedder that needs no network and no key: feature-hashing vectors in which texts that
 * share words are close. Good enough to run the whole pipeline on a fresh machine; not a semantic model.
 */
export class LocalEmbedder implements Embedder {
  constructor(
    readonly model: string,
    readonly dimensions: number,
  ) {}

  embed(texts: string[]): Promise<EmbeddingResult> {
    let tokens = 0;
    const vectors = texts.map((text) => {
      tokens += countTokens(text);
      return hashingVector(text, this.dimensions);
    });
    return Promise.resolve({ vectors, tokens });
  }
}
