import { type Payload, type Predicate, compileFilter, rawValuesAt } from './filter';
import { type PointId, comparePointIds, pointKey } from './point-id';
import { QdrantError } from './qdrant-error';
import { type PreparedVector, higherIsBetter, passesThreshold, prepareQuery, prepareVector, scorePrepared } from './scoring';
import { SparseIndex } from './sparse-index';
import { ValueIndex } from './value-index';
import { TopHits } from './top-hits';
import { type PointVectors, type SparseVector, type VectorLayout, sparseDot, sparseOverlaps } from './vectors';

/** A payload index as Qdrant reports it in `payload_schema`. */
export interface PayloadIndex {
  dataType: string;
  params?: Record<string, unknown>;
}

/** The vectors of a stored point: dense ones prepared for scoring, sparse ones sorted. */
export interface StoredVectors {
  dense: Map<string, PreparedVector>;
  sparse: Map<string, SparseVector>;
}

/** A point as stored: dense vectors already normalised for Cosine, sparse vectors sorted. */
export interface StoredPoint {
  id: PointId;
  key: string;
  vectors: StoredVectors;
  payload: Payload;
  /** Operation id of the write that last touched the point (Qdrant's `version`). */
  version: number;
}

/** A point to write, already validated. */
export interface PointInput {
  id: PointId;
  vectors: PointVectors;
  payload: Payload;
}

/** Options of a nearest-neighbour search. */
export interface SearchOptions {
  /** A raw Qdrant filter (compiled here, and used to pick candidates from payload indexes). */
  filter: unknown;
  /** How many hits to keep (callers add their offset). */
  limit: number;
  scoreThreshold?: number;
  /** Ids left out of the result (the query point itself when searching by id). */
  exclude?: ReadonlySet<string>;
}

/** One search hit. */
export interface ScoredStoredPoint {
  point: StoredPoint;
  score: number;
}

const ACCEPT_ALL: Predicate = () => true;

/** Payload index types whose values a {@link ValueIndex} can hold. */
const VALUE_INDEX_TYPES = new Set(['keyword', 'integer', 'uuid', 'bool']);

/** Collection-level settings kept to report them back (`config`), validated by the caller. */
export type CollectionSettings = Record<string, Record<string, unknown>>;

/**
 * One in-memory collection: points, payload indexes and the operation counter. Dense searches are exact
 * (brute force over the candidates a filter leaves), sparse searches walk an inverted index, so results are
 * the ground truth Qdrant's indexes approximate.
 */
export class Collection {
  private readonly points = new Map<string, StoredPoint>();
  private readonly indexes = new Map<string, PayloadIndex>();
  private readonly valueIndexes = new Map<string, ValueIndex>();
  private readonly sparseIndexes = new Map<string, SparseIndex>();
  private lastOperationId = -1;
  private sortedIds: { id: PointId }[] | undefined;

  constructor(
    readonly name: string,
    readonly layout: VectorLayout,
    readonly settings: CollectionSettings,
  ) {
    for (const sparseName of layout.sparse.keys()) this.sparseIndexes.set(sparseName, new SparseIndex());
  }

  get size(): number {
    return this.points.size;
  }

  /** Writes whole points (a point written again loses its old vectors and payload); returns the operation id. */
  upsert(points: readonly PointInput[]): number {
    const op = this.nextOperationId();
    for (const p of points) {
      const key = pointKey(p.id);
      const dense = new Map<string, PreparedVector>();
      for (const [name, v] of p.vectors.dense) dense.set(name, prepareVector(this.layout.dense.get(name)!.distance, v));
      this.store({ id: p.id, key, vectors: { dense, sparse: p.vectors.sparse }, payload: p.payload, version: op });
    }
    return op;
  }

  /**
   * Sets the given vectors of existing points, keeping their other vectors and payload; every id must
   * exist (checked before anything changes). Returns the operation id.
   */
  updateVectors(updates: readonly { id: PointId; vectors: PointVectors }[]): number {
    const missing = updates.find((u) => !this.points.has(pointKey(u.id)));
    if (missing) throw QdrantError.pointNotFound(missing.id);
    const op = this.nextOperationId();
    for (const u of updates) {
      const old = this.points.get(pointKey(u.id))!;
      const dense = new Map(old.vectors.dense);
      for (const [name, v] of u.vectors.dense) dense.set(name, prepareVector(this.layout.dense.get(name)!.distance, v));
      const sparse = new Map([...old.vectors.sparse, ...u.vectors.sparse]);
      this.store({ ...old, vectors: { dense, sparse }, version: op });
    }
    return op;
  }

