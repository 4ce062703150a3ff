import { type Collection, type StoredPoint } from './collection';
import { compileFilter } from './filter';
import { compileFormula } from './formula';
import { DEFAULT_RRF_K, distributionBasedScoreFusion, reciprocalRankFusion } from './fusion';
import { comparePointIds, describeJson, parsePointId, pointKey } from './point-id';
import { QdrantError } from './qdrant-error';
import { optionalNumber, optionalUint } from './request-body';
import { type Hit } from './top-hits';
import { type SparseVector, UNNAMED, looksSparse, parseSparse, sparseDot } from './vectors';

type ScoredHit = Hit<StoredPoint>;
type Body = Record<string, unknown>;
type QueryVector = number[] | SparseVector;

/** A parsed `query` of a Query API request or prefetch. */
type Query =
  | { kind: 'nearest'; vector: QueryVector; exclude?: Set<string>; mmr?: { diversity: number; candidates?: number } }
  | { kind: 'rrf'; k: number; weights?: number[] }
  | { kind: 'dbsf' }
  | { kind: 'formula'; formula: unknown; defaults: unknown }
  | { kind: 'sample' }
  | { kind: 'order_by'; key: string; direction: 'asc' | 'desc' };

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const present = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Runs Qdrant's universal Query API over one collection: nearest search by a dense or sparse vector
 * (`using`), by point id or by recommendation, listing by id, random samples, `order_by`, and nested
 * `prefetch` stages whose results the outer query rescores (nearest, formula) or fuses (`rrf`, weighted
 * `{rrf: {k, weights}}`, `dbsf`). A stage's filter is combined with the filters of the stages around it, as
 * Qdrant propagates the root filter into every prefetch.
 */
export class QueryEngine {
  constructor(private readonly collection: Collection) {}

  /** Answers one `QueryRequest`: the hits after `offset`, best first. */
  run(body: Body): ScoredHit[] {
    const limit = optionalUint(body, 'limit', 10, 1, 'internal.limit');
    const offset = optionalUint(body, 'offset', 0, 0);
    for (const unsupported of ['lookup_from', 'shard_key', 'group_by']) {
      if (present(body[unsupported])) throw QdrantError.unsupported(`Query with ${unsupported}`);
    }
    if (!present(body.query) && present(body.score_threshold)) {
      throw new QdrantError(400, "Bad request: A query is needed to use the score_threshold. Can't have score_threshold without defining a query.");
    }
    return this.stage(body, undefined, limit + offset).slice(offset);
  }

