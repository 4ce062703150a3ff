import { VECTOR_NAMES } from './qdrant.types';
import { type PointToWrite } from './points-transport';

/**
 * Qdrant's `PointStruct` messages (points.proto of the official client) written straight to protobuf's wire
 * format, for the upsert over gRPC. The client's reflective path builds a message object per point, per
 * payload field and per vector, then walks them again to encode; at a few thousand points a run that is most
 * of the CPU the gRPC upsert costs. This writes the same bytes directly, each length computed before it is
 * written (the same field order, canonical varints and map entries as `toBinary`: a spec checks byte for
 * byte), with the payload's JSON values as `Value`s by the rules the REST side follows: whole numbers as
 * integers (as Qdrant reads JSON), others as doubles, objects as structs, arrays as lists, null as
 * `null_value`.
 *
 * Field numbers (points.proto, json_with_int.proto):
 * - PointStruct: id 1 (PointId: num 1 uint64 | uuid 2 string), payload 3 (map<string, Value>), vectors 4
 * - Vectors: vectors 2 (NamedVectors: vectors 1, map<string, Vector>)
 * - Vector: dense 101 (DenseVector: data 1, packed float), sparse 102 (SparseVector: values 1, packed float;
 *   indices 2, packed uint32)
 * - Value: null_value 1, double_value 2, integer_value 3 (int64), string_value 4, bool_value 5, struct_value 6
 *   (Struct: fields 1, map<string, Value>), list_value 7 (ListValue: values 1)
 */

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A growing byte buffer with protobuf's primitives; a length-delimited field is written, then its length patched in. */
class WireWriter {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** A non-negative integer up to 2^53 as a varint. */
  varint(value: number): void {
    this.ensure(10);
    let rest = value;
    while (rest > 0x7f) {
      this.buf[this.pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.pos++] = rest;
  }

  /** A 64-bit integer in two's complement as a varint (a negative one takes ten bytes). */
  varint64(value: bigint): void {
    this.ensure(10);
    let rest = BigInt.asUintN(64, value);
    while (rest > 0x7fn) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  string(field: number, text: string): void {
    this.tag(field, LEN);
    // Short ASCII-range texts are the common case: their UTF-8 length is at most three bytes per char.
    this.ensure(10 + text.length * 3);
    const start = this.begin();
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.end(start);
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Packed floats (float32), little-endian: a `Float32Array`'s own bytes on a little-endian machine. */
  floats(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, LEN);
    const bytes = values.length * 4;
    this.varint(bytes);
    this.ensure(bytes);
    if (LITTLE_ENDIAN && values instanceof Float32Array) {
      this.buf.set(new Uint8Array(values.buffer, values.byteOffset, bytes), this.pos);
    } else {
      for (let i = 0; i < values.length; i++) this.view.setFloat32(this.pos + i * 4, values[i]!, true);
    }
    this.pos += bytes;
  }

  /** Packed uint32s. */
  uint32s(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    this.tag(field, LEN);
    const start = this.begin();
    for (let i = 0; i < values.length; i++) this.varint(values[i]! >>> 0);
    this.end(start);
  }

  /** Starts a length-delimited body (after its tag): one byte is kept for its length. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Writes the length of the body begun at `start`, moving the body when the length needs more than a byte. */
  end(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buf[start] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }
}

function writeValue(w: WireWriter, value: unknown): void {
  if (value === null || value === undefined) {
    w.tag(1, VARINT);
    w.varint(0);
    return;
  }
  switch (typeof value) {
    case 'string':
      w.string(4, value);
      return;
    case 'boolean':
      w.tag(5, VARINT);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isSafeInteger(value)) {
        w.tag(3, VARINT);
        if (value >= 0) w.varint(value);
        else w.varint64(BigInt(value));
      } else {
        w.double(2, value);
      }
      return;
    case 'bigint':
      w.tag(3, VARINT);
      w.varint64(value);
      return;
    case 'object': {
      if (Array.isArray(value)) {
        w.tag(7, LEN);
        const list = w.begin();
        for (const item of value) {
          w.tag(1, LEN);
          const start = w.begin();
          writeValue(w, item);
          w.end(start);
        }
        w.end(list);
        return;
      }
      w.tag(6, LEN);
      const struct = w.begin();
      writeFields(w, 1, value as Record<string, unknown>);
      w.end(struct);
      return;
    }
    case 'undefined':
    case 'function':
    case 'symbol':
      break;
  }
  throw new TypeError(`a payload cannot hold a ${typeof value}`);
}

/** A `map<string, Value>` as field `field`: one entry (key 1, value 2) per defined property, in key order. */
function writeFields(w: WireWriter, field: number, fields: Record<string, unknown>): void {
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    w.tag(field, LEN);
    const entry = w.begin();
    w.string(1, key);
    w.tag(2, LEN);
    const start = w.begin();
    writeValue(w, value);
    w.end(start);
    w.end(entry);
  }
}

/** Bytes of `value` as a varint. */
function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest > 0x7f; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** Bytes of a length-delimited field of `body` bytes with a one-byte tag (field numbers up to 15). */
function fieldSize(body: number): number {
  return 1 + varintSize(body) + body;
}

/** Bytes of a `Vector` whose oneof (field 101 or 102: a two-byte tag) holds `body` bytes. */
function vectorSize(body: number): number {
  return 2 + varintSize(body) + body;
}

/** Bytes of a `NamedVectors` map entry: the name (field 1) and a `Vector` of `vector` bytes (field 2). */
function entrySize(name: string, vector: number): number {
  return fieldSize(Buffer.byteLength(name)) + fieldSize(vector);
}

