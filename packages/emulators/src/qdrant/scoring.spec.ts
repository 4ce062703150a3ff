import { normalize, passesThreshold, prepareVector, score } from './scoring';

describe(score.name, () => {
  it('scores Cosine as the dot product of unit vectors', () => {
    const stored = prepareVector('Cosine', [3, 4]);
    expect(stored[0]).toBeCloseTo(0.6, 12);
    expect(stored[1]).toBeCloseTo(0.8, 12);
    expect(score('Cosine', stored, [6, 8])).toBeCloseTo(1, 12);
    expect(score('Cosine', stored, [-4, 3])).toBeCloseTo(0, 12);
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
