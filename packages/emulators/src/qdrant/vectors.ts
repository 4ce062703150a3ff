import { describeJson } from './point-id';
import { QdrantError } from './qdrant-error';
import { DISTANCES, type Distance } from './scoring';

/** The name Qdrant gives the single unnamed dense vector of a collection. */
export const UNNAMED = '';

/** One dense vector of a collection: its size, distance and the other params echoed back. */
export interface DenseConfig {
  size: number;
  distance: Distance;
  /** Params accepted on create (on_disk, hnsw_config, …), kept to report them unchanged. */
  extra: Record<string, unknown>;
}

/** One sparse vector of a collection. */
export interface SparseConfig {
  modifier: 'none' | 'idf';
  /** Whether the modifier was given explicitly (Qdrant reports only what was set). */
  modifierSet: boolean;
  index?: Record<string, unknown>;
}

/** The vectors a collection declares: dense ones (the unnamed one under `""`) and sparse ones. */
export interface VectorLayout {
  /** True when `vectors` was a single `{size, distance}` (the unnamed vector), false for a map of names. */
  unnamed: boolean;
  dense: Map<string, DenseConfig>;
  sparse: Map<string, SparseConfig>;
}

/** A sparse vector with indices sorted ascending, as Qdrant stores it. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

/** The vectors of one point, by name. */
export interface PointVectors {
  dense: Map<string, number[]>;
  sparse: Map<string, SparseVector>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const U32_MAX = 4_294_967_295;

function denseConfig(raw: unknown, path: string): DenseConfig {
  if (!isObject(raw)) throw QdrantError.format(`${path}: invalid type: ${describeJson(raw)}, expected struct VectorParams`);
  const { size, distance, ...extra } = raw;
  if (size === undefined) throw QdrantError.format(`${path}: missing field \`size\``);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw QdrantError.format(`${path}.size: invalid value: ${describeJson(size)}, expected u64`);
  }
  if (size < 1) throw QdrantError.validation(`${path}.size`, `value ${size} invalid, must be 1 or larger`);
  if (typeof distance !== 'string' || !(DISTANCES as readonly string[]).includes(distance)) {
    throw QdrantError.format(
      `${path}.distance: unknown variant \`${String(distance)}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``,
    );
  }
  if (extra.multivector_config !== undefined && extra.multivector_config !== null) throw QdrantError.unsupported('Multivectors');
  return { size, distance: distance as Distance, extra };
}

/** Parses a `SparseVectorParams` (create or update). */
export function sparseConfig(raw: unknown, path: string): SparseConfig {
  if (raw === null || raw === undefined) return { modifier: 'none', modifierSet: false };
  if (!isObject(raw)) throw QdrantError.format(`${path}: invalid type: ${describeJson(raw)}, expected struct SparseVectorParams`);
  for (const key of Object.keys(raw)) {
    if (key !== 'index' && key !== 'modifier') throw QdrantError.format(`${path}: unknown field \`${key}\`, expected \`index\` or \`modifier\``);
  }
  const modifier = raw.modifier ?? null;
  if (modifier !== null && modifier !== 'none' && modifier !== 'idf') {
    throw QdrantError.format(`${path}.modifier: unknown variant ${describeJson(modifier)}, expected \`none\` or \`idf\``);
  }
  let index: Record<string, unknown> | undefined;
  if (raw.index !== undefined && raw.index !== null) {
    if (!isObject(raw.index)) throw QdrantError.format(`${path}.index: expected struct SparseIndexParams`);
    const datatype = raw.index.datatype;
    if (datatype !== undefined && datatype !== null && datatype !== 'float32' && datatype !== 'float16' && datatype !== 'uint8') {
      throw QdrantError.wrongInput(`sparse vectors do not support the ${describeJson(datatype)} datatype`);
    }
    index = raw.index;
  }
  return { modifier: modifier ?? 'none', modifierSet: modifier !== null, ...(index ? { index } : {}) };
}

/** Parses the `vectors` and `sparse_vectors` of a create-collection body. */
export function parseLayout(vectors: unknown, sparseVectors: unknown): VectorLayout {
  const layout: VectorLayout = { unnamed: false, dense: new Map(), sparse: new Map() };
  if (isObject(vectors) && ('size' in vectors || 'distance' in vectors)) {
    layout.unnamed = true;
    layout.dense.set(UNNAMED, denseConfig(vectors, 'vectors'));
  } else if (isObject(vectors)) {
    for (const [name, raw] of Object.entries(vectors)) layout.dense.set(name, denseConfig(raw, `vectors.${name}`));
  } else if (vectors !== undefined && vectors !== null) {
    throw QdrantError.format('vectors: data did not match any variant of untagged enum VectorsConfig');
  }
  if (isObject(sparseVectors)) {
    for (const [name, raw] of Object.entries(sparseVectors)) {
      if (layout.dense.has(name)) throw QdrantError.wrongInput(`Vector name \`${name}\` is used by both a dense and a sparse vector`);
      layout.sparse.set(name, sparseConfig(raw, `sparse_vectors.${name}`));
    }
  } else if (sparseVectors !== undefined && sparseVectors !== null) {
    throw QdrantError.format('sparse_vectors: invalid type, expected a map');
  }
  return layout;
}

