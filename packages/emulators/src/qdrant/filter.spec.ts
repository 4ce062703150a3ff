import { compileFilter, valuesAt, type FilterTarget } from './filter';
import { QdrantError } from './qdrant-error';

const point = (id: number | string, payload: Record<string, unknown>): FilterTarget => ({ id, payload });
const matches = (filter: unknown, target: FilterTarget): boolean => compileFilter(filter)(target);

const orders = point(1, {
  tenant: 'acme',
  kind: 'table',
  rows: 120,
  active: true,
  tags: ['sales', 'core'],
  table: { schema: 'sales', columns: [{ name: 'id', type: 'int' }, { name: 'total', type: 'numeric' }] },
  note: null,
  empty: [],
});

describe(compileFilter.name, () => {
  it('accepts every point when there is no filter', () => {
    expect(matches(undefined, orders)).toBe(true);
    expect(matches(null, orders)).toBe(true);
    expect(matches({}, orders)).toBe(true);
  });

  it('matches keyword, integer and bool values strictly by type', () => {
    expect(matches({ must: [{ key: 'tenant', match: { value: 'acme' } }] }, orders)).toBe(true);
    expect(matches({ must: { key: 'rows', match: { value: 120 } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'rows', match: { value: '120' } } }, orders)).toBe(false);
    expect(matches({ must: { key: 'active', match: { value: true } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'active', match: { value: 'true' } } }, orders)).toBe(false);
  });

  it('matches a payload array when any element matches', () => {
    expect(matches({ must: { key: 'tags', match: { value: 'core' } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'tags', match: { any: ['hr', 'sales'] } } }, orders)).toBe(true);
  });

  it('matches nothing with an empty any list or an empty should list', () => {
    expect(matches({ must: { key: 'tenant', match: { any: [] } } }, orders)).toBe(false);
    expect(matches({ should: [] }, orders)).toBe(false);
  });

  it('matches except when some value lies outside the list', () => {
    expect(matches({ must: { key: 'kind', match: { except: ['column'] } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'kind', match: { except: ['table'] } } }, orders)).toBe(false);
  });

  it('walks dotted keys into nested objects and arrays of objects', () => {
    expect(matches({ must: { key: 'table.schema', match: { value: 'sales' } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'table.columns.name', match: { value: 'total' } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'table.columns[].type', match: { value: 'int' } } }, orders)).toBe(true);
  });

  it('applies ranges to numbers only', () => {
    expect(matches({ must: { key: 'rows', range: { gt: 100, lte: 120 } } }, orders)).toBe(true);
    expect(matches({ must: { key: 'rows', range: { lt: 120 } } }, orders)).toBe(false);
    expect(matches({ must: { key: 'tenant', range: { gte: 0 } } }, orders)).toBe(false);
  });

  it('fails every condition on a missing field except is_empty', () => {
    const missing = { key: 'absent' };
    expect(matches({ must: { ...missing, match: { value: 'x' } } }, orders)).toBe(false);
    expect(matches({ must: { ...missing, match: { except: ['x'] } } }, orders)).toBe(false);
    expect(matches({ must: { ...missing, range: { gte: 0 } } }, orders)).toBe(false);
    expect(matches({ must: { is_null: missing } }, orders)).toBe(false);
    expect(matches({ must: { is_empty: missing } }, orders)).toBe(true);
  });

  it('treats null and empty arrays as empty and only null as null', () => {
    expect(matches({ must: { is_empty: { key: 'note' } } }, orders)).toBe(true);
    expect(matches({ must: { is_empty: { key: 'empty' } } }, orders)).toBe(true);
    expect(matches({ must: { is_empty: { key: 'tags' } } }, orders)).toBe(false);
    expect(matches({ must: { is_null: { key: 'note' } } }, orders)).toBe(true);
    expect(matches({ must: { is_null: { key: 'empty' } } }, orders)).toBe(false);
  });

  it('selects points by id, normalising UUIDs', () => {
    const uuidPoint = point('3f2504e0-4f89-41d3-9a0c-0305e82c3301', {});
    expect(matches({ must: { has_id: [1, 2] } }, orders)).toBe(true);
    expect(matches({ must: { has_id: ['3F2504E04F8941D39A0C0305E82C3301'] } }, uuidPoint)).toBe(true);
    expect(matches({ must_not: { has_id: [1] } }, orders)).toBe(false);
  });

  it('combines must, should, must_not, min_should and filters nested as conditions', () => {
    const filter = {
      must: [{ key: 'tenant', match: { value: 'acme' } }],
      must_not: [{ key: 'kind', match: { value: 'column' } }],
      should: [{ should: [{ key: 'tags', match: { value: 'hr' } }, { key: 'rows', range: { gte: 100 } }] }],
      min_should: { conditions: [{ key: 'active', match: { value: true } }, { key: 'tags', match: { value: 'core' } }], min_count: 2 },
    };
    expect(matches(filter, orders)).toBe(true);
    expect(matches({ ...filter, min_should: { ...filter.min_should, min_count: 3 } }, orders)).toBe(false);
  });

  it('requires all nested conditions to hold for the same array element', () => {
    const nested = (name: string, type: string): unknown => ({
      must: { nested: { key: 'table.columns', filter: { must: [{ key: 'name', match: { value: name } }, { key: 'type', match: { value: type } }] } } },
    });
    expect(matches(nested('id', 'int'), orders)).toBe(true);
    expect(matches(nested('id', 'numeric'), orders)).toBe(false);
  });

  it('rejects unknown filter keys and malformed conditions with a 400', () => {
    expect(() => compileFilter({ must: [], filter: {} })).toThrow(/unknown field `filter`/);
    expect(() => compileFilter({ must: [{ bogus: 1 }] })).toThrow(QdrantError);
    expect(() => compileFilter({ must: [{ key: 'a', match: { value: 1.5 } }] })).toThrow(QdrantError);
    expect(() => compileFilter({ must: [{ key: 'a', match: { any: ['x', 1] } }] })).toThrow(QdrantError);
    try {
      compileFilter({ nope: [] });
    } catch (err) {
      expect((err as QdrantError).status).toBe(400);
    }
  });
});

