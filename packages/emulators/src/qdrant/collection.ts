import { type Payload, type Predicate } from './filter';
import { type PointId, comparePointIds, pointKey } from './point-id';
import { type Distance, higherIsBetter, passesThreshold, prepareQuery, prepareVector, scorePrepared } from './scoring';

/** The single unnamed dense vector of a collection. */
export interface VectorConfig {
  size: number;
  distance: Distance;
}

/** A payload index as Qdrant reports it in `payload_schema`. */
export interface PayloadIndex {
  dataType: string;
  params?: Record<string, unknown>;
}

/** A point as stored: the vector already normalised for Cosine collections. */
export interface StoredPoint {
  id: PointId;
  vector: number[];
  payload: Payload;
  /** Operation id of the write that last touched the point (Qdrant's `version`). */
  version: number;
}

/** A point to write, already validated. */
export interface PointInput {
  id: PointId;
  vector: number[];
  payload: Payload;
}

/** Options of a nearest-neighbour search. */
export interface SearchOptions {
  filter: Predicate;
  limit: number;
  offset: number;
  scoreThreshold?: number;
  /** Ids left out of the result (the query point itself when searching by id). */
  exclude?: ReadonlySet<string>;
}

/** One search hit. */
export interface ScoredStoredPoint {
  point: StoredPoint;
  score: number;
}

/**
 * One in-memory collection: points, payload indexes and the operation counter. Searches are exact
 * (brute force), so results are the ground truth an HNSW index approximates.
 */
export class Collection {
  private readonly points = new Map<string, StoredPoint>();
  private readonly indexes = new Map<string, PayloadIndex>();
  private lastOperationId = -1;

  constructor(
    readonly name: string,
    readonly vectors: VectorConfig,
  ) {}

  get size(): number {
    return this.points.size;
  }

  /** Writes whole points (a point written again loses its old payload); returns the operation id. */
  upsert(points: readonly PointInput[]): number {
    const op = this.nextOperationId();
    for (const p of points) {
      this.points.set(pointKey(p.id), {
        id: p.id,
        vector: prepareVector(this.vectors.distance, p.vector),
        payload: p.payload,
        version: op,
      });
    }
    return op;
  }

  /** Deletes points by id (unknown ids are ignored); returns the operation id. */
  deleteIds(ids: readonly PointId[]): number {
    const op = this.nextOperationId();
    for (const id of ids) this.points.delete(pointKey(id));
    return op;
  }

  /** Deletes the points a filter selects; returns the operation id. */
  deleteWhere(filter: Predicate): number {
    const op = this.nextOperationId();
    for (const [key, p] of this.points) if (filter(p)) this.points.delete(key);
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

  /** Points matching a filter in Qdrant's id order (integers, then UUIDs). */
  ordered(filter: Predicate): StoredPoint[] {
    return [...this.points.values()].filter((p) => filter(p)).sort((a, b) => comparePointIds(a.id, b.id));
  }

  count(filter: Predicate): number {
    let n = 0;
    for (const p of this.points.values()) if (filter(p)) n++;
    return n;
  }

  /** Exact nearest neighbours of `query`, best first; ties keep id order. */
  search(query: readonly number[], options: SearchOptions): ScoredStoredPoint[] {
    const { distance } = this.vectors;
    const sign = higherIsBetter(distance) ? -1 : 1;
    const order = (a: ScoredStoredPoint, b: ScoredStoredPoint) =>
      sign * (a.score - b.score) || comparePointIds(a.point.id, b.point.id);
    const keep = options.offset + options.limit;
    // Only the best `keep` hits are held, sorted: a search of many points sorts a few, not all of them.
    const best: ScoredStoredPoint[] = [];
    const prepared = prepareQuery(distance, query);
    for (const p of this.points.values()) {
      if (options.exclude?.has(pointKey(p.id)) || !options.filter(p)) continue;
      const s = scorePrepared(distance, p.vector, prepared);
      if (options.scoreThreshold !== undefined && !passesThreshold(distance, s, options.scoreThreshold)) continue;
      const hit = { point: p, score: s };
      const last = best[best.length - 1];
      if (best.length >= keep && last !== undefined && order(hit, last) >= 0) continue;
      let i = best.length;
      while (i > 0 && order(hit, best[i - 1]!) < 0) i--;
      best.splice(i, 0, hit);
      if (best.length > keep) best.pop();
    }
    return best.slice(options.offset);
  }

  /** Creates or replaces a payload index; returns the operation id. */
  createIndex(field: string, index: PayloadIndex): number {
    this.indexes.set(field, index);
    return this.nextOperationId();
  }

  /** Drops a payload index (a missing one is fine); returns the operation id. */
  deleteIndex(field: string): number {
    this.indexes.delete(field);
    return this.nextOperationId();
  }

  /** The payload indexes with the number of points that have a value for each field. */
  payloadSchema(): Record<string, { data_type: string; params?: Record<string, unknown>; points: number }> {
    const schema: Record<string, { data_type: string; params?: Record<string, unknown>; points: number }> = {};
    for (const [field, index] of this.indexes) {
      let points = 0;
      for (const p of this.points.values()) {
        const v = field.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Payload)[k] : undefined), p.payload);
        if (v !== undefined && v !== null) points++;
      }
      schema[field] = { data_type: index.dataType, ...(index.params ? { params: index.params } : {}), points };
    }
    return schema;
  }

  private nextOperationId(): number {
    this.lastOperationId += 1;
    return this.lastOperationId;
  }
}