  /** Removes the named vectors from the given points; returns the operation id. */
  deleteVectors(targets: readonly StoredPoint[], names: readonly string[]): number {
    const op = this.nextOperationId();
    for (const p of targets) {
      const dense = new Map(p.vectors.dense);
      const sparse = new Map(p.vectors.sparse);
      for (const name of names) {
        dense.delete(name);
        sparse.delete(name);
      }
      this.store({ ...p, vectors: { dense, sparse }, version: op });
    }
    return op;
  }

  /** Replaces the payload of each given point with `change(old payload)`; returns the operation id. */
  updatePayloads(targets: readonly StoredPoint[], change: (payload: Payload) => Payload): number {
    const op = this.nextOperationId();
    for (const p of targets) this.store({ ...p, payload: change(p.payload), version: op });
    return op;
  }

  /** Deletes points by id (unknown ids are ignored); returns the operation id. */
  deleteIds(ids: readonly PointId[]): number {
    const op = this.nextOperationId();
    for (const id of ids) this.unstore(pointKey(id));
    return op;
  }

  /** Deletes the points a filter selects; returns the operation id. */
  deleteWhere(filter: unknown): number {
    const op = this.nextOperationId();
    for (const p of this.select(filter)) this.unstore(p.key);
    return op;
  }

  get(id: PointId): StoredPoint | undefined {
    return this.points.get(pointKey(id));
  }