  private stage(s: Body, outerFilter: unknown, limit: number): ScoredHit[] {
    const filter = mergeFilters(outerFilter, s.filter);
    compileFilter(filter);
    const using = typeof s.using === 'string' ? s.using : UNNAMED;
    const threshold = optionalNumber(s, 'score_threshold');
    const prefetches = !present(s.prefetch) ? [] : Array.isArray(s.prefetch) ? (s.prefetch as unknown[]) : [s.prefetch];
    const query = this.parseQuery(s.query, using);
    if (present(s.lookup_from)) throw QdrantError.unsupported('Query with lookup_from');
    if (prefetches.length > 0 && query === undefined) {
      throw new QdrantError(400, "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query.");
    }
    if (query?.kind === 'order_by' && threshold !== undefined) {
      throw new QdrantError(400, "Bad request: Can't use score_threshold with an order_by query.");
    }
    if (prefetches.length === 0) return this.leaf(query, using, filter, limit, threshold);

    const sources = prefetches.map((raw, i) => {
      if (!isObject(raw)) throw QdrantError.format(`prefetch[${i}]: invalid type: ${describeJson(raw)}, expected struct Prefetch`);
      return this.stage(raw, filter, optionalUint(raw, 'limit', 10, 1, `prefetch[${i}].limit`));
    });
    let hits: ScoredHit[];
    let higherBetter = true;
    switch (query!.kind) {
      case 'rrf':
        hits = reciprocalRankFusion(sources, query!.k, query!.weights);
        break;
      case 'dbsf':
        hits = distributionBasedScoreFusion(sources, sources.map((src) => inferHigherBetter(src)));
        break;
      case 'formula': {
        const expression = compileFormula(query!.formula, query!.defaults);
        const byKey = sources.map((src) => new Map(src.map((h) => [h.point.key, h.score])));
        hits = uniquePoints(sources).map((p) => ({
          point: p,
          score: expression({ target: p, scores: byKey.map((m) => m.get(p.key)) }),
        }));
        break;
      }
      case 'nearest': {
        higherBetter = this.collection.higherIsBetter(using);
        hits = [];
        for (const p of uniquePoints(sources)) {
          if (query!.exclude?.has(p.key)) continue;
          const score = this.collection.scorePoint(p, using, query!.vector);
          if (score !== undefined) hits.push({ point: p, score });
        }
        break;
      }
      case 'sample':
        hits = shuffle(uniquePoints(sources).map((p) => ({ point: p, score: 0 })));
        return hits.slice(0, limit);
      case 'order_by':
        hits = orderBy(uniquePoints(sources), query!.key, query!.direction);
        return hits.slice(0, limit);
    }
    if (threshold !== undefined) hits = hits.filter((h) => (higherBetter ? h.score >= threshold : h.score <= threshold));
    const sign = higherBetter ? -1 : 1;
    hits.sort((a, b) => sign * (a.score - b.score) || comparePointIds(a.point.id, b.point.id));
    return hits.slice(0, limit);
  }

  /** A stage without prefetches: searches or lists the whole collection. */
  private leaf(query: Query | undefined, using: string, filter: unknown, limit: number, threshold: number | undefined): ScoredHit[] {
    const c = this.collection;
    if (query === undefined) return c.page(filter, undefined, limit).points.map((p) => ({ point: p, score: 0 }));
    switch (query.kind) {
      case 'nearest': {
        const candidates = query.mmr ? (query.mmr.candidates ?? limit) : limit;
        const options = { filter, limit: candidates, scoreThreshold: threshold, exclude: query.exclude };
        const hits = Array.isArray(query.vector)
          ? c.searchDense(using, query.vector, options)
          : c.searchSparse(using, query.vector, options);
        return query.mmr ? maximalMarginalRelevance(hits, using, query.mmr.diversity, limit) : hits;
      }
      case 'sample':
        return shuffle(c.select(filter).map((p) => ({ point: p, score: 0 }))).slice(0, limit);
      case 'order_by':
        return orderBy(c.select(filter), query.key, query.direction).slice(0, limit);
      case 'rrf':
      case 'dbsf':
      case 'formula':
        throw new QdrantError(400, `Bad request: A ${query.kind} query needs prefetches to work on.`);
    }
  }

