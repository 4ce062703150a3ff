/**
 * Deterministic "bag of words" vectors by feature hashing: every word of the text adds ±1 at a few
 * positions chosen by its hash, and the result is scaled to unit length. Texts that share words get a
 * high cosine similarity; unrelated texts land near zero. No model, no network: this is what the local
 * embedder and the OpenAI emulator return, so a fresh machine can run the whole pipeline.
 */

const SLOTS_PER_WORD = 4;

/** Splits text into lowercase words, also breaking snake_case and camelCase identifiers apart. */
export function words(text: string): string[] {
  const spaced = text.replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return spaced
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** 32-bit FNV-1a hash of a string, with a seed mixed in first. */
function fnv1a(value: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Crude singular form, so that "orders" and "order" meet. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/**
 * The unit-length hashing vector of `text` with `dimensions` entries.
 * The same text and size always give the same vector.
 */
export function hashingVector(text: string, dimensions: number): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  const vector = new Float64Array(dimensions);
  const tokens = words(text).map(stem);
  for (const token of tokens) {
    for (let slot = 0; slot < SLOTS_PER_WORD; slot++) {
      const h = fnv1a(token, slot);
      const index = h % dimensions;
      vector[index] = (vector[index] ?? 0) + ((h >>> 31) === 0 ? 1 : -1);
    }
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  if (norm === 0) {
    // Text without words (punctuation only) still gets a valid, deterministic unit vector.
    vector[fnv1a(text, 99) % dimensions] = 1;
    norm = 1;
  }
  const scale = 1 / Math.sqrt(norm);
  return Array.from(vector, (v) => v * scale);
}
