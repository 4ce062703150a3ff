import { decodeBase64Embedding, encodeBase64Embedding, toFloat32 } from './embedding-encoding';

describe(encodeBase64Embedding.name, () => {
  it('round-trips float32 vectors exactly', () => {
    const vector = toFloat32([0.1, -0.25, 1e-7, 3.4e38, 0]);
    expect(decodeBase64Embedding(encodeBase64Embedding(vector))).toEqual(vector);
  });

  it('writes little-endian float32 bytes', () => {
    // 1.0f is 0x3f800000, little-endian 00 00 80 3f.
    expect(Buffer.from(encodeBase64Embedding([1]), 'base64')).toEqual(Buffer.from([0x00, 0x00, 0x80, 0x3f]));
  });

  it('decodes what the openai SDK decodes: a Float32Array over the same bytes', () => {
    const vector = toFloat32([0.5, -1.5, 2.25]);
    const bytes = Buffer.from(encodeBase64Embedding(vector), 'base64');
    const sdkView = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(Array.from(sdkView)).toEqual(vector);
  });
});

describe(decodeBase64Embedding.name, () => {
  it('rejects a byte count that is not a whole number of floats', () => {
    expect(() => decodeBase64Embedding(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(RangeError);
  });
});