describe(`${compileFilter.name} beyond match`, () => {
  it('counts values with null and [] as zero, a missing field failing', () => {
    const under2 = { must: [{ key: 'f', values_count: { lt: 2 } }] };
    expect(matches(under2, point(1, { f: 'x' }))).toBe(true);
    expect(matches(under2, point(2, { f: ['x', 'y'] }))).toBe(false);
    expect(matches(under2, point(3, { f: null }))).toBe(true);
    expect(matches(under2, point(4, { f: [] }))).toBe(true);
    expect(matches(under2, point(5, {}))).toBe(false);
  });

  it('compares datetime ranges across zones and refuses unknown formats', () => {
    const at = point(1, { t: '2015-02-01T08:00:00+02:00' });
    expect(matches({ must: [{ key: 't', range: { gte: '2015-02-01T06:00', lte: '2015-02-01 06:00:00Z' } }] }, at)).toBe(true);
    expect(matches({ must: [{ key: 't', range: { gt: '2015-02-01T06:00:00Z' } }] }, at)).toBe(false);
    expect(() => compileFilter({ must: [{ key: 't', range: { gte: '20150201' } }] })).toThrow(QdrantError);
  });

  it('negates is_null and is_empty given as false on a field condition', () => {
    expect(matches({ must: [{ key: 'note', is_null: false }] }, orders)).toBe(false);
    expect(matches({ must: [{ key: 'tags', is_empty: false }] }, orders)).toBe(true);
    expect(matches({ must: [{ key: 'empty', is_empty: false }] }, orders)).toBe(false);
  });

  it('checks has_vector against the names of the point vectors', () => {
    const target = { ...point(1, {}), vectors: { dense: new Map([['dense', 1]]), sparse: new Map() } };
    expect(matches({ must: [{ has_vector: 'dense' }] }, target)).toBe(true);
    expect(matches({ must: [{ has_vector: 'terms' }] }, target)).toBe(false);
  });
});

describe(valuesAt.name, () => {
  it('opens a final array and ignores missing branches', () => {
    expect(valuesAt({ a: [{ b: [1, 2] }, { c: 3 }, { b: 4 }] }, 'a.b')).toEqual([1, 2, 4]);
  });
});
