import { endianness } from 'node:os';
import { type DenseVector } from './embedder';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Decodes base64 embeddings (little-endian float32, as the embeddings API sends them) straight into
 * `Float32Array`s that share one buffer: no intermediate array of numbers, one allocation per response.
 * Returns `{ mismatch }` with the size found when an embedding does not hold `dimensions` floats.
 */
export function decodeBase64Vectors(encoded: readonly string[], dimensions: number): Float32Array[] | { mismatch: number } {
  const bytesPerVector = dimensions * Float32Array.BYTES_PER_ELEMENT;
  for (const text of encoded) {
    const bytes = Buffer.byteLength(text, 'base64');
    if (bytes !== bytesPerVector) return { mismatch: bytes / Float32Array.BYTES_PER_ELEMENT };
  }
  const slab = new Float32Array(encoded.length * dimensions);
  const target = Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength);
  const vectors: Float32Array[] = new Array<Float32Array>(encoded.length);
  for (let i = 0; i < encoded.length; i++) {
    target.write(encoded[i]!, i * bytesPerVector, bytesPerVector, 'base64');
    vectors[i] = slab.subarray(i * dimensions, (i + 1) * dimensions);
  }
  if (!LITTLE_ENDIAN_HOST) {
    const view = new DataView(slab.buffer);
    for (let i = 0; i < slab.length; i++) slab[i] = view.getFloat32(i * 4, true);
  }
  return vectors;
}

/** A vector as a plain array of numbers (a JSON body, a query), copying only when it is a `Float32Array`. */
export function toNumberArray(vector: DenseVector): number[] {
  return Array.isArray(vector) ? vector : Array.from(vector);
}