/**
 * Writes the point's `vectors` (field 4) with every length computed first: the dense vector, most of a point's
 * bytes, is copied once and never moved to make room for a length.
 */
function writeVectors(w: WireWriter, point: PointToWrite, sizes: VectorSizes): void {
  w.tag(4, LEN);
  w.varint(sizes.vectors);
  w.tag(2, LEN);
  w.varint(sizes.named);
  writeEntryHead(w, VECTOR_NAMES.dense, 101, sizes.denseEntry, sizes.denseVector, sizes.denseBody);
  w.floats(1, point.dense);
  writeEntryHead(w, VECTOR_NAMES.sparse, 102, sizes.sparseEntry, sizes.sparseVector, sizes.sparseBody);
  w.floats(1, point.sparse.values);
  w.uint32s(2, point.sparse.indices);
}

/**
 * The head of a `NamedVectors` map entry, up to its vector's body: the entry (field 1), its name (key, field
 * 1), its `Vector` (value, field 2) and the `Vector`'s oneof field `kind` (101 dense, 102 sparse).
 */
function writeEntryHead(w: WireWriter, name: string, kind: 101 | 102, entry: number, vector: number, body: number): void {
  w.tag(1, LEN);
  w.varint(entry);
  w.string(1, name);
  w.tag(2, LEN);
  w.varint(vector);
  w.tag(kind, LEN);
  w.varint(body);
}

interface VectorSizes {
  vectors: number;
  named: number;
  denseEntry: number;
  denseVector: number;
  denseBody: number;
  sparseEntry: number;
  sparseVector: number;
  sparseBody: number;
  /** The whole `vectors` field, tag and length included. */
  field: number;
}

function vectorSizes(point: PointToWrite): VectorSizes {
  const { dense, sparse } = point;
  const denseBody = dense.length > 0 ? fieldSize(dense.length * 4) : 0;
  let indexBytes = 0;
  for (const index of sparse.indices) indexBytes += varintSize(index >>> 0);
  const sparseBody = (sparse.values.length > 0 ? fieldSize(sparse.values.length * 4) : 0) + (sparse.indices.length > 0 ? fieldSize(indexBytes) : 0);
  const denseVector = vectorSize(denseBody);
  const sparseVector = vectorSize(sparseBody);
  const denseEntry = entrySize(VECTOR_NAMES.dense, denseVector);
  const sparseEntry = entrySize(VECTOR_NAMES.sparse, sparseVector);
  const named = fieldSize(denseEntry) + fieldSize(sparseEntry);
  const vectors = fieldSize(named);
  return { vectors, named, denseEntry, denseVector, denseBody, sparseEntry, sparseVector, sparseBody, field: fieldSize(vectors) };
}

/** The point's id (field 1) and payload (field 3), written to `w` from its start. */
function writeHead(w: WireWriter, point: PointToWrite): void {
  w.pos = 0;
  w.tag(1, LEN);
  const id = w.begin();
  if (/^\d+$/.test(point.id)) {
    w.tag(1, VARINT);
    w.varint64(BigInt(point.id));
  } else {
    w.string(2, point.id);
  }
  w.end(id);
  writeFields(w, 3, point.payload);
}

/** Where a point's id and payload are written before they are copied into the request (reused). */
let head: WireWriter | undefined;

/** Writers of requests answered already, kept for the next ones: as many as requests in flight at once. */
const idleWriters: WireWriter[] = [];
const MAX_IDLE_WRITERS = 4;

/** A gRPC frame of a request, in a buffer that `release` hands back for the next request to be written into. */
export interface UpsertFrame {
  readonly bytes: Uint8Array;
  /** Call once the request has been answered, never while its bytes may still be sent. */
  release(): void;
}

/**
 * One upsert request as the bytes of its gRPC frame: the envelope's head (no compression, the message's
 * length) and the `UpsertPoints` message (collection_name 1, wait 2, then each point as a `points` field 3),
 * written into one buffer reused from request to request.
 *
 * Encoded by the client, a request of 128 points at 3,072 dimensions (1.6 MB) is written three times:
 * protobuf's writer grows its buffer by doubling and copies it once more at the end, and connect copies it
 * into its envelope. Every copy is a new buffer, and V8 counts each one against its old generation until a
 * full collection frees it. Written here, a worker upserting at full speed allocates nothing large for it.
 */
export function encodeUpsertFrame(collection: string, points: readonly PointToWrite[]): UpsertFrame {
  head ??= new WireWriter(4_096);
  const h = head;
  const w = idleWriters.pop() ?? new WireWriter(64 * 1024);
  w.pos = 0;
  // The envelope's head: the flags byte, then the message's length, filled in at the end.
  w.ensure(5);
  w.buf[0] = 0;
  w.pos = 5;
  w.string(1, collection);
  w.tag(2, VARINT);
  w.varint(1);
  for (const point of points) {
    writeHead(h, point);
    const sizes = vectorSizes(point);
    const body = h.pos + sizes.field;
    w.tag(3, LEN);
    w.varint(body);
    w.ensure(body);
    const start = w.pos;
    w.buf.set(h.buf.subarray(0, h.pos), w.pos);
    w.pos += h.pos;
    writeVectors(w, point, sizes);
    if (w.pos - start !== body) throw new Error(`point ${point.id}: wrote ${w.pos - start} bytes, computed ${body}`);
  }
  w.buf.writeUInt32BE(w.pos - 5, 1);
  let released = false;
  return {
    bytes: w.buf.subarray(0, w.pos),
    release: () => {
      if (released) return;
      released = true;
      if (idleWriters.length < MAX_IDLE_WRITERS) idleWriters.push(w);
    },
  };
}
