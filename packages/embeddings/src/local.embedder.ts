import { type Embedder, type EmbeddingResult } from './embedder';
import { hashingVector } from '@catalog-indexer/text';
import { countTokens } from '@catalog-indexer/text';

/** The local embedder's model: feature hashing of words, version 1 (a change of algorithm is a new name). */
export const LOCAL_MODEL = 'hashing-v1';

/**
 * A deterministic embedder that needs no network and no key: feature-hashing vectors in which texts that
 * share words are close. Good enough to run the whole pipeline on a fresh machine; not a semantic model.
 * Its identity is its own (`local/hashing-v1@<size>`): it never takes the name of an API's model.
 */
export class LocalEmbedder implements Embedder {
  readonly provider = 'local' as const;
  readonly model = LOCAL_MODEL;

  constructor(readonly dimensions: number) {
    if (!Number.isInteger(dimensions) || dimensions <= 0) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }

  embed(texts: string[], _signal?: AbortSignal, counts?: readonly (number | null)[]): Promise<EmbeddingResult> {
    let tokens = 0;
    const vectors = texts.map((text, i) => {
      tokens += counts?.[i] ?? countTokens(text);
      return hashingVector(text, this.dimensions);
    });
    return Promise.resolve({ vectors, tokens });
  }
}
