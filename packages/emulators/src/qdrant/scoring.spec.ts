import { float32Json, normalize, passesThreshold, prepareVector, score } from './scoring';

describe(score.name, () => {
  it('scores Cosine as the dot product of unit vectors, kept as float32 as Qdrant keeps them', () => {
    const stored = prepareVector('Cosine', [3, 4]);
    expect(stored[0]).toBe(Math.fround(0.6));
    expect(stored[1]).toBe(Math.fround(0.8));
    expect(score('Cosine', stored, [6, 8])).toBeCloseTo(1, 6);
    expect(score('Cosine', stored, [-4, 3])).toBeCloseTo(0, 6);
  });

  it('stores a vector sent as doubles as the same floats as when it was sent as float32', () => {
    const doubles = [0.1, 0.2, 0.30000000000000004, -0.7];
    expect(prepareVector('Cosine', doubles)).toEqual(prepareVector('Cosine', Array.from(Float32Array.from(doubles))));
    expect(prepareVector('Dot', doubles)).toEqual(Float64Array.from(Float32Array.from(doubles)));
  });

  it('scores Dot on the raw vectors', () => {
    expect(score('Dot', prepareVector('Dot', [1, 2, 3]), [4, 5, 6])).toBe(32);
  });

  it('scores Euclid and Manhattan as distances', () => {
    expect(score('Euclid', [0, 0], [3, 4])).toBe(5);
    expect(score('Manhattan', [0, 0], [3, -4])).toBe(7);
  });
});

describe(normalize.name, () => {
  it('leaves a zero vector alone rather than dividing by zero', () => {
    expect(normalize([0, 0, 0])).toEqual([0, 0, 0]);
  });
});

describe(passesThreshold.name, () => {
  it('keeps scores at or above the threshold for similarities and at or below it for distances', () => {
    expect(passesThreshold('Cosine', 0.8, 0.7)).toBe(true);
    expect(passesThreshold('Dot', 0.6, 0.7)).toBe(false);
    expect(passesThreshold('Euclid', 0.6, 0.7)).toBe(true);
    expect(passesThreshold('Manhattan', 0.8, 0.7)).toBe(false);
  });
});

describe(float32Json.name, () => {
  it('writes a float32 as the shortest decimal that reads back as it, as Qdrant\'s JSON does', () => {
    expect(float32Json(Math.fround(0.15))).toBe(0.15);
    expect(float32Json(Math.SQRT1_2)).toBe(0.70710677);
    expect(float32Json(1 / 3)).toBe(0.33333334);
    expect(float32Json(2)).toBe(2);
    for (let i = 0; i < 1000; i++) {
      const f = Math.fround(Math.sin(i) * 10 ** ((i % 9) - 4));
      expect(Math.fround(float32Json(f))).toBe(f);
    }
  });
});
