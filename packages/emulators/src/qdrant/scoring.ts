/** The distance functions of a Qdrant collection. */
export type Distance = 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';

export const DISTANCES: readonly Distance[] = ['Cosine', 'Euclid', 'Dot', 'Manhattan'];

/** True when a bigger score is better (similarities); false for distances, where smaller is better. */
export function higherIsBetter(distance: Distance): boolean {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return true;
    case 'Euclid':
    case 'Manhattan':
      return false;
  }
}

/** `vector` scaled to unit length; a zero vector stays as it is, as in Qdrant. */
export function normalize(vector: readonly number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  if (sum === 0) return [...vector];
  const scale = 1 / Math.sqrt(sum);
  return vector.map((v) => v * scale);
}

/** Prepares a vector for storage: Cosine collections keep unit vectors, so scoring is a dot product. */
export function prepareVector(distance: Distance, vector: readonly number[]): number[] {
  return distance === 'Cosine' ? normalize(vector) : [...vector];
}

/** Vectors of one collection all have its size (checked on write and on query). */
function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Prepares a query vector once per search: Cosine compares unit vectors. */
export function prepareQuery(distance: Distance, query: readonly number[]): readonly number[] {
  return distance === 'Cosine' ? normalize(query) : query;
}

/**
 * The exact score Qdrant reports between a stored vector (already prepared) and a query vector:
 * Cosine and Dot are similarities, Euclid and Manhattan are distances.
 */
export function score(distance: Distance, stored: readonly number[], query: readonly number[]): number {
  return scorePrepared(distance, stored, prepareQuery(distance, query));
}

/** {@link score} with a query already passed through {@link prepareQuery}: the inner loop of a search. */
export function scorePrepared(distance: Distance, stored: readonly number[], query: readonly number[]): number {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return dot(stored, query);
    case 'Euclid': {
      let s = 0;
      for (let i = 0; i < stored.length; i++) s += ((stored[i] ?? 0) - (query[i] ?? 0)) ** 2;
      return Math.sqrt(s);
    }
    case 'Manhattan': {
      let s = 0;
      for (let i = 0; i < stored.length; i++) s += Math.abs((stored[i] ?? 0) - (query[i] ?? 0));
      return s;
    }
  }
}

/** Whether a score passes a `score_threshold`: at least it for similarities, at most it for distances. */
export function passesThreshold(distance: Distance, value: number, threshold: number): boolean {
  return higherIsBetter(distance) ? value >= threshold : value <= threshold;
}
