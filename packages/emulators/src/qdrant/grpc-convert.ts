import {
  Fusion,
  UpdateStatus,
  type PointStruct,
  type PrefetchQuery,
  type Query,
  type ScrollPoints,
  type Value,
  type Vector,
  type VectorInput,
  type WithPayloadSelector,
  type WithVectorsSelector,
} from '@qdrant/js-client-grpc';
import { QdrantError } from './qdrant-error';

// The common messages as the points messages use them (the client's entry point exports an older copy).
type Filter = NonNullable<ScrollPoints['filter']>;
type Condition = Filter['must'][number];
type FieldCondition = Extract<Condition['conditionOneOf'], { case: 'field' }>['value'];
type PointId = NonNullable<PointStruct['id']>;

/**
 * Qdrant's gRPC messages as the REST bodies the emulator's engine reads, and its REST answers as gRPC
 * messages (plain init objects): one engine, two wire protocols. What the emulator does not convert is
 * refused with Qdrant's 400 wording, as on REST.
 */

type Json = Record<string, unknown>;

/** A point id as REST writes it: a number or a UUID. */
export function idJson(id: PointId | undefined): number | string {
  const options = id?.pointIdOptions;
  if (options?.case === 'num') return Number(options.value);
  if (options?.case === 'uuid') return options.value;
  throw QdrantError.format('missing field `id`');
}

/** A point id of a REST answer as a gRPC `PointId`. */
export function pointIdMessage(id: unknown): { pointIdOptions: { case: 'num'; value: bigint } | { case: 'uuid'; value: string } } {
  return typeof id === 'number' ? { pointIdOptions: { case: 'num', value: BigInt(id) } } : { pointIdOptions: { case: 'uuid', value: String(id) } };
}

/** Qdrant's `Value` as JSON (integers as numbers, as REST carries them). */
export function valueJson(value: Value): unknown {
  const kind = value.kind;
  switch (kind.case) {
    case 'stringValue':
    case 'boolValue':
    case 'doubleValue':
      return kind.value;
    case 'integerValue':
      return Number(kind.value);
    case 'listValue':
      return kind.value.values.map(valueJson);
    case 'structValue':
      return payloadJson(kind.value.fields);
    case 'nullValue':
    case undefined:
      return null;
  }
}

export function payloadJson(fields: Record<string, Value>): Json {
  const out: Json = {};
  for (const key of Object.keys(fields)) out[key] = valueJson(fields[key]!);
  return out;
}

type ValueInit = { kind: { case: string; value: unknown } };

/** A JSON payload value as a gRPC `Value` (whole numbers as integers, as Qdrant stores JSON's). */
export function valueMessage(value: unknown): ValueInit {
  if (value === null || value === undefined) return { kind: { case: 'nullValue', value: 0 } };
  if (typeof value === 'string') return { kind: { case: 'stringValue', value } };
  if (typeof value === 'boolean') return { kind: { case: 'boolValue', value } };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { kind: { case: 'integerValue', value: BigInt(value) } } : { kind: { case: 'doubleValue', value } };
  }
  if (Array.isArray(value)) return { kind: { case: 'listValue', value: { values: value.map(valueMessage) } } };
  return { kind: { case: 'structValue', value: { fields: payloadMessage(value as Json) } } };
}

export function payloadMessage(payload: Json | null | undefined): Record<string, ValueInit> {
  const out: Record<string, ValueInit> = {};
  for (const [key, value] of Object.entries(payload ?? {})) out[key] = valueMessage(value);
  return out;
}

type VectorVariant = Exclude<Vector['vector'] | VectorInput['variant'], { case: 'id' } | { case: undefined }>;

/** A vector given inline, in a write or a query, as REST carries it: a dense list or a sparse `{indices, values}`. */
function inlineVectorJson(v: VectorVariant): unknown {
  switch (v.case) {
    case 'dense':
      return v.value.data;
    case 'sparse':
      return { indices: v.value.indices, values: v.value.values };
    case 'multiDense':
      throw QdrantError.unsupported('Multivectors');
    case 'document':
    case 'image':
    case 'object':
      throw QdrantError.unsupported('Inference');
  }
}