  private parseQuery(raw: unknown, using: string): Query | undefined {
    if (!present(raw)) return undefined;
    if (isObject(raw) && !looksSparse(raw)) {
      if ('nearest' in raw) {
        const nearest = this.nearest(raw.nearest, using);
        if (present(raw.mmr)) {
          const mmr = isObject(raw.mmr) ? raw.mmr : {};
          const diversity = optionalNumber(mmr, 'diversity') ?? 0.5;
          if (diversity < 0 || diversity > 1) throw QdrantError.validation('mmr.diversity', 'value must be between 0 and 1');
          const candidates = present(mmr.candidates_limit) ? optionalUint(mmr, 'candidates_limit', 0, 0) : undefined;
          return { ...nearest, mmr: { diversity, ...(candidates !== undefined ? { candidates } : {}) } };
        }
        return nearest;
      }
      if ('fusion' in raw) {
        if (raw.fusion === 'rrf') return { kind: 'rrf', k: DEFAULT_RRF_K };
        if (raw.fusion === 'dbsf') return { kind: 'dbsf' };
        throw QdrantError.format(`unknown variant \`${String(raw.fusion)}\`, expected \`rrf\` or \`dbsf\``);
      }
      if ('rrf' in raw) {
        const rrf = isObject(raw.rrf) ? raw.rrf : {};
        const k = optionalUint(rrf, 'k', DEFAULT_RRF_K, 1, 'rrf.k');
        let weights: number[] | undefined;
        if (present(rrf.weights)) {
          if (!Array.isArray(rrf.weights) || !rrf.weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
            throw QdrantError.format('rrf.weights: expected a list of numbers');
          }
          weights = rrf.weights as number[];
        }
        return { kind: 'rrf', k, ...(weights ? { weights } : {}) };
      }
      if ('formula' in raw) return { kind: 'formula', formula: raw.formula, defaults: raw.defaults };
      if ('sample' in raw) {
        if (raw.sample !== 'random') throw QdrantError.format(`unknown variant \`${String(raw.sample)}\`, expected \`random\``);
        return { kind: 'sample' };
      }
      if ('order_by' in raw) return orderByQuery(raw.order_by);
      if ('recommend' in raw) return this.recommend(raw.recommend, using);
      const kind = Object.keys(raw)[0] ?? 'empty';
      throw QdrantError.unsupported(`The ${kind} query`);
    }
    return this.nearest(raw, using);
  }

  /** A nearest query: a dense vector, a sparse vector or a point id (whose own vector is used). */
  private nearest(raw: unknown, using: string): Extract<Query, { kind: 'nearest' }> {
    const c = this.collection;
    const dense = c.layout.dense.get(using);
    const sparse = c.layout.sparse.get(using);
    if (!dense && !sparse) throw QdrantError.wrongInput(`Not existing vector name error: ${using}`);
    if (typeof raw === 'number' || typeof raw === 'string') {
      const id = parsePointId(raw);
      const point = c.get(id);
      if (!point) throw QdrantError.pointNotFound(id);
      const stored = dense ? point.vectors.dense.get(using) : point.vectors.sparse.get(using);
      const vector = stored instanceof Float64Array ? Array.from(stored) : stored;
      if (!vector) throw QdrantError.wrongInput(`Vector ${using === UNNAMED ? 'default' : using} of point ${id} is missing`);
      return { kind: 'nearest', vector, exclude: new Set([pointKey(id)]) };
    }
    if (Array.isArray(raw)) {
      if (raw.some((v) => Array.isArray(v))) throw QdrantError.unsupported('Multivector queries');
      if (!raw.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw QdrantError.format('data did not match any variant of untagged enum QueryInterface');
      }
      if (!dense) throw QdrantError.wrongInput('Conversion between sparse and regular vectors failed');
      if (raw.length !== dense.size) throw QdrantError.dimension(dense.size, raw.length);
      return { kind: 'nearest', vector: raw as number[] };
    }
    if (looksSparse(raw)) {
      if (!sparse) throw QdrantError.wrongInput('Conversion between sparse and regular vectors failed');
      return { kind: 'nearest', vector: parseSparse(raw, 'query') };
    }
    throw QdrantError.format('data did not match any variant of untagged enum QueryInterface');
  }

  /** Qdrant's `average_vector` recommendation: avg(positive) + (avg(positive) − avg(negative)). */
  private recommend(raw: unknown, using: string): Query {
    if (!isObject(raw)) throw QdrantError.format('recommend: expected struct RecommendInput');
    const strategy = raw.strategy ?? 'average_vector';
    if (strategy !== 'average_vector') throw QdrantError.unsupported(`The ${describeJson(strategy)} recommend strategy`);
    const exclude = new Set<string>();
    const examples = (list: unknown): number[][] => {
      if (!present(list)) return [];
      if (!Array.isArray(list)) throw QdrantError.format('recommend examples must be a list');
      return list.map((example) => {
        const q = this.nearest(example, using);
        if (!Array.isArray(q.vector)) throw QdrantError.unsupported('Sparse recommendation');
        for (const k of q.exclude ?? []) exclude.add(k);
        return q.vector;
      });
    };
    const positive = examples(raw.positive);
    const negative = examples(raw.negative);
    if (positive.length === 0) throw QdrantError.wrongInput('At least one positive example is required');
    const avgPositive = average(positive);
    const vector = negative.length === 0 ? avgPositive : avgPositive.map((v, i) => v + v - average(negative)[i]!);
    return { kind: 'nearest', vector, exclude };
  }
}

