import { analysedRuns } from './text-analyzer';

/** A sparse vector as Qdrant takes it: unique `indices` (uint32) with their `values`. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

/**
 * BM25's term-frequency part. The collection declares the sparse vector with `modifier: "idf"`, so Qdrant
 * supplies the other part, each term's rarity over the collection, at query time.
 */
export const BM25 = {
  /** How fast repeats of a term stop adding weight. */
  k1: 1.2,
  /** How much a long chunk's terms are discounted. */
  b: 0.75,
  /**
   * The chunk length (in terms) that is neither long nor short. Fixed rather than averaged over the
   * collection, so that a chunk's vector depends on its own text only and unchanged chunks never need
   * rewriting; it is near the median length of table, column and relationship chunks.
   */
  averageLength: 24,
} as const;

/** 32-bit FNV-1a hash: the index of a term in the sparse vector. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    hash ^= term.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The sparse vector of `text`'s terms, each distinct term index weighed by `weightFor(length)(tf)`: the
 * factory is called once per text with its count of terms, the weight once per term with its count. Two terms
 * whose hashes collide share one entry. The indices go into one typed array and are sorted (numerically, with
 * no comparator call per pair): equal indices are then neighbours, and each run of them is one term with its
 * frequency. No map and no flat list of the terms.
 */
function sparseVector(text: string, vocabulary: ReadonlySet<string> | undefined, weightFor: (length: number) => (tf: number) => number): SparseVector {
  const runs = analysedRuns(text, vocabulary);
  let length = 0;
  for (const analysed of runs) length += analysed.length;
  const all = new Uint32Array(length);
  let n = 0;
  for (const analysed of runs) for (const term of analysed) all[n++] = termIndex(term);
  all.sort();
  const weight = weightFor(length);
  const indices: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < length; ) {
    const index = all[i]!;
    let tf = 1;
    while (i + tf < length && all[i + tf] === index) tf++;
    indices.push(index);
    values.push(weight(tf));
    i += tf;
  }
  return { indices, values };
}

/**
 * The sparse vector of a chunk's text: per term, `tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / averageLength))`
 * (BM25 without its IDF, which Qdrant adds). `vocabulary` enables compound splitting (see `analyzeText`).
 */
export function documentSparseVector(text: string, vocabulary?: ReadonlySet<string>): SparseVector {
  const { k1, b, averageLength } = BM25;
  return sparseVector(text, vocabulary, (length) => {
    const norm = k1 * (1 - b + (b * length) / averageLength);
    return (tf) => (tf * (k1 + 1)) / (tf + norm);
  });
}

/** The sparse vector of a question: weight 1 per distinct term (BM25 counts a query term once). */
export function querySparseVector(text: string, vocabulary?: ReadonlySet<string>): SparseVector {
  return sparseVector(text, vocabulary, () => () => 1);
}
