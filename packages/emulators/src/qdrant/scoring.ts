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

/** A vector as the searches hold it: contiguous doubles, so the inner loop stays monomorphic and fast. */
export type PreparedVector = Float64Array;

/**
 * Prepares a vector for storage: float32 values, as Qdrant keeps them (so a vector sent as JSON doubles and
 * the same vector sent as protobuf floats are stored alike); Cosine collections keep unit vectors (rounded
 * to float32 again), so scoring is a dot product.
 */
export function prepareVector(distance: Distance, vector: readonly number[]): PreparedVector {
  // A plain loop: `Float64Array.from` with a mapping function goes through the iterator protocol and a call
  // per value, ten times slower on the vectors of every upsert.
  const out = new Float64Array(vector.length);
  let sum = 0;
  for (let i = 0; i < out.length; i++) {
    const value = Math.fround(vector[i]!);
    out[i] = value;
    sum += value * value;
  }
  if (distance !== 'Cosine') return out;
  if (sum === 0) return out;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! * scale);
  return out;
}

/** Prepares a query vector once per search: Cosine compares unit vectors. */
export function prepareQuery(distance: Distance, query: ArrayLike<number>): PreparedVector {
  return prepareVector(distance, Array.from(query));
}

/** Dot product of two vectors of one collection (same size, checked on write and on query), unrolled by 4. */
function dot(a: PreparedVector, b: PreparedVector): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * The exact score Qdrant reports between a stored vector (already prepared) and a query vector:
 * Cosine and Dot are similarities, Euclid and Manhattan are distances.
 */
export function score(distance: Distance, stored: ArrayLike<number>, query: ArrayLike<number>): number {
  return scorePrepared(distance, Float64Array.from(stored), prepareQuery(distance, query));
}

/** {@link score} with both vectors prepared: the inner loop of a search. */
export function scorePrepared(distance: Distance, stored: PreparedVector, query: PreparedVector): number {
  switch (distance) {
    case 'Cosine':
    case 'Dot':
      return dot(stored, query);
    case 'Euclid': {
      let s = 0;
      for (let i = 0; i < stored.length; i++) s += (stored[i]! - query[i]!) ** 2;
      return Math.sqrt(s);
    }
    case 'Manhattan': {
      let s = 0;
      for (let i = 0; i < stored.length; i++) s += Math.abs(stored[i]! - query[i]!);
      return s;
    }
  }
}

/** Whether a score passes a `score_threshold`: at least it for similarities, at most it for distances. */
export function passesThreshold(distance: Distance, value: number, threshold: number): boolean {
  return higherIsBetter(distance) ? value >= threshold : value <= threshold;
}

/**
 * A float32 value as Qdrant's REST API writes it: the shortest decimal that reads back as the same float32
 * (`0.15`, not the double `0.15000000596046448`). A shorter decimal that rounds to the value also shows at 6
 * significant digits (padded with zeros), so the search starts there.
 */
export function float32Json(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || Number.isInteger(f)) return f;
  for (let digits = 6; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}
