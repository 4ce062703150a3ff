/** Buffers kept for the next answers once read; enough for the requests a process has in flight at once. */
const MAX_IDLE = 2;
/** First size of a buffer when the answer does not say its length. */
const INITIAL_BYTES = 64 * 1024;

/**
 * Reads a response's body into a buffer reused from one answer to the next, hands its bytes to `use` (which
 * must copy out whatever it keeps: the buffer is read into again once `use` returns) and returns what `use`
 * returned.
 *
 * At 3,072 dimensions an answer of 512 embeddings is about 8 MB. Read with `arrayBuffer()`, each answer is
 * a new 8 MB buffer gathered from the stream's chunks and copied once more; V8 counts every such buffer
 * against its old generation until a full collection frees it, so a worker embedding at full speed ran one
 * mark-compact of its whole heap per answer or so. Reused buffers are allocated once.
 */
export async function readBody<T>(response: Response, use: (body: Buffer) => T): Promise<T> {
  const declared = Number(response.headers.get('content-length'));
  const size = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
  let buffer = takeIdle(size);
  let length = 0;
  if (response.body) {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      const chunk: Uint8Array = read.value;
      if (length + chunk.byteLength > buffer.length) buffer = grow(buffer, length, length + chunk.byteLength);
      buffer.set(chunk, length);
      length += chunk.byteLength;
    }
  }
  try {
    return use(buffer.subarray(0, length));
  } finally {
    if (idle.length < MAX_IDLE) idle.push(buffer);
  }
}

const idle: Buffer[] = [];

/** The last idle buffer when it holds `size` bytes, or a new one (a smaller idle buffer is dropped). */
function takeIdle(size: number): Buffer {
  const buffer = idle.pop();
  if (!buffer) return Buffer.allocUnsafe(Math.max(size, INITIAL_BYTES));
  return buffer.length >= size ? buffer : Buffer.allocUnsafe(size);
}

/** A larger buffer holding the first `length` bytes of `buffer`, with room for `needed`. */
function grow(buffer: Buffer, length: number, needed: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
  buffer.copy(next, 0, 0, length);
  return next;
}

/** Buffers kept idle now (for tests). */
export function idleBodyBuffers(): number {
  return idle.length;
}
