import { createHash } from 'node:crypto';

/**
 * Fingerprint of one embedding: the SHA-256 (hex) of the canonical JSON `{"content":…,"dimensions":…,"model":…}`
 * (keys sorted, no spaces). A chunk whose hash is unchanged since the last index needs no new embedding;
 * the model and the dimensions are part of it because a vector from another model or size is not a
 * substitute. JSON keeps the three fields apart, so no choice of text can imitate another combination.
 *
 * @throws RangeError if `dimensions` is not a positive integer.
 */
export function contentHash(content: string, model: string, dimensions: number): string {
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  const canonical = JSON.stringify({ content, dimensions, model });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