function mergeFilters(outer: unknown, inner: unknown): unknown {
  if (!present(outer)) return present(inner) ? inner : undefined;
  if (!present(inner)) return outer;
  return { must: [outer, inner] };
}

function uniquePoints(sources: readonly (readonly ScoredHit[])[]): StoredPoint[] {
  const seen = new Map<string, StoredPoint>();
  for (const src of sources) for (const h of src) if (!seen.has(h.point.key)) seen.set(h.point.key, h.point);
  return [...seen.values()];
}

/** Qdrant orders every source best first: a first score below the last means smaller is better. */
function inferHigherBetter(hits: readonly ScoredHit[]): boolean {
  const first = hits[0];
  const last = hits[hits.length - 1];
  return !(first && last && first.score < last.score);
}

function average(vectors: readonly number[][]): number[] {
  const out = new Array<number>(vectors[0]!.length).fill(0);
  for (const v of vectors) v.forEach((x, i) => (out[i]! += x / vectors.length));
  return out;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function orderByQuery(raw: unknown): Query {
  if (typeof raw === 'string') return { kind: 'order_by', key: raw, direction: 'asc' };
  if (!isObject(raw) || typeof raw.key !== 'string') throw QdrantError.format('order_by: missing field `key`');
  if (present(raw.start_from)) throw QdrantError.unsupported('order_by with start_from');
  const direction = raw.direction ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') throw QdrantError.format(`unknown variant ${describeJson(direction)}, expected \`asc\` or \`desc\``);
  return { kind: 'order_by', key: raw.key, direction };
}

/** Points having a number at `key`, ordered by it (each point once, by its smallest or largest value). */
function orderBy(points: readonly StoredPoint[], key: string, direction: 'asc' | 'desc'): ScoredHit[] {
  const hits: ScoredHit[] = [];
  for (const p of points) {
    const raw = key.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), p.payload);
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
    if (values.length === 0) continue;
    hits.push({ point: p, score: direction === 'asc' ? Math.min(...values) : Math.max(...values) });
  }
  const sign = direction === 'asc' ? 1 : -1;
  return hits.sort((a, b) => sign * (a.score - b.score) || comparePointIds(a.point.id, b.point.id));
}

/**
 * Maximal marginal relevance over the candidates: repeatedly picks the candidate with the best
 * `(1 − diversity) · relevance − diversity · max similarity to the picked ones`; scores stay the relevance.
 */
function maximalMarginalRelevance(candidates: ScoredHit[], using: string, diversity: number, limit: number): ScoredHit[] {
  const similarity = (a: StoredPoint, b: StoredPoint): number => {
    const da = a.vectors.dense.get(using);
    const db = b.vectors.dense.get(using);
    if (da && db) return da.reduce((s, v, i) => s + v * db[i]!, 0);
    const sa = a.vectors.sparse.get(using);
    const sb = b.vectors.sparse.get(using);
    return sa && sb ? sparseDot(sa, sb) : 0;
  };
  const picked: ScoredHit[] = [];
  const left = [...candidates];
  while (picked.length < limit && left.length > 0) {
    let bestIndex = 0;
    let bestValue = -Infinity;
    left.forEach((h, i) => {
      const redundancy = picked.length === 0 ? 0 : Math.max(...picked.map((p) => similarity(h.point, p.point)));
      const value = (1 - diversity) * h.score - diversity * redundancy;
      if (value > bestValue) {
        bestValue = value;
        bestIndex = i;
      }
    });
    picked.push(left.splice(bestIndex, 1)[0]!);
  }
  return picked;
}
