import { type Chunk } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { CatalogReadings, type StoredCatalog } from './catalog-readings';

const stored = (id: string, version = 1, updatedAt = new Date('2026-01-01T00:00:00Z'), document: Record<string, unknown> = shopCatalog): StoredCatalog => ({
  id,
  version,
  updatedAt,
  document,
});

const none: ReadonlySet<string> = new Set();

describe('CatalogReadings', () => {
  it('chunks a stored version once and serves the same chunks again for the same rejected keys in any order', () => {
    const readings = new CatalogReadings();
    const a = stored('a');
    const all = readings.chunks(a, none);
    expect(all.length).toBeGreaterThan(10);
    expect(readings.chunks(stored('a'), new Set())).toBe(all);

    const rejected = ['sales.orders', 'sales.customers'];
    const without = readings.chunks(a, new Set(rejected));
    expect(without).not.toBe(all);
    expect(without.length).toBeLessThan(all.length);
    // Nothing of a rejected table is left, and what is left was there before.
    const touches = (c: Chunk) =>
      rejected.includes(`${c.metadata.schema}.${c.metadata.table}`) || rejected.includes(`${c.metadata.referencedSchema}.${c.metadata.referencedTable}`);
    expect(all.filter(touches).length).toBeGreaterThan(0);
    expect(without.filter(touches)).toEqual([]);
    const allKeys = new Set(all.map((c) => c.key));
    expect(without.every((c) => allKeys.has(c.key))).toBe(true);
    // The same set, listed the other way round, is the same reading.
    expect(readings.chunks(a, new Set([...rejected].reverse()))).toBe(without);
    // Back to no rejected key: chunked afresh, with every chunk again.
    const again = readings.chunks(a, none);
    expect(again).not.toBe(without);
    expect(again.map((c) => c.key)).toEqual(all.map((c) => c.key));
  });

  it('serves chunks already made by the stamp alone, and nothing for a version, a change or rejected keys not chunked', () => {
    const readings = new CatalogReadings();
    const stamp = { id: 'a', version: 1, updatedAt: new Date('2026-01-01T00:00:00Z') };
    expect(readings.cachedChunks(stamp, none)).toBeUndefined();
    const all = readings.chunks(stored('a'), none);
    expect(readings.cachedChunks(stamp, new Set())).toBe(all);
    expect(readings.cachedChunks(stamp, new Set(['sales.orders']))).toBeUndefined();
    expect(readings.cachedChunks({ ...stamp, version: 2 }, none)).toBeUndefined();
    expect(readings.cachedChunks({ ...stamp, updatedAt: new Date('2026-01-02T00:00:00Z') }, none)).toBeUndefined();
    expect(readings.cachedChunks({ ...stamp, id: 'b' }, none)).toBeUndefined();
    // A version whose vocabulary alone was read has no chunks to serve yet.
    readings.vocabulary(stored('c'));
    expect(readings.cachedChunks({ ...stamp, id: 'c' }, none)).toBeUndefined();
  });

  it('computes the vocabulary once per stored version', () => {
    const readings = new CatalogReadings();
    const vocabulary = readings.vocabulary(stored('a'));
    expect(vocabulary.size).toBeGreaterThan(10);
    expect(vocabulary.has('orders')).toBe(true);
    expect(readings.vocabulary(stored('a'))).toBe(vocabulary);
    expect(readings.vocabulary(stored('b'))).not.toBe(vocabulary);
  });

  it('never serves a replaced document: another version or another last change is read again', () => {
    const readings = new CatalogReadings();
    const first = readings.chunks(stored('a', 1), none);
    const renamed = { ...shopCatalog, documents: [], examples: [] } as unknown as Record<string, unknown>;
    const nextVersion = readings.chunks(stored('a', 2, undefined, renamed), none);
    expect(nextVersion.length).toBeLessThan(first.length);
    const sameVersionLaterChange = readings.chunks(stored('a', 1, new Date('2026-01-02T00:00:00Z'), renamed), none);
    expect(sameVersionLaterChange).not.toBe(first);
    expect(sameVersionLaterChange.map((c) => c.key)).toEqual(nextVersion.map((c) => c.key));
  });

  it('keeps the most recently used catalogs up to its capacity and reads an evicted one again', () => {
    const readings = new CatalogReadings(2);
    const a = readings.chunks(stored('a'), none);
    const b = readings.chunks(stored('b'), none);
    // a used again: b is now the oldest.
    expect(readings.chunks(stored('a'), none)).toBe(a);
    readings.chunks(stored('c'), none);
    expect(readings.chunks(stored('a'), none)).toBe(a);
    const bAgain = readings.chunks(stored('b'), none);
    expect(bAgain).not.toBe(b);
    expect(bAgain.map((x) => x.key)).toEqual(b.map((x) => x.key));
    // Reading b again evicted c (a was used after c), not a.
    expect(readings.chunks(stored('a'), none)).toBe(a);
  });

  it('holds two catalogs when not told otherwise', () => {
    const readings = new CatalogReadings();
    const a = readings.chunks(stored('a'), none);
    readings.chunks(stored('b'), none);
    expect(readings.chunks(stored('a'), none)).toBe(a);
    readings.chunks(stored('b'), none);
    readings.chunks(stored('c'), none);
    expect(readings.chunks(stored('a'), none)).not.toBe(a);
  });
});
