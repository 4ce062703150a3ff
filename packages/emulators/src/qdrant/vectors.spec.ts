import { parseLayout, parsePointVectors, parseSparse, sparseDot } from './vectors';

describe(parseSparse.name, () => {
  it('sorts indices with their values', () => {
    expect(parseSparse({ indices: [20, 55, 1], values: [0.6, 0.4, 0.1] }, 'v')).toEqual({ indices: [1, 20, 55], values: [0.1, 0.6, 0.4].map(Math.fround) });
  });

  it('answers 422 for duplicate indices and for values that do not match the indices', () => {
    expect(() => parseSparse({ indices: [1, 1], values: [1, 2] }, 'points[0].vector.?')).toThrow(
      'Validation error in JSON body: [points[0].vector.?.indices: Validation error: must be unique [{}]]',
    );
    expect(() => parseSparse({ indices: [1], values: [1, 2] }, 'p')).toThrow('p.values: Validation error: must be the same length as indices');
    expect(() => parseSparse({ indices: [-1], values: [1] }, 'p')).toThrow('expected u32');
  });
});

describe(parsePointVectors.name, () => {
  const layout = parseLayout({ dense: { size: 2, distance: 'Dot' } }, { terms: { modifier: 'idf' } });

  it('reads named dense and sparse vectors, any of them optional', () => {
    const v = parsePointVectors(layout, { terms: { indices: [3, 1], values: [1, 2] } }, 'v');
    expect(v.dense.size).toBe(0);
    expect(v.sparse.get('terms')).toEqual({ indices: [1, 3], values: [2, 1] });
  });

  it('rejects unknown names, a bare list without an unnamed vector and wrong sizes', () => {
    expect(() => parsePointVectors(layout, { other: [1, 2] }, 'v')).toThrow('Not existing vector name error: other');
    expect(() => parsePointVectors(layout, [1, 2], 'v')).toThrow('Not existing vector name error: ');
    expect(() => parsePointVectors(layout, { dense: [1, 2, 3] }, 'v')).toThrow('Vector dimension error: expected dim: 2, got 3');
  });
});

describe(sparseDot.name, () => {
  it('multiplies only the shared indices', () => {
    expect(sparseDot({ indices: [1, 3, 5], values: [1, 2, 3] }, { indices: [3, 4, 5], values: [10, 10, 1] })).toBe(23);
  });
});
