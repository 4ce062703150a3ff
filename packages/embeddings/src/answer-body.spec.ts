import { idleBodyBuffers, readBody } from './answer-body';

/** A response whose body arrives in the given chunks, with or without its length declared. */
function answer(chunks: Buffer[], declareLength: boolean): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
      controller.close();
    },
  });
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  return new Response(body, { headers: declareLength ? { 'content-length': String(length) } : {} });
}

/** `size` bytes of a seeded pattern, cut into chunks of `chunk` bytes. */
function pieces(size: number, chunk: number, seed: number): { whole: Buffer; chunks: Buffer[] } {
  const whole = Buffer.alloc(size);
  for (let i = 0; i < size; i++) whole[i] = (i * 31 + seed) & 0xff;
  const chunks: Buffer[] = [];
  for (let at = 0; at < size; at += chunk) chunks.push(whole.subarray(at, at + chunk));
  return { whole, chunks };
}

describe(readBody.name, () => {
  it('hands over exactly the bytes of the body, declared or not, however it was cut', async () => {
    for (const [size, chunk, declared] of [
      [0, 1, true],
      [10, 3, true],
      [200_000, 65_536, false],
      [1_000_000, 10_000, true],
      [70_000, 70_000, false],
    ] as const) {
      const { whole, chunks } = pieces(size, chunk, size);
      const read = await readBody(answer(chunks, declared), (body) => Buffer.from(body));
      expect(read.equals(whole)).toBe(true);
    }
  });

  it('reads the next answer into the buffer the last one used, and keeps only a few buffers', async () => {
    const first = pieces(300_000, 65_536, 1);
    const second = pieces(100_000, 4_096, 2);
    let firstBuffer: ArrayBufferLike | undefined;
    await readBody(answer(first.chunks, false), (body) => {
      firstBuffer = body.buffer;
    });
    const seen = await readBody(answer(second.chunks, true), (body) => ({ buffer: body.buffer, bytes: Buffer.from(body) }));
    // The smaller answer fits into the buffer the larger one grew: no new buffer.
    expect(seen.buffer).toBe(firstBuffer);
    expect(seen.bytes.equals(second.whole)).toBe(true);
    // Answers read at once each get their own buffer; no more than two are kept afterwards.
    const many = await Promise.all(
      [3, 4, 5, 6].map((seed) => {
        const { whole, chunks } = pieces(50_000, 8_192, seed);
        return readBody(answer(chunks, seed % 2 === 0), (body) => Buffer.from(body).equals(whole));
      }),
    );
    expect(many).toEqual([true, true, true, true]);
    expect(idleBodyBuffers()).toBe(2);
  });

  it('gives the buffer back when the reader of the bytes throws, and passes the error on', async () => {
    const { chunks } = pieces(1_000, 100, 9);
    await readBody(answer(chunks, true), () => undefined);
    const idle = idleBodyBuffers();
    expect(idle).toBeGreaterThan(0);
    await expect(
      readBody(answer(chunks, true), () => {
        throw new Error('not an embeddings answer');
      }),
    ).rejects.toThrow('not an embeddings answer');
    expect(idleBodyBuffers()).toBe(idle);
    const again = pieces(1_000, 100, 10);
    await expect(readBody(answer(again.chunks, true), (body) => Buffer.from(body).equals(again.whole))).resolves.toBe(true);
  });
});
