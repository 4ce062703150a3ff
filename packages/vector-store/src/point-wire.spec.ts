import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { UpsertPointsSchema, type ValueSchema } from '@qdrant/js-client-grpc';
import { pointId } from './grpc-messages';
import { encodeUpsertFrame } from './point-wire';
import { type PointToWrite } from './points-transport';
import { VECTOR_NAMES } from './qdrant.types';

type ValueInit = MessageInitShape<typeof ValueSchema>;

/**
 * The reference: a JSON value as Qdrant's `Value` init object, as the transport built it before it wrote the
 * wire format itself (whole numbers as integers, as Qdrant reads JSON; others as doubles).
 */
function valueMessage(value: unknown): ValueInit {
  if (value === null || value === undefined) return { kind: { case: 'nullValue', value: 0 } };
  switch (typeof value) {
    case 'string':
      return { kind: { case: 'stringValue', value } };
    case 'boolean':
      return { kind: { case: 'boolValue', value } };
    case 'number':
      return Number.isSafeInteger(value) ? { kind: { case: 'integerValue', value: BigInt(value) } } : { kind: { case: 'doubleValue', value } };
    case 'bigint':
      return { kind: { case: 'integerValue', value } };
    case 'object':
      if (Array.isArray(value)) return { kind: { case: 'listValue', value: { values: value.map((v) => valueMessage(v)) } } };
      return { kind: { case: 'structValue', value: { fields: payloadMessage(value as Record<string, unknown>) } } };
    case 'undefined':
    case 'function':
    case 'symbol':
      break;
  }
  throw new TypeError(`a payload cannot hold a ${typeof value}`);
}

/** A payload as Qdrant's map of `Value`s. */
function payloadMessage(payload: Record<string, unknown>): Record<string, ValueInit> {
  const fields: Record<string, ValueInit> = {};
  for (const key of Object.keys(payload)) {
    if (payload[key] !== undefined) fields[key] = valueMessage(payload[key]);
  }
  return fields;
}

/** The upsert request as the client's reflective path encodes it, from init objects and plain float lists. */
function reflective(points: readonly PointToWrite[], collection = 'c'): Uint8Array {
  return toBinary(
    UpsertPointsSchema,
    create(UpsertPointsSchema, {
      collectionName: collection,
      wait: true,
      points: points.map((p) => ({
        id: pointId(p.id),
        payload: payloadMessage(p.payload),
        vectors: {
          vectorsOptions: {
            case: 'vectors' as const,
            value: {
              vectors: {
                [VECTOR_NAMES.dense]: { vector: { case: 'dense' as const, value: { data: Array.from(p.dense) } } },
                [VECTOR_NAMES.sparse]: { vector: { case: 'sparse' as const, value: { indices: p.sparse.indices, values: p.sparse.values } } },
              },
            },
          },
        },
      })),
    }),
  );
}

/**
 * The same request written by {@link encodeUpsertFrame}, as the transport sends it: the message out of its
 * gRPC frame, whose head must say "not compressed" and the message's length. The frame's buffer is released
 * at once, so each call writes into the buffer the previous one used.
 */
