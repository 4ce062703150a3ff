import { summarizeDrifts, type CatalogDrift } from './reconcile.service';

const drift = (status: CatalogDrift['status'], counts: Partial<CatalogDrift> = {}): CatalogDrift => ({
  catalogId: `c-${Math.random()}`,
  status,
  rows: 0,
  points: 0,
  orphanPoints: 0,
  missingPoints: 0,
  strayPending: 0,
  outboxDeleted: 0,
  needsReindex: false,
  ...counts,
});

describe(summarizeDrifts.name, () => {
  it('sums the drift of every catalog and counts the busy ones and the deleted ones that left something', () => {
    const summary = summarizeDrifts([
      drift('repaired', { orphanPoints: 2, missingPoints: 1, strayPending: 3, outboxDeleted: 4 }),
      drift('repaired', { orphanPoints: 5, outboxDeleted: 1 }),
      drift('busy'),
      drift('deleted', { rows: 2, points: 3, orphanPoints: 3 }),
      drift('deleted', { rows: 1 }),
      drift('deleted'),
    ]);
    expect(summary).toEqual({ catalogs: 6, busy: 1, deletedCatalogs: 2, orphanPoints: 10, missingPoints: 1, strayPending: 3, outboxDeleted: 5 });
  });

  it('counts as deleted only deleted catalogs, not live ones with rows and points', () => {
    const summary = summarizeDrifts([drift('repaired', { rows: 4, points: 4 }), drift('busy', { rows: 1, points: 1 }), drift('deleted', { points: 1 })]);
    expect(summary.deletedCatalogs).toBe(1);
  });

  it('reports nothing for no catalogs', () => {
    expect(summarizeDrifts([])).toEqual({ catalogs: 0, busy: 0, deletedCatalogs: 0, orphanPoints: 0, missingPoints: 0, strayPending: 0, outboxDeleted: 0 });
  });
});