/** The `vectors` part of `config.params` as Qdrant reports it. */
export function describeDense(layout: VectorLayout): Record<string, unknown> {
  const one = (c: DenseConfig): Record<string, unknown> => ({ size: c.size, distance: c.distance, ...withoutNulls(c.extra) });
  if (layout.unnamed) {
    const c = layout.dense.get(UNNAMED);
    return c ? one(c) : {};
  }
  return Object.fromEntries([...layout.dense].map(([name, c]) => [name, one(c)]));
}

/** The `sparse_vectors` part of `config.params`, or undefined when the collection has none. */
export function describeSparse(layout: VectorLayout): Record<string, unknown> | undefined {
  if (layout.sparse.size === 0) return undefined;
  return Object.fromEntries(
    [...layout.sparse].map(([name, c]) => [name, { ...(c.index ? { index: c.index } : {}), ...(c.modifierSet ? { modifier: c.modifier } : {}) }]),
  );
}

function withoutNulls(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined));
}

/** True when a raw vector value has the shape of a sparse vector (`{indices, values}`). */
export function looksSparse(raw: unknown): boolean {
  return isObject(raw) && ('indices' in raw || 'values' in raw);
}

/**
 * Parses and validates a sparse vector the way Qdrant does: indices unsigned 32-bit and unique, as many
 * values as indices (422 naming `path`), then sorted by index.
 */
export function parseSparse(raw: unknown, path: string): SparseVector {
  if (!isObject(raw) || !Array.isArray(raw.indices) || !Array.isArray(raw.values)) {
    throw QdrantError.format(`${path}: missing field \`indices\` or \`values\``);
  }
  const indices = raw.indices as unknown[];
  const values = raw.values as unknown[];
  for (const i of indices) {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i > U32_MAX) {
      throw QdrantError.format(`${path}.indices: invalid value: ${describeJson(i)}, expected u32`);
    }
  }
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw QdrantError.format(`${path}.values: invalid value: ${describeJson(v)}, expected f32`);
  }
  const problems: string[] = [];
  if (indices.length !== values.length) problems.push(`${path}.values: Validation error: must be the same length as indices [{}]`);
  if (new Set(indices).size !== indices.length) problems.push(`${path}.indices: Validation error: must be unique [{}]`);
  if (problems.length > 0) throw new QdrantError(422, `Validation error in JSON body: [${problems.join(', ')}]`);
  const order = indices.map((_, k) => k).sort((a, b) => (indices[a] as number) - (indices[b] as number));
  // Qdrant keeps sparse values as float32, whatever precision the request carried.
  return { indices: order.map((k) => indices[k] as number), values: order.map((k) => Math.fround(values[k] as number)) };
}

/** A dense vector of `config`'s size, or Qdrant's 400. */
export function parseDense(raw: unknown, config: DenseConfig): number[] {
  if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    if (Array.isArray(raw) && raw.some((v) => Array.isArray(v))) throw QdrantError.unsupported('Multivectors');
    throw QdrantError.format('data did not match any variant of untagged enum VectorStruct');
  }
  if (raw.length !== config.size) throw QdrantError.dimension(config.size, raw.length);
  return raw as number[];
}

function notExisting(name: string): QdrantError {
  return QdrantError.wrongInput(`Not existing vector name error: ${name}`);
}

/** Parses the vector(s) of one point: a bare dense vector (the unnamed one) or a map of names. */
export function parsePointVectors(layout: VectorLayout, raw: unknown, path: string): PointVectors {
  const out: PointVectors = { dense: new Map(), sparse: new Map() };
  if (Array.isArray(raw)) {
    const config = layout.dense.get(UNNAMED);
    if (!config) throw notExisting(UNNAMED);
    out.dense.set(UNNAMED, parseDense(raw, config));
    return out;
  }
  if (!isObject(raw)) throw QdrantError.format(`${path}: data did not match any variant of untagged enum VectorStruct`);
  for (const [name, value] of Object.entries(raw)) {
    const dense = layout.dense.get(name);
    const sparse = layout.sparse.get(name);
    if (dense) {
      if (looksSparse(value)) throw QdrantError.wrongInput(`Conversion between sparse and regular vectors failed`);
      out.dense.set(name, parseDense(value, dense));
    } else if (sparse) {
      if (!looksSparse(value)) throw QdrantError.wrongInput(`Conversion between sparse and regular vectors failed`);
      out.sparse.set(name, parseSparse(value, `${path}.?`));
    } else {
      throw notExisting(name);
    }
  }
  return out;
}

/** Dot product of two sorted sparse vectors (only shared indices count). */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i]!;
    const y = b.indices[j]!;
    if (x === y) {
      s += a.values[i]! * b.values[j]!;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return s;
}

/** Whether two sorted sparse vectors share at least one index. */
export function sparseOverlaps(a: SparseVector, b: SparseVector): boolean {
  let i = 0;
  let j = 0;
  while (i < a.indices.length && j < b.indices.length) {
    const x = a.indices[i]!;
    const y = b.indices[j]!;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}
