import { servedRows } from './serving';

describe('servedRows', () => {
  it('is every active row when the points cover them and no sample says otherwise', () => {
    expect(servedRows(10, { active: 10, embeddedPending: 0 })).toBe(10);
    // Points of rows replaced by a run that activated, not deleted yet: more points than rows.
    expect(servedRows(14, { active: 10, embeddedPending: 0 })).toBe(10);
    expect(servedRows(10, { active: 10, embeddedPending: 0 }, { rows: 10, found: 10 })).toBe(10);
  });

  it('is none when the collection is missing', () => {
    expect(servedRows(null, { active: 10, embeddedPending: 0 })).toBe(0);
    expect(servedRows(null, { active: 0, embeddedPending: 0 })).toBe(0);
  });

  it('does not take the points of embedded pending rows for those of active rows', () => {
    // The rebuild after a loss: as many new points as the rows they will replace, written before activation.
    expect(servedRows(10, { active: 10, embeddedPending: 10 })).toBe(0);
    // A partial loss while a run that changes three rows has written their points.
    expect(servedRows(11, { active: 10, embeddedPending: 3 })).toBe(8);
    // A normal run on a whole index: its points come on top of the active rows'.
    expect(servedRows(13, { active: 10, embeddedPending: 3 })).toBe(10);
    expect(servedRows(2, { active: 10, embeddedPending: 3 })).toBe(0);
  });

  it('brings the figure below the active rows, in proportion, when sampled rows have no point', () => {
    // The points of a batch just written, before its rows are marked embedded, hide the loss from the counts.
    expect(servedRows(10, { active: 10, embeddedPending: 0 }, { rows: 10, found: 0 })).toBe(0);
    expect(servedRows(1000, { active: 1000, embeddedPending: 0 }, { rows: 64, found: 32 })).toBe(500);
    // One point missing of the sample is always below the active rows, however many there are.
    expect(servedRows(100_000, { active: 100_000, embeddedPending: 0 }, { rows: 64, found: 63 })).toBeLessThan(100_000);
    expect(servedRows(64, { active: 64, embeddedPending: 0 }, { rows: 64, found: 63 })).toBe(63);
    // The counts' figure stands when it is lower.
    expect(servedRows(5, { active: 10, embeddedPending: 0 }, { rows: 10, found: 9 })).toBe(5);
  });
});