function direct(points: readonly PointToWrite[], collection = 'c'): Uint8Array {
  const frame = encodeUpsertFrame(collection, points);
  const bytes = Buffer.from(frame.bytes);
  frame.release();
  expect(bytes[0]).toBe(0);
  expect(bytes.readUInt32BE(1)).toBe(bytes.length - 5);
  return bytes.subarray(5);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function vector(random: () => number, dims: number): Float32Array {
  return Float32Array.from({ length: dims }, () => random() * 2 - 1);
}

const UUID = '0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

/** A payload with the fields every point has, then `extra`'s (in its order, after them). */
function payload(extra: Record<string, unknown>): PointToWrite['payload'] {
  return { catalog_id: UUID, kind: 'table', chunk_key: 'sales.orders', content_hash: 'ab'.repeat(32), ...extra };
}

describe(encodeUpsertFrame.name, () => {
  it('writes the bytes the reflective encoding writes, for every kind of payload value', () => {
    const random = seeded(7);
    const points: PointToWrite[] = [
      {
        id: UUID,
        dense: vector(random, 8),
        sparse: { indices: [3, 300, 70_000, 4_000_000_000], values: [0.5, 1.25, -2, 3.1] },
        payload: payload({
          kind: 'column',
          empty: '',
          text: 'Tábla „ügyfél” ✓ 表 😀 '.repeat(20),
          zero: 0,
          small: 7,
          big: 2 ** 40,
          negative: -5,
          most: Number.MAX_SAFE_INTEGER,
          least: Number.MIN_SAFE_INTEGER,
          fraction: 0.1,
          huge: 1e300,
          yes: true,
          no: false,
          nothing: null,
          skipped: undefined,
          count: 12n,
          below: -(2n ** 63n),
          nested: { a: { b: [1, 'two', null, undefined, { c: false }] }, empty: {} },
          list: [],
          tags: ['x', 'y'],
        }),
      },
      { id: '42', dense: [0.25, -1, 3.5], sparse: { indices: [], values: [] }, payload: payload({ schema: null }) },
      { id: '18446744073709551615', dense: vector(random, 3), sparse: { indices: [0], values: [1] }, payload: payload({ k: 'v' }) },
    ];
    expect(Buffer.from(direct(points)).equals(Buffer.from(reflective(points)))).toBe(true);
  });

  it('writes vectors of the product default size, lengths of several bytes and more than its first buffer', () => {
    const random = seeded(11);
    const points: PointToWrite[] = Array.from({ length: 40 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      dense: vector(random, 3072),
      sparse: { indices: Array.from({ length: 30 }, (_, j) => j * 977 + i), values: Array.from({ length: 30 }, () => random()) },
      payload: payload({ content: 'c'.repeat(200 + i * 50), metadata: { table: `t${i}`, columns: Array.from({ length: i }, (_, j) => `col${j}`) } }),
    }));
    const bytes = direct(points);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(Buffer.from(bytes).equals(Buffer.from(reflective(points)))).toBe(true);
    // What a receiver reads back: the same points, vectors and payloads.
    const decoded = fromBinary(UpsertPointsSchema, bytes);
    expect(decoded.points).toHaveLength(40);
    const first = decoded.points[0]!;
    expect(first.id?.pointIdOptions).toEqual({ case: 'uuid', value: points[0]!.id });
    const named = first.vectors?.vectorsOptions.case === 'vectors' ? first.vectors.vectorsOptions.value.vectors : {};
    const dense = named[VECTOR_NAMES.dense]?.vector;
    expect(dense?.case === 'dense' ? Float32Array.from(dense.value.data) : null).toEqual(points[0]!.dense);
  });

  it('writes each request whole into a reused buffer: a smaller one after a larger, a request not yet released apart', () => {
    const random = seeded(13);
    const make = (count: number, dims: number): PointToWrite[] =>
      Array.from({ length: count }, (_, i) => ({
        id: String(i + 1),
        dense: vector(random, dims),
        sparse: { indices: [i], values: [1] },
        payload: payload({ n: i }),
      }));
    const large = make(30, 3072);
    const small = make(2, 4);
    const collection = 'catalog_chunks_é';
    expect(Buffer.from(direct(large, collection)).equals(Buffer.from(reflective(large, collection)))).toBe(true);
    expect(Buffer.from(direct(small, collection)).equals(Buffer.from(reflective(small, collection)))).toBe(true);
    // Two requests in flight at once are written into two buffers: the first keeps its bytes.
    const first = encodeUpsertFrame('a', small);
    const kept = Buffer.from(first.bytes);
    const second = encodeUpsertFrame('b', large);
    expect(Buffer.from(first.bytes).equals(kept)).toBe(true);
    expect(Buffer.from(second.bytes.subarray(5)).equals(Buffer.from(reflective(large, 'b')))).toBe(true);
    // Released twice, a buffer is still handed to one request only.
    first.release();
    first.release();
    const third = encodeUpsertFrame('c', small);
    const fourth = encodeUpsertFrame('d', small);
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    expect(fourth.bytes.buffer).not.toBe(third.bytes.buffer);
    expect(Buffer.from(third.bytes.subarray(5)).equals(Buffer.from(reflective(small, 'c')))).toBe(true);
    for (const frame of [second, third, fourth]) frame.release();
  });

  it('refuses a payload value JSON has no form for, as the reflective path does', () => {
    const point = { id: UUID, dense: [1], sparse: { indices: [], values: [] }, payload: payload({ f: () => 1 }) };
    expect(() => encodeUpsertFrame('c', [point])).toThrow(new TypeError('a payload cannot hold a function'));
    expect(() => payloadMessage(point.payload)).toThrow(new TypeError('a payload cannot hold a function'));
  });
});