/** One vector of a write as REST carries it. */
function vectorJson(vector: Vector): unknown {
  const v = vector.vector;
  // The deprecated flat form: `data`, with `indices` for a sparse vector.
  if (v.case === undefined) return vector.indices ? { indices: vector.indices.data, values: vector.data } : vector.data;
  return inlineVectorJson(v);
}

/** A point of an upsert as REST carries it. */
export function pointJson(point: PointStruct): Json {
  const options = point.vectors?.vectorsOptions;
  let vector: unknown;
  if (options?.case === 'vector') vector = vectorJson(options.value);
  else if (options?.case === 'vectors') vector = Object.fromEntries(Object.entries(options.value.vectors).map(([name, v]) => [name, vectorJson(v)]));
  else throw QdrantError.format('missing field `vector`');
  return { id: idJson(point.id), vector, payload: payloadJson(point.payload) };
}

function matchJson(field: FieldCondition): Json {
  const m = field.match?.matchValue;
  switch (m?.case) {
    case 'keyword':
    case 'boolean':
      return { value: m.value };
    case 'integer':
      return { value: Number(m.value) };
    case 'text':
      return { text: m.value };
    case 'phrase':
      return { phrase: m.value };
    case 'textAny':
      return { text_any: m.value };
    case 'keywords':
      return { any: m.value.strings };
    case 'integers':
      return { any: m.value.integers.map(Number) };
    case 'exceptKeywords':
      return { except: m.value.strings };
    case 'exceptIntegers':
      return { except: m.value.integers.map(Number) };
    case 'prefix':
      throw QdrantError.unsupported('Match by prefix');
    case undefined:
      throw QdrantError.format('match: missing value');
  }
}

function fieldJson(field: FieldCondition): Json {
  if (field.match) return { key: field.key, match: matchJson(field) };
  if (field.range) {
    const range = Object.fromEntries(Object.entries({ lt: field.range.lt, gt: field.range.gt, gte: field.range.gte, lte: field.range.lte }).filter(([, v]) => v !== undefined));
    return { key: field.key, range };
  }
  if (field.isEmpty !== undefined) return { is_empty: { key: field.key } };
  if (field.isNull !== undefined) return { is_null: { key: field.key } };
  throw QdrantError.unsupported(`Condition on ${field.key} other than match, range, is_empty and is_null over gRPC`);
}

function conditionJson(condition: Condition): Json {
  const c = condition.conditionOneOf;
  switch (c.case) {
    case 'field':
      return fieldJson(c.value);
    case 'isEmpty':
      return { is_empty: { key: c.value.key } };
    case 'isNull':
      return { is_null: { key: c.value.key } };
    case 'hasId':
      return { has_id: c.value.hasId.map(idJson) };
    case 'filter':
      return filterJson(c.value)!;
    case 'nested':
      return { nested: { key: c.value.key, filter: filterJson(c.value.filter) ?? {} } };
    case 'hasVector':
      return { has_vector: c.value.hasVector };
    case 'slice':
      throw QdrantError.unsupported('Slice condition');
    case undefined:
      break;
  }
  throw QdrantError.format('condition: missing variant');
}

/**
 * A filter as REST carries it. Protobuf cannot tell an empty list from an absent one: an empty `should` is
 * left out (on REST it would match nothing).
 */
export function filterJson(filter: Filter | undefined): Json | undefined {
  if (!filter) return undefined;
  const out: Json = {};
  if (filter.must.length) out.must = filter.must.map(conditionJson);
  if (filter.should.length) out.should = filter.should.map(conditionJson);
  if (filter.mustNot.length) out.must_not = filter.mustNot.map(conditionJson);
  if (filter.minShould) out.min_should = { conditions: filter.minShould.conditions.map(conditionJson), min_count: Number(filter.minShould.minCount) };
  return out;
}

function vectorInputJson(input: VectorInput): unknown {
  const v = input.variant;
  if (v.case === 'id') return idJson(v.value);
  if (v.case === undefined) throw QdrantError.format('query: missing vector');
  return inlineVectorJson(v);
}

