import { decodeBase64Vectors, toNumberArray } from './vector-decoding';

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
