import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import {
  DenseVectorSchema,
  toDenseVector,
  toSparseVector,
  type DenseVector as DenseVectorMessage,
  type FilterSchema,
  type PointId,
  type Value,
  type VectorOutput,
  type VectorsOutput,
} from '@qdrant/js-client-grpc';
import { type DenseVector, type PointsFilter } from './points-transport';

/**
 * Conversions between the service's values and the protobuf messages of Qdrant's gRPC API, as plain init
 * objects the client turns into messages (dense vectors excepted: see {@link denseMessage}).
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A `DenseVector` message whose `data` (field 1, packed `repeated float`) is written as the vector's float32
 * bytes: its wire form is the length and the little-endian floats one after another, which is what a
 * `Float32Array` holds on a little-endian machine. So a vector goes into the request as one copy of its
 * bytes, with no list of JavaScript numbers and no per-number encoding; a `number[]` is rounded to float32
 * once (as any float32 encoding does). The bytes ride as the message's unknown field 1, which protobuf
 * writes as they are, and the receiver reads as the packed field it is.
 */
export function denseMessage(vector: DenseVector): DenseVectorMessage {
  const floats = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  const length = floats.length * 4;
  const prefix = varint(length);
  const data = new Uint8Array(prefix.length + length);
  data.set(prefix, 0);
  if (LITTLE_ENDIAN) {
    data.set(new Uint8Array(floats.buffer, floats.byteOffset, length), prefix.length);
  } else {
    const view = new DataView(data.buffer, prefix.length);
    for (let i = 0; i < floats.length; i++) view.setFloat32(i * 4, floats[i]!, true);
  }
  const message = create(DenseVectorSchema);
  message.$unknown = [{ no: 1, wireType: WireType.LengthDelimited, data }];
  return message;
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** A point id: an unsigned integer as `num`, anything else (a UUID) as `uuid`. */
export function pointId(id: string | number): { pointIdOptions: { case: 'num'; value: bigint } | { case: 'uuid'; value: string } } {
  if (typeof id === 'number' || /^\d+$/.test(id)) return { pointIdOptions: { case: 'num', value: BigInt(id) } };
  return { pointIdOptions: { case: 'uuid', value: id } };
}

/** The id as REST writes it: an integer's digits, or the UUID. */
export function idText(id: PointId | undefined): string {
  const options = id?.pointIdOptions;
  if (options?.case === 'num') return options.value.toString();
  if (options?.case === 'uuid') return options.value;
  return '';
}

/** A scroll offset as REST gives it: a number for an integer id, else the UUID. */
export function offsetOf(id: PointId | undefined): string | number | undefined {
  const options = id?.pointIdOptions;
  if (options?.case === 'num') return Number(options.value);
  if (options?.case === 'uuid') return options.value;
  return undefined;
}

/** The protobuf filter of the service's filter. */
export function filterMessage(filter: PointsFilter): MessageInitShape<typeof FilterSchema> {
  return {
    must: filter.must.map((c) => ({
      conditionOneOf: {
        case: 'field' as const,
        value: {
          key: c.key,
          match: {
            matchValue:
              'value' in c
                ? { case: 'keyword' as const, value: c.value }
                : { case: 'keywords' as const, value: { strings: c.any } },
          },
        },
      },
    })),
  };
}

/** Qdrant's `Value` as JSON. */
export function jsonOf(value: Value): unknown {
  const kind = value.kind;
  switch (kind.case) {
    case 'stringValue':
    case 'boolValue':
    case 'doubleValue':
      return kind.value;
    case 'integerValue':
      return Number(kind.value);
    case 'listValue':
      return kind.value.values.map(jsonOf);
    case 'structValue':
      return payloadOf(kind.value.fields);
    case 'nullValue':
    case undefined:
      return null;
  }
}

/** A payload map as JSON. */
export function payloadOf(fields: Record<string, Value>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) out[key] = jsonOf(fields[key]!);
  return out;
}

/** One output vector as REST shows it: a dense list or a sparse `{indices, values}`. */
function vectorJson(output: VectorOutput): unknown {
  const dense: DenseVectorMessage | undefined = toDenseVector(output);
  if (dense) return dense.data;
  const sparse = toSparseVector(output);
  if (sparse) return { indices: sparse.indices, values: sparse.values };
  return null;
}

/** A point's vectors as REST shows them: one unnamed vector as it is, named vectors as a map. */
export function vectorsJson(output: VectorsOutput | undefined): unknown {
  const options = output?.vectorsOptions;
  if (options?.case === 'vector') return vectorJson(options.value);
  if (options?.case === 'vectors') {
    const out: Record<string, unknown> = {};
    for (const [name, vector] of Object.entries(options.value.vectors)) out[name] = vectorJson(vector);
    return out;
  }
  return undefined;
}
