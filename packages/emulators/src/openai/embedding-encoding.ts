/**
 * Encodes a vector the way OpenAI does for `encoding_format: "base64"`: little-endian float32 bytes,
 * base64. The official SDK decodes exactly this, so any other layout silently corrupts vectors.
 */
export function encodeBase64Embedding(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString('base64');
}

/** Decodes a base64 embedding back into numbers (the inverse of {@link encodeBase64Embedding}). */
export function decodeBase64Embedding(encoded: string): number[] {
  const buffer = Buffer.from(encoded, 'base64');
  if (buffer.length % 4 !== 0) throw new RangeError(`base64 embedding has ${buffer.length} bytes, not a multiple of 4`);
  const out: number[] = [];
  for (let i = 0; i < buffer.length; i += 4) out.push(buffer.readFloatLE(i));
  return out;
}

/** Rounds every component to float32, the precision OpenAI serves in both encodings. */
export function toFloat32(vector: readonly number[]): number[] {
  return vector.map((v) => Math.fround(v));
}
