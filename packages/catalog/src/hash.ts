import { createHash } from 'node:crypto';

/**
 * Who made a vector: the embedder's provider (`openai`, `local`), its model as that provider names it and
 * the vector's size. Two embedders with the same model name but different providers (the local hashing
 * embedder and an OpenAI model, say) are different spaces.
 */
export interface EmbedderIdentity {
  readonly provider: string;
  readonly model: string;
  readonly dimensions: number;
}

/**
 * Fingerprint of one embedding: the SHA-256 (hex) of the canonical JSON
 * `{"content":…,"dimensions":…,"model":…,"provider":…}` (keys sorted, no spaces). A chunk whose hash is
 * unchanged since the last index needs no new embedding; the embedder's identity is part of it because a
 * vector from another provider, model or size is not a substitute. JSON keeps the fields apart, so no
 * choice of text can imitate another combination. Hashes made before the provider was part of them
 * (`{"content","dimensions","model"}`) match no hash of this form, so their rows are embedded again.
 *
 * @throws RangeError if `dimensions` is not a positive integer or the provider or model is empty.
 */
export function contentHash(content: string, embedder: EmbedderIdentity): string {
  const { provider, model, dimensions } = embedder;
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  if (provider === '' || model === '') throw new RangeError('an embedder identity needs a provider and a model');
  const canonical = JSON.stringify({ content, dimensions, model, provider });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

