import { decodeBase64Vectors, readEmbeddingsAnswer, toNumberArray } from './vector-decoding';

const encode = (values: number[]): string => Buffer.from(new Float32Array(values).buffer).toString('base64');

describe(decodeBase64Vectors.name, () => {
  it('decodes little-endian float32 base64 into Float32Arrays of the given size, in order', () => {
    const a = [0.5, -1.25, 3.1415927, 0];
    const b = [1e-7, 2, -0.333, 42];
    const decoded = decodeBase64Vectors([encode(a), encode(b)], 4);

    expect(Array.isArray(decoded)).toBe(true);
    const [va, vb] = decoded as Float32Array[];
    expect(va).toBeInstanceOf(Float32Array);
    expect(Array.from(va!)).toEqual(a.map(Math.fround));
    expect(Array.from(vb!)).toEqual(b.map(Math.fround));
  });

  it('gives each vector its own values even though they share one buffer', () => {
    const [va, vb] = decodeBase64Vectors([encode([1, 2]), encode([3, 4])], 2) as Float32Array[];
    va![0] = 9;
    expect(Array.from(vb!)).toEqual([3, 4]);
    expect(va!.length).toBe(2);
  });

  it('reports the size found when an embedding does not hold the expected number of floats', () => {
    expect(decodeBase64Vectors([encode([1, 2, 3, 4]), encode([1, 2, 3])], 4)).toEqual({ mismatch: 3 });
    expect(decodeBase64Vectors([encode(new Array<number>(16).fill(1))], 4)).toEqual({ mismatch: 16 });
  });
});

describe(toNumberArray.name, () => {
  it('copies a Float32Array into numbers and hands a list of numbers back as it is', () => {
    const list = [1, 2];
    expect(toNumberArray(list)).toBe(list);
    expect(toNumberArray(new Float32Array([0.5, 1.5]))).toEqual([0.5, 1.5]);
  });
});

describe(readEmbeddingsAnswer.name, () => {
  const answer = (embeddings: unknown[], indent?: number): Buffer =>
    Buffer.from(
      JSON.stringify(
        {
          object: 'list',
          data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
          model: 'text-embedding-3-large',
          usage: { prompt_tokens: 7, total_tokens: 7 },
        },
        null,
        indent,
      ),
    );

  it('decodes the base64 embeddings of the body into Float32Arrays and reads the rest of the document', () => {
    for (const indent of [undefined, 2]) {
      const read = readEmbeddingsAnswer(answer([encode([1, 2, 3]), encode([-0.5, 0.25, 8])], indent), 3);
      expect(read.usage).toEqual({ prompt_tokens: 7, total_tokens: 7 });
      expect(read.data.map((d) => d.index)).toEqual([0, 1]);
      expect(read.data.map((d) => d.embedding)).toEqual([new Float32Array([1, 2, 3]), new Float32Array([-0.5, 0.25, 8])]);
    }
  });

  it('keeps each embedding with its own item when the server orders the keys otherwise', () => {
    const body = Buffer.from(
      `{"data":[{"embedding":"${encode([5, 6])}","index":1,"object":"embedding"},{"index":0,"embedding":"${encode([7, 8])}"}],"usage":{"total_tokens":3}}`,
    );
    const read = readEmbeddingsAnswer(body, 2);
    expect(read.data).toEqual([
      { embedding: new Float32Array([5, 6]), index: 1, object: 'embedding' },
      { index: 0, embedding: new Float32Array([7, 8]) },
    ]);
  });

  it('hands back lists of numbers, escaped text and vectors of another size as the server sent them', () => {
    expect(readEmbeddingsAnswer(answer([[0.5, 1], [2, 3]]), 2).data.map((d) => d.embedding)).toEqual([[0.5, 1], [2, 3]]);
    const escaped = encode([1, 2]).replace(/\//g, '\\/');
    const slashes = Buffer.from(`{"data":[{"index":0,"embedding":"${escaped}\\/AAAA"}]}`);
    expect(readEmbeddingsAnswer(slashes, 2).data[0]!.embedding).toBe(`${encode([1, 2])}/AAAA`);
    expect(readEmbeddingsAnswer(answer([encode([1, 2, 3])]), 2).data[0]!.embedding).toBe(encode([1, 2, 3]));
  });

  it('counts the padding of a base64 embedding when it checks the size', () => {
    // One float is 4 bytes, 8 characters ending in "=="; two are 8 bytes, 12 characters ending in "=".
    expect(encode([1])).toMatch(/==$/);
    expect(encode([1, 2])).toMatch(/[^=]=$/);
    expect(readEmbeddingsAnswer(answer([encode([1]), encode([-2])]), 1).data.map((d) => d.embedding)).toEqual([new Float32Array([1]), new Float32Array([-2])]);
    expect(readEmbeddingsAnswer(answer([encode([1, 2]), encode([3, 4])]), 2).data.map((d) => d.embedding)).toEqual([new Float32Array([1, 2]), new Float32Array([3, 4])]);
    expect(readEmbeddingsAnswer(answer([encode([1, 2]), encode([3])]), 2).data.map((d) => d.embedding)).toEqual([encode([1, 2]), encode([3])]);
    expect(readEmbeddingsAnswer(answer([encode([1, 2])]), 1).data[0]!.embedding).toBe(encode([1, 2]));
    expect(readEmbeddingsAnswer(answer([encode([1])]), 2).data[0]!.embedding).toBe(encode([1]));
  });

  it('rejects a body that is not JSON', () => {
    expect(() => readEmbeddingsAnswer(Buffer.from('{"data":[{"embedding":"AAAA"'), 1)).toThrow(SyntaxError);
  });
});
