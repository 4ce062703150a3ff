import { endianness } from 'node:os';
import { type DenseVector } from './embedder';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Decodes base64 embeddings (little-endian float32, as the embeddings API sends them) straight into
 * `Float32Array`s that share one buffer: no intermediate array of numbers, one allocation per response.
 * Returns `{ mismatch }` with the size found when an embedding does not hold `dimensions` floats.
 */
export function decodeBase64Vectors(encoded: readonly string[], dimensions: number): Float32Array[] | { mismatch: number } {
  const bytesPerVector = dimensions * Float32Array.BYTES_PER_ELEMENT;
  for (const text of encoded) {
    const bytes = Buffer.byteLength(text, 'base64');
    if (bytes !== bytesPerVector) return { mismatch: bytes / Float32Array.BYTES_PER_ELEMENT };
  }
  return decodeInto(encoded.length, dimensions, (i) => encoded[i]!);
}

/** `count` base64 vectors, the i-th given by `textAt(i)` and checked for size already, in one slab. */
function decodeInto(count: number, dimensions: number, textAt: (i: number) => string): Float32Array[] {
  const bytesPerVector = dimensions * Float32Array.BYTES_PER_ELEMENT;
  const slab = new Float32Array(count * dimensions);
  const target = Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength);
  const vectors: Float32Array[] = new Array<Float32Array>(count);
  for (let i = 0; i < count; i++) {
    target.write(textAt(i), i * bytesPerVector, bytesPerVector, 'base64');
    vectors[i] = slab.subarray(i * dimensions, (i + 1) * dimensions);
  }
  if (!LITTLE_ENDIAN_HOST) {
    const view = new DataView(slab.buffer);
    for (let i = 0; i < slab.length; i++) slab[i] = view.getFloat32(i * 4, true);
  }
  return vectors;
}

/** A vector as a plain array of numbers (a JSON body, a query), copying only when it is a `Float32Array`. */
export function toNumberArray(vector: DenseVector): number[] {
  return Array.isArray(vector) ? vector : Array.from(vector);
}

/** An embeddings answer as the product reads it: each embedding decoded already, or as the server sent it. */
export interface EmbeddingsAnswer {
  data: { index: number; embedding: unknown }[];
  usage?: { total_tokens?: number };
}

const EMBEDDING_KEY = Buffer.from('"embedding"');
const QUOTE = 0x22;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

/**
 * Reads an embeddings answer from its bytes. Each base64 embedding is decoded from the body straight into
 * one `Float32Array` slab ({@link decodeBase64Spans}), and only the rest of the document (indexes, model,
 * usage: a few hundred bytes) goes through `JSON.parse`: the body is never decoded as one UTF-8 string and
 * parsed whole (at 3,072 dimensions an answer of 512 vectors is about 8 MB of base64). A body it does not
 * recognize (embeddings as lists of numbers, an escape inside an embedding, vectors of another size) is
 * parsed whole, its embeddings left as they came for the caller to check.
 */
export function readEmbeddingsAnswer(body: Buffer, dimensions: number): EmbeddingsAnswer {
  const spans: [number, number][] = [];
  const rest: Buffer[] = [];
  let from = 0;
  for (let at = body.indexOf(EMBEDDING_KEY); at !== -1; at = body.indexOf(EMBEDDING_KEY, at + 1)) {
    let i = skipSpace(body, at + EMBEDDING_KEY.length);
    // Not a key: the text "embedding" as a value (`"object": "embedding"`).
    if (body[i] !== COLON) continue;
    i = skipSpace(body, i + 1);
    if (body[i] !== QUOTE) return parseWhole(body);
    const start = i + 1;
    const end = body.indexOf(QUOTE, start);
    if (end === -1 || body.subarray(start, end).includes(BACKSLASH)) return parseWhole(body);
    // The document without the embeddings' text: each becomes "" and is filled in below, in order.
    rest.push(body.subarray(from, start));
    spans.push([start, end]);
    from = end;
    at = end;
  }
  rest.push(body.subarray(from));
  const answer = JSON.parse(Buffer.concat(rest).toString('utf8')) as EmbeddingsAnswer;
  const data = Array.isArray(answer?.data) ? answer.data : undefined;
  if (!data || data.length !== spans.length || !data.every((item) => item?.embedding === '')) return parseWhole(body);
  const decoded = decodeBase64Spans(body, spans, dimensions);
  data.forEach((item, i) => {
    const [start, end] = spans[i]!;
    item.embedding = decoded ? decoded[i] : body.toString('latin1', start, end);
  });
  return answer;
}

/**
 * Decodes the base64 texts at `spans` of `body` into one `Float32Array` slab, as {@link decodeBase64Vectors}
 * does, or answers null when one does not hold `dimensions` floats. Each text becomes a string only while
 * it is written into the slab: the strings of a whole answer (8 MB at 3,072 dimensions and 512 vectors)
 * are never alive together, so a young-generation collection during the decoding has almost nothing to
 * copy.
 */
function decodeBase64Spans(body: Buffer, spans: readonly [number, number][], dimensions: number): Float32Array[] | null {
  const bytesPerVector = dimensions * Float32Array.BYTES_PER_ELEMENT;
  for (const [start, end] of spans) if (base64Bytes(body, start, end) !== bytesPerVector) return null;
  return decodeInto(spans.length, dimensions, (i) => body.toString('latin1', spans[i]![0], spans[i]![1]));
}

/** The bytes the base64 text `body[start, end)` decodes to, as `Buffer.byteLength(text, 'base64')` counts them. */
function base64Bytes(body: Buffer, start: number, end: number): number {
  let length = end - start;
  if (length > 0 && body[start + length - 1] === EQUALS) length--;
  if (length > 1 && body[start + length - 1] === EQUALS) length--;
  return (length * 3) >>> 2;
}

function parseWhole(body: Buffer): EmbeddingsAnswer {
  return JSON.parse(body.toString('utf8')) as EmbeddingsAnswer;
}

/** The first position from `i` that is not JSON whitespace. */
function skipSpace(body: Buffer, i: number): number {
  while (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09) i++;
  return i;
}
