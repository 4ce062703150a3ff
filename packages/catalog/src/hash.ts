import * as crypto from 'node:crypto';

/**
 * SHA-256 of a string as hex: `crypto.hash` (a one-shot digest, about three times cheaper than a `Hash`
 * object for texts of a chunk's size; Node 20.12 and later), else `createHash`.
 */
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

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
  return sha256Hex(canonical);
}

