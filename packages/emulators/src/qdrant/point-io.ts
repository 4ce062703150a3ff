import { type Collection, type PointInput, type StoredPoint } from './collection';
import { type Payload } from './filter';
import { describeJson, parsePointId } from './point-id';
import { QdrantError } from './qdrant-error';
import { float32Json } from './scoring';
import { type PayloadProjection, type VectorSelection } from './request-body';
import { type VectorLayout, UNNAMED, parsePointVectors } from './vectors';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one point of an upsert: its id, its vectors against the collection's layout, its payload. */
export function pointInput(layout: VectorLayout, rawId: unknown, rawVector: unknown, rawPayload: unknown, path: string): PointInput {
  const id = parsePointId(rawId);
  const vectors = parsePointVectors(layout, rawVector, path);
  if (rawPayload !== undefined && rawPayload !== null && !isObject(rawPayload)) {
    throw QdrantError.format(`invalid type: ${describeJson(rawPayload)}, expected a map`);
  }
  return { id, vectors, payload: rawPayload ?? {} };
}

/**
 * The per-point vectors of a batch upsert: a list of unnamed dense vectors, or a map from vector name to
 * one list per name (turned into one `{name: vector}` per point).
 */
export function batchVectors(raw: unknown, count: number): unknown[] {
  const mismatch = (): QdrantError => QdrantError.wrongInput('number of ids, vectors and payloads in a batch must be equal');
  if (Array.isArray(raw)) {
    if (raw.length !== count) throw mismatch();
    return raw;
  }
  if (!isObject(raw)) throw QdrantError.format('data did not match any variant of untagged enum BatchVectorStruct');
  const out: Record<string, unknown>[] = Array.from({ length: count }, () => ({}));
  for (const [name, list] of Object.entries(raw)) {
    if (!Array.isArray(list)) throw QdrantError.format(`batch.vectors.${name}: expected a list`);
    if (list.length !== count) throw mismatch();
    (list as unknown[]).forEach((v, i) => {
      out[i]![name] = v;
    });
  }
  return out;
}

/**
 * The vectors of a point as Qdrant returns them: a bare list when the only vector shown is the unnamed
 * dense one, otherwise a map by name (sparse ones as `{indices, values}`).
 */
function vectorOutput(c: Collection, p: StoredPoint, selection: VectorSelection): unknown {
  const wanted = (name: string): boolean => selection === true || (selection !== false && selection.has(name));
  const entries: [string, unknown][] = [];
  for (const name of c.layout.dense.keys()) {
    const v = p.vectors.dense.get(name);
    if (v && wanted(name)) entries.push([name, Array.from(v, float32Json)]);
  }
  for (const name of c.layout.sparse.keys()) {
    const v = p.vectors.sparse.get(name);
    if (v && wanted(name)) entries.push([name, { indices: v.indices, values: v.values.map(float32Json) }]);
  }
  if (entries.length === 1 && entries[0]![0] === UNNAMED) return entries[0]![1];
  return Object.fromEntries(entries);
}

/** A `Record` (retrieve, scroll): payload and vector are null when not asked for. */
export function pointRecord(
  c: Collection,
  p: StoredPoint,
  projection: PayloadProjection | undefined,
  vectors: VectorSelection,
): Record<string, unknown> {
  return { id: p.id, payload: projection ? projection(p.payload) : null, vector: vectors === false ? null : vectorOutput(c, p, vectors) };
}

/** A `ScoredPoint` (query): payload and vector only when asked for. */
export function scoredRecord(
  c: Collection,
  p: StoredPoint,
  score: number,
  projection: PayloadProjection | undefined,
  vectors: VectorSelection,
): Record<string, unknown> {
  return {
    id: p.id,
    version: p.version,
    // Qdrant computes and reports scores as float32.
    score: float32Json(score),
    ...(projection ? { payload: projection(p.payload) } : {}),
    ...(vectors === false ? {} : { vector: vectorOutput(c, p, vectors) }),
  };
}

/** `payload` merged into the object at dotted `key` of `old` (created when missing). */
export function setAtKey(old: Payload, key: string, payload: Payload): Payload {
  const [head, ...rest] = key.split('.');
  const current = old[head!];
  const inner = isObject(current) ? current : {};
  return { ...old, [head!]: rest.length === 0 ? { ...inner, ...structuredClone(payload) } : setAtKey(inner, rest.join('.'), payload) };
}

/** `payload` without the dotted `key` (a missing key changes nothing). */
export function deleteKey(payload: Payload, key: string): Payload {
  if (key in payload) {
    const { [key]: _removed, ...rest } = payload;
    return rest;
  }
  const dot = key.indexOf('.');
  if (dot < 0) return payload;
  const head = key.slice(0, dot);
  const inner = payload[head];
  return isObject(inner) ? { ...payload, [head]: deleteKey(inner, key.slice(dot + 1)) } : payload;
}
