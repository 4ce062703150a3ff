import { decodeHexVector, decodeVector, toSql } from './pgvector-source';

/** pgvector's binary form of `values`: uint16 dimensions, uint16 unused, big-endian float4s. */
function vectorSend(values: number[]): Buffer {
  const buffer = Buffer.alloc(4 + 4 * values.length);
  buffer.writeUInt16BE(values.length, 0);
  values.forEach((v, i) => buffer.writeFloatBE(v, 4 + 4 * i));
  return buffer;
}

describe(decodeVector.name, () => {
  const values = [1.5, -2, 0.25, Math.fround(0.1), Math.fround(-3.4e38), Math.fround(1e-40)];

  it('reads pgvector’s binary form exactly, as bytes or as their hex text', () => {
    expect(Array.from(decodeVector(vectorSend(values)))).toEqual(values);
    expect(Array.from(decodeHexVector(vectorSend(values).toString('hex')))).toEqual(values);
  });

  it('writes a vector as pgvector’s text that reads back as the same float32s', () => {
    expect(toSql(decodeVector(vectorSend(values))).slice(1, -1).split(',').map(Number).map(Math.fround)).toEqual(values);
  });
});