function queryJson(query: Query | undefined): unknown {
  const q = query?.variant;
  switch (q?.case) {
    case undefined:
      return undefined;
    case 'nearest':
      return vectorInputJson(q.value);
    case 'fusion':
      return { fusion: q.value === Fusion.DBSF ? 'dbsf' : 'rrf' };
    case 'rrf':
      return { rrf: { ...(q.value.k !== undefined ? { k: q.value.k } : {}), ...(q.value.weights.length ? { weights: q.value.weights } : {}) } };
    case 'sample':
      return { sample: 'random' };
    case 'recommend':
    case 'discover':
    case 'context':
    case 'orderBy':
    case 'formula':
    case 'nearestWithMmr':
    case 'relevanceFeedback':
      throw QdrantError.unsupported(`Query ${q.case} over gRPC`);
  }
}

interface StageFields {
  prefetch: PrefetchQuery[];
  query?: Query;
  using?: string;
  filter?: Filter;
  scoreThreshold?: number;
  limit?: bigint;
}

/** A query or prefetch stage as REST carries it (fields left out when absent, so REST's defaults apply). */
export function stageJson(stage: StageFields): Json {
  const out: Json = {};
  if (stage.prefetch.length) out.prefetch = stage.prefetch.map((p) => stageJson(p));
  const query = queryJson(stage.query);
  if (query !== undefined) out.query = query;
  if (stage.using !== undefined) out.using = stage.using;
  const filter = filterJson(stage.filter);
  if (filter) out.filter = filter;
  if (stage.scoreThreshold !== undefined) out.score_threshold = stage.scoreThreshold;
  if (stage.limit !== undefined) out.limit = Number(stage.limit);
  return out;
}

/** `with_payload` as REST carries it; undefined leaves REST's default of the operation. */
export function withPayloadJson(selector: WithPayloadSelector | undefined): unknown {
  const s = selector?.selectorOptions;
  switch (s?.case) {
    case 'enable':
      return s.value;
    case 'include':
      return s.value.fields;
    case 'exclude':
      return { exclude: s.value.fields };
    case undefined:
      return undefined;
  }
}

/** `with_vector` as REST carries it; undefined leaves REST's default. */
export function withVectorJson(selector: WithVectorsSelector | undefined): unknown {
  const s = selector?.selectorOptions;
  switch (s?.case) {
    case 'enable':
      return s.value;
    case 'include':
      return s.value.names;
    case undefined:
      return undefined;
  }
}

type VectorOutputInit = { vector: { case: 'dense'; value: { data: number[] } } | { case: 'sparse'; value: { indices: number[]; values: number[] } } };

function vectorOutput(json: unknown): VectorOutputInit {
  if (Array.isArray(json)) return { vector: { case: 'dense', value: { data: json as number[] } } };
  const sparse = json as { indices: number[]; values: number[] };
  return { vector: { case: 'sparse', value: { indices: sparse.indices, values: sparse.values } } };
}

/** The vectors of a REST record as gRPC `VectorsOutput`: a bare list is the unnamed vector, a map named ones. */
export function vectorsMessage(json: unknown): unknown {
  if (json === undefined || json === null) return undefined;
  if (Array.isArray(json)) return { vectorsOptions: { case: 'vector', value: vectorOutput(json) } };
  const named = Object.fromEntries(Object.entries(json as Json).map(([name, v]) => [name, vectorOutput(v)]));
  return { vectorsOptions: { case: 'vectors', value: { vectors: named } } };
}

/** A REST record (retrieve, scroll) as a gRPC `RetrievedPoint`. */
export function retrievedMessage(record: Json): Json {
  return { id: pointIdMessage(record.id), payload: payloadMessage(record.payload as Json | null), vectors: vectorsMessage(record.vector) };
}

/** A REST scored point (query) as a gRPC `ScoredPoint`. */
export function scoredMessage(record: Json): Json {
  return {
    id: pointIdMessage(record.id),
    payload: payloadMessage(record.payload as Json | undefined),
    score: record.score,
    version: BigInt(record.version as number),
    vectors: vectorsMessage(record.vector),
  };
}

/** The answer to a write. */
export function operationMessage(operationId: number, wait: boolean | undefined, seconds: number): Json {
  return { result: { operationId: BigInt(operationId), status: wait ? UpdateStatus.Completed : UpdateStatus.Acknowledged }, time: seconds };
}
