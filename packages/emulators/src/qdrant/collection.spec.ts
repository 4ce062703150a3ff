import { Collection } from './collection';
import { parseCreateSettings } from './collection-settings';
import { parseLayout, parsePointVectors } from './vectors';

function collection(): Collection {
  const layout = parseLayout({ size: 2, distance: 'Cosine' }, { terms: {} });
  const c = new Collection('c', layout, parseCreateSettings({}));
  c.createIndex('catalog_id', { dataType: 'keyword' });
  c.upsert(
    [
      { id: 1, payload: { catalog_id: 'a', kind: 'table' } },
      { id: 2, payload: { catalog_id: 'a', kind: 'column' } },
      { id: 3, payload: { catalog_id: ['b', 'a'], kind: 'table' } },
      { id: 4, payload: { catalog_id: 'b' } },
    ].map((p, i) => ({ ...p, vectors: parsePointVectors(layout, { '': [1, i], terms: { indices: [i, 100], values: [1, 1] } }, 'v') })),
  );
  return c;
}

const ids = (points: { id: unknown }[]): unknown[] => points.map((p) => p.id).sort();
const tenant = (value: string) => ({ key: 'catalog_id', match: { value } });

describe(Collection.name, () => {
  it('answers tenant filters from the keyword index, with the rest of the filter still applied', () => {
    const c = collection();
    expect(ids(c.select({ must: [tenant('a')] }))).toEqual([1, 2, 3]);
    expect(ids(c.select({ must: [tenant('a'), { key: 'kind', match: { value: 'table' } }] }))).toEqual([1, 3]);
    expect(ids(c.select({ must: [tenant('a')], must_not: [{ has_id: [1] }] }))).toEqual([2, 3]);
    expect(ids(c.select({ must: [{ must: [tenant('b')] }] }))).toEqual([3, 4]);
    expect(ids(c.searchDense('', [1, 0], { filter: { must: tenant('b') }, limit: 10 }).map((h) => h.point))).toEqual([3, 4]);
    expect(ids(c.searchSparse('terms', { indices: [100], values: [1] }, { filter: { must: tenant('b') }, limit: 10 }).map((h) => h.point))).toEqual([3, 4]);
  });

  it('keeps the index in step with payload updates, deletions and a dropped index', () => {
    const c = collection();
    c.updatePayloads(c.retrieve([2]), () => ({ catalog_id: 'b' }));
    c.deleteIds([1]);
    expect(ids(c.select({ must: [tenant('a')] }))).toEqual([3]);
    expect(ids(c.select({ must: [tenant('b')] }))).toEqual([2, 3, 4]);
    c.deleteIndex('catalog_id');
    expect(ids(c.select({ must: [tenant('b')] }))).toEqual([2, 3, 4]);
  });

  it('keeps sparse postings in step with overwritten vectors', () => {
    const c = collection();
    const layout = c.layout;
    c.upsert([{ id: 4, vectors: parsePointVectors(layout, { terms: { indices: [7], values: [2] } }, 'v'), payload: {} }]);
    expect(c.searchSparse('terms', { indices: [3], values: [1] }, { filter: undefined, limit: 10 })).toEqual([]);
    expect(c.searchSparse('terms', { indices: [7], values: [1] }, { filter: undefined, limit: 10 })[0]?.score).toBe(2);
    expect(c.vectorCount('terms')).toBe(4);
    expect(c.vectorCount('')).toBe(3);
  });

  it('pages in id order from any offset, with and without an indexed filter, after inserts and deletes', () => {
    const c = collection();
    expect(c.page(undefined, undefined, 3)).toMatchObject({ points: [{ id: 1 }, { id: 2 }, { id: 3 }], next: { id: 4 } });
    c.upsert([{ id: '00000000-0000-0000-0000-000000000001', vectors: { dense: new Map(), sparse: new Map() }, payload: { catalog_id: 'a' } }]);
    c.upsert([{ id: 0, vectors: { dense: new Map(), sparse: new Map() }, payload: {} }]);
    c.deleteIds([2]);
    expect(c.page(undefined, 2, 10).points.map((p) => p.id)).toEqual([3, 4, '00000000-0000-0000-0000-000000000001']);
    const tenantA = c.page({ must: [tenant('a')] }, 0, 2);
    expect(tenantA.points.map((p) => p.id)).toEqual([1, 3]);
    expect(tenantA.next?.id).toBe('00000000-0000-0000-0000-000000000001');
    expect(c.page(undefined, undefined, 1).points[0]?.id).toBe(0);
  });
});