  /** The points with these ids, in request order, each once, missing ones skipped. */
  retrieve(ids: readonly PointId[]): StoredPoint[] {
    const seen = new Set<string>();
    const out: StoredPoint[] = [];
    for (const id of ids) {
      const key = pointKey(id);
      const p = this.points.get(key);
      if (p && !seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
    return out;
  }

  /** Points matching a raw filter, in no particular order. */
  select(filter: unknown): StoredPoint[] {
    const { points, test } = this.plan(filter);
    const out: StoredPoint[] = [];
    for (const p of points) if (test(p)) out.push(p);
    return out;
  }

  /**
   * One page of the points matching a raw filter in Qdrant's id order (integers, then UUIDs), starting at
   * the first id at or after `offset`, with the point that starts the next page. Walks a cached id order,
   * or sorts only the candidates when a payload index narrows the filter.
   */
  page(filter: unknown, offset: PointId | undefined, limit: number): { points: StoredPoint[]; next?: StoredPoint } {
    const { points, test, narrowed } = this.plan(filter);
    const ordered: readonly { id: PointId }[] = narrowed ? [...points].sort((a, b) => comparePointIds(a.id, b.id)) : this.idOrder();
    const at = (i: number): StoredPoint => {
      const entry = ordered[i]!;
      return 'key' in entry ? (entry as StoredPoint) : this.points.get(pointKey(entry.id))!;
    };
    let i = offset === undefined ? 0 : firstAtOrAfter(ordered, offset);
    const found: StoredPoint[] = [];
    for (; i < ordered.length && found.length <= limit; i++) {
      const p = at(i);
      if (test(p)) found.push(p);
    }
    return { points: found.slice(0, limit), ...(found.length > limit ? { next: found[limit] } : {}) };
  }

  count(filter: unknown): number {
    return this.select(filter).length;
  }

  /** Exact nearest neighbours by the dense vector `name`, best first; points without it are skipped. */
  searchDense(name: string, query: readonly number[], options: SearchOptions): ScoredStoredPoint[] {
    const distance = this.layout.dense.get(name)!.distance;
    const prepared = prepareQuery(distance, query);
    const { points, test } = this.plan(options.filter);
    const best = new TopHits<StoredPoint>(options.limit, higherIsBetter(distance));
    for (const p of points) {
      const stored = p.vectors.dense.get(name);
      if (!stored || options.exclude?.has(p.key) || !test(p)) continue;
      const s = scorePrepared(distance, stored, prepared);
      if (options.scoreThreshold !== undefined && !passesThreshold(distance, s, options.scoreThreshold)) continue;
      best.offer(p, s);
    }
    return best.sorted();
  }

  /**
   * Sparse search by `name`: dot products with the points sharing a dimension with the query (after the
   * IDF modifier, when the vector has it). Walks the inverted index, or scores the filter's candidates
   * directly when a payload index makes them fewer than the postings.
   */
  searchSparse(name: string, rawQuery: SparseVector, options: SearchOptions): ScoredStoredPoint[] {
    const index = this.sparseIndexes.get(name)!;
    const query = this.modifySparseQuery(name, rawQuery);
    const narrowed = this.indexedCandidates(options.filter);
    const useNarrowed = narrowed !== undefined && narrowed.size < index.cost(query);
    const test = useNarrowed && this.isSingleIndexedCondition(options.filter) ? ACCEPT_ALL : compileFilter(options.filter);
    const best = new TopHits<StoredPoint>(options.limit, true);
    const consider = (p: StoredPoint, s: number): void => {
      if (options.exclude?.has(p.key) || !test(p)) return;
      if (options.scoreThreshold !== undefined && s < options.scoreThreshold) return;
      best.offer(p, s);
    };
    if (useNarrowed) {
      for (const key of narrowed) {
        const p = this.points.get(key);
        const stored = p?.vectors.sparse.get(name);
        if (!p || !stored || !sparseOverlaps(stored, query)) continue;
        consider(p, sparseDot(stored, query));
      }
    } else {
      for (const [key, s] of index.scores(query)) consider(this.points.get(key)!, s);
    }
    return best.sorted();
  }

  /** The score of one point against a query vector, undefined when the point lacks that vector. */
  scorePoint(p: StoredPoint, name: string, query: readonly number[] | SparseVector): number | undefined {
    if (Array.isArray(query)) {
      const stored = p.vectors.dense.get(name);
      const distance = this.layout.dense.get(name)?.distance;
      if (!stored || !distance) return undefined;
      return scorePrepared(distance, stored, prepareQuery(distance, query));
    }
    const stored = p.vectors.sparse.get(name);
    if (!stored) return undefined;
    const sparse = this.modifySparseQuery(name, query as SparseVector);
    return sparseOverlaps(stored, sparse) ? sparseDot(stored, sparse) : undefined;
  }

  /** Whether bigger scores are better for a vector name (false for Euclid and Manhattan). */
  higherIsBetter(name: string): boolean {
    const dense = this.layout.dense.get(name);
    return dense ? higherIsBetter(dense.distance) : true;
  }

  /** Creates or replaces a payload index; returns the operation id. */
  createIndex(field: string, index: PayloadIndex): number {
    this.indexes.set(field, index);
    this.valueIndexes.delete(field);
    if (VALUE_INDEX_TYPES.has(index.dataType)) {
      const values = new ValueIndex(field);
      for (const p of this.points.values()) values.add(p.key, p.payload);
      this.valueIndexes.set(field, values);
    }
    return this.nextOperationId();
  }

  /** Drops a payload index (a missing one is fine); returns the operation id. */
  deleteIndex(field: string): number {
    this.indexes.delete(field);
    this.valueIndexes.delete(field);
    return this.nextOperationId();
  }

  /** The payload index of a field, if any. */
  indexOf(field: string): PayloadIndex | undefined {
    return this.indexes.get(field);
  }

  /** The payload indexes with the number of points that have a value for each field. */
  payloadSchema(): Record<string, { data_type: string; params?: Record<string, unknown>; points: number }> {
    const schema: Record<string, { data_type: string; params?: Record<string, unknown>; points: number }> = {};
    for (const [field, index] of this.indexes) {
      let points = 0;
      for (const p of this.points.values()) {
        const values = rawValuesAt(p.payload, field).flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]));
        if (values.some((v) => v !== null && v !== undefined)) points++;
      }
      schema[field] = { data_type: index.dataType, ...(index.params ? { params: index.params } : {}), points };
    }
    return schema;
  }

  /** Number of points that have the named vector. */
  vectorCount(name: string): number {
    const sparse = this.sparseIndexes.get(name);
    if (sparse) return sparse.size;
    let n = 0;
    for (const p of this.points.values()) if (p.vectors.dense.has(name)) n++;
    return n;
  }

  /** Applies the sparse vector's modifier to a query: with `idf`, each weight times Qdrant's IDF. */
  private modifySparseQuery(name: string, query: SparseVector): SparseVector {
    const config = this.layout.sparse.get(name);
    const index = this.sparseIndexes.get(name);
    if (!config || !index || config.modifier !== 'idf') return query;
    const n = index.size;
    return {
      indices: query.indices,
      values: query.values.map((v, i) => {
        const df = index.documentFrequency(query.indices[i]!);
        return v * Math.log((n - df + 0.5) / (df + 0.5) + 1);
      }),
    };
  }

  /**
   * How to evaluate a filter: the points it can match (an indexed value posting list when `must` allows
   * it, else all) and the test left to apply to them (none when the posting list is the whole filter).
   */
  private plan(filter: unknown): { points: Iterable<StoredPoint>; test: Predicate; narrowed: boolean } {
    const test = compileFilter(filter);
    const keys = this.indexedCandidates(filter);
    if (keys === undefined) return { points: this.points.values(), test, narrowed: false };
    const points: StoredPoint[] = [];
    for (const k of keys) {
      const p = this.points.get(k);
      if (p) points.push(p);
    }
    return { points, test: this.isSingleIndexedCondition(filter) ? ACCEPT_ALL : test, narrowed: true };
  }

  /** True for `{must: C}` / `{must: [C]}` (possibly nested) where C matches an indexed field by value. */
  private isSingleIndexedCondition(filter: unknown): boolean {
    if (typeof filter !== 'object' || filter === null) return false;
    const { must, ...others } = filter as { must?: unknown };
    if (Object.values(others).some((v) => v !== undefined && v !== null)) return false;
    const list = Array.isArray(must) ? must : [must];
    if (list.length !== 1) return false;
    const c = list[0] as { key?: unknown; must?: unknown } | null | undefined;
    if (typeof c !== 'object' || c === null) return false;
    if (typeof c.key !== 'string') return this.isSingleIndexedCondition(c);
    const keys = Object.keys(c).filter((k) => (c as Record<string, unknown>)[k] !== undefined && (c as Record<string, unknown>)[k] !== null);
    return keys.length === 2 && keys.includes('match') && this.conditionCandidates(c) !== undefined;
  }

  /**
   * The smallest posting list among the `must` conditions that match an indexed field by value (`value`
   * or `any`), looking into nested filters of `must`; undefined when no such condition exists.
   */
  private indexedCandidates(filter: unknown): Set<string> | undefined {
    if (this.valueIndexes.size === 0 || typeof filter !== 'object' || filter === null) return undefined;
    const must = (filter as { must?: unknown }).must;
    if (must === undefined || must === null) return undefined;
    let best: Set<string> | undefined;
    for (const condition of Array.isArray(must) ? must : [must]) {
      const found = this.conditionCandidates(condition);
      if (found !== undefined && (best === undefined || found.size < best.size)) best = found;
    }
    return best;
  }

  private conditionCandidates(condition: unknown): Set<string> | undefined {
    if (typeof condition !== 'object' || condition === null) return undefined;
    const c = condition as { key?: unknown; match?: unknown; must?: unknown };
    if (typeof c.key !== 'string') return c.must === undefined ? undefined : this.indexedCandidates(condition);
    const index = this.valueIndexes.get(c.key);
    const match = c.match as { value?: unknown; any?: unknown } | undefined | null;
    if (!index || typeof match !== 'object' || match === null) return undefined;
    if ('value' in match) return index.lookup([match.value]);
    if (Array.isArray(match.any)) return index.lookup(match.any);
    return undefined;
  }

  /** The ids of all points in id order, cached until a point is added or deleted. */
  private idOrder(): readonly { id: PointId }[] {
    this.sortedIds ??= [...this.points.values()].map((p) => ({ id: p.id })).sort((a, b) => comparePointIds(a.id, b.id));
    return this.sortedIds;
  }

  private store(p: StoredPoint): void {
    if (!this.points.has(p.key)) this.sortedIds = undefined;
    this.unstore(p.key, false);
    this.points.set(p.key, p);
    for (const values of this.valueIndexes.values()) values.add(p.key, p.payload);
    for (const [name, v] of p.vectors.sparse) this.sparseIndexes.get(name)?.add(p.key, v);
  }

  private unstore(key: string, deleting = true): void {
    const old = this.points.get(key);
    if (!old) return;
    this.points.delete(key);
    if (deleting) this.sortedIds = undefined;
    for (const values of this.valueIndexes.values()) values.remove(key, old.payload);
    for (const [name, v] of old.vectors.sparse) this.sparseIndexes.get(name)?.remove(key, v);
  }

  private nextOperationId(): number {
    this.lastOperationId += 1;
    return this.lastOperationId;
  }
}

/** Index of the first point whose id is at or after `offset` in Qdrant's id order (binary search). */
function firstAtOrAfter(ordered: readonly { id: PointId }[], offset: PointId): number {
  let lo = 0;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (comparePointIds(ordered[mid]!.id, offset) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
