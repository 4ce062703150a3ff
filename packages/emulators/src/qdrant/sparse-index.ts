import { type SparseVector } from './vectors';

/**
 * The inverted index of one sparse vector name: for each dimension, the points that have it and their
 * value. A sparse search visits only the postings of the query's dimensions, and the posting sizes are the
 * document frequencies that the `idf` modifier needs.
 */
export class SparseIndex {
  private readonly postings = new Map<number, Map<string, number>>();
  private vectors = 0;

  /** Number of points that have this sparse vector (Qdrant's N for IDF). */
  get size(): number {
    return this.vectors;
  }

  add(key: string, vector: SparseVector): void {
    this.vectors++;
    for (let i = 0; i < vector.indices.length; i++) {
      const dim = vector.indices[i]!;
      let posting = this.postings.get(dim);
      if (!posting) {
        posting = new Map();
        this.postings.set(dim, posting);
      }
      posting.set(key, vector.values[i]!);
    }
  }

  remove(key: string, vector: SparseVector): void {
    this.vectors--;
    for (const dim of vector.indices) {
      const posting = this.postings.get(dim);
      if (!posting) continue;
      posting.delete(key);
      if (posting.size === 0) this.postings.delete(dim);
    }
  }

  /** Number of points whose vector has dimension `dim`. */
  documentFrequency(dim: number): number {
    return this.postings.get(dim)?.size ?? 0;
  }

  /** Total postings a search for `query` would visit. */
  cost(query: SparseVector): number {
    let n = 0;
    for (const dim of query.indices) n += this.postings.get(dim)?.size ?? 0;
    return n;
  }

  /** Dot products of `query` with every point sharing at least one dimension with it. */
  scores(query: SparseVector): Map<string, number> {
    const out = new Map<string, number>();
    for (let i = 0; i < query.indices.length; i++) {
      const posting = this.postings.get(query.indices[i]!);
      if (!posting) continue;
      const weight = query.values[i]!;
      for (const [key, value] of posting) out.set(key, (out.get(key) ?? 0) + weight * value);
    }
    return out;
  }
}
