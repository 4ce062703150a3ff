import { createHash } from 'node:crypto';
import {
  columnKey,
  documentKey,
  exampleKey,
  isKeyRejected,
  isKeyUnder,
  parseRelationshipKey,
  quoteName,
  relationshipKey,
  schemaKey,
  splitDottedKey,
  tableKey,
} from './keys';

const ORDERS_TO_CUSTOMERS = 'fk:sales.orders(customer_id)->sales.customers(id)';

describe('item keys', () => {
  it('name schemas, tables and columns by their dotted path', () => {
    expect(schemaKey('sales')).toBe('sales');
    expect(tableKey('sales', 'orders')).toBe('sales.orders');
    expect(columnKey('sales', 'orders', 'customer_id')).toBe('sales.orders.customer_id');
  });

  it('name a foreign key by both ends and their columns', () => {
    const from = { schema: 'sales', table: 'orders', columns: ['customer_id'] };
    const to = { schema: 'sales', table: 'customers', columns: ['id'] };
    expect(relationshipKey(from, to)).toBe(ORDERS_TO_CUSTOMERS);
    expect(
      relationshipKey({ schema: 's', table: 'a', columns: ['x', 'y'] }, { schema: 't', table: 'b', columns: ['u', 'v'] }),
    ).toBe('fk:s.a(x,y)->t.b(u,v)');
  });

  it('name a document by its title', () => {
    expect(documentKey('Revenue')).toBe('doc:Revenue');
  });

  it('name an example by the first 16 hex characters of the SHA-256 of question, line break and SQL', () => {
    const digest = createHash('sha256').update('How many?\nSELECT 1').digest('hex');
    expect(exampleKey('How many?', 'SELECT 1')).toBe(`example:${digest.slice(0, 16)}`);
    expect(exampleKey('How many?', 'SELECT 1')).toMatch(/^example:[0-9a-f]{16}$/);
    expect(exampleKey('How many?', 'SELECT 2')).not.toBe(exampleKey('How many?', 'SELECT 1'));
  });
});

describe(parseRelationshipKey.name, () => {
  it('reads both ends back from a relationship key', () => {
    expect(parseRelationshipKey('fk:s.a(x,y)->t.b(u,v)')).toEqual({
      from: { schema: 's', table: 'a', columns: ['x', 'y'] },
      to: { schema: 't', table: 'b', columns: ['u', 'v'] },
    });
  });

  it('returns null for keys of other items', () => {
    expect(parseRelationshipKey('sales.orders')).toBeNull();
    expect(parseRelationshipKey('doc:Revenue')).toBeNull();
  });
});

describe(isKeyUnder.name, () => {
  it('counts a key as under itself', () => {
    expect(isKeyUnder('sales.orders', 'sales.orders')).toBe(true);
    expect(isKeyUnder('doc:Revenue', 'doc:Revenue')).toBe(true);
  });

  it('puts tables and columns under their schema and columns under their table', () => {
    expect(isKeyUnder('sales.orders', 'sales')).toBe(true);
    expect(isKeyUnder('sales.orders.customer_id', 'sales')).toBe(true);
    expect(isKeyUnder('sales.orders.customer_id', 'sales.orders')).toBe(true);
    expect(isKeyUnder('sales', 'sales.orders')).toBe(false);
  });

  it('matches whole names, not prefixes of names', () => {
    expect(isKeyUnder('sales_eu.orders', 'sales')).toBe(false);
    expect(isKeyUnder('sales.orders_2024', 'sales.orders')).toBe(false);
  });

  it('puts a relationship under every schema, table and column it touches, at either end', () => {
    for (const touched of ['sales', 'sales.orders', 'sales.customers', 'sales.orders.customer_id', 'sales.customers.id']) {
      expect(isKeyUnder(ORDERS_TO_CUSTOMERS, touched)).toBe(true);
    }
    expect(isKeyUnder(ORDERS_TO_CUSTOMERS, 'sales.orders.id')).toBe(false);
    expect(isKeyUnder(ORDERS_TO_CUSTOMERS, 'catalog')).toBe(false);
  });

  it('puts nothing under documents or examples but themselves', () => {
    expect(isKeyUnder('doc:Revenue', 'doc:Rev')).toBe(false);
    expect(isKeyUnder('sales.orders', 'doc:Revenue')).toBe(false);
  });
});

describe(isKeyRejected.name, () => {
  it('hides the descendants of a rejected schema and the relationships touching it', () => {
    const rejected = new Set(['sales']);
    expect(isKeyRejected('sales', rejected)).toBe(true);
    expect(isKeyRejected('sales.orders', rejected)).toBe(true);
    expect(isKeyRejected('sales.orders.customer_id', rejected)).toBe(true);
    expect(isKeyRejected('fk:sales.order_items(product_id)->catalog.products(id)', rejected)).toBe(true);
    expect(isKeyRejected('catalog.products', rejected)).toBe(false);
    expect(isKeyRejected('fk:catalog.products(category_id)->catalog.categories(id)', rejected)).toBe(false);
  });

  it('hides a relationship when one of its referenced columns is rejected', () => {
    expect(isKeyRejected(ORDERS_TO_CUSTOMERS, new Set(['sales.customers.id']))).toBe(true);
  });

  it('rejects documents and examples only by their own key', () => {
    const rejected = new Set(['doc:Revenue']);
    expect(isKeyRejected('doc:Revenue', rejected)).toBe(true);
    expect(isKeyRejected('doc:Order statuses', rejected)).toBe(false);
  });

  it('rejects nothing when nothing is rejected', () => {
    expect(isKeyRejected('sales.orders', new Set())).toBe(false);
  });
});

describe('keys of names with reserved characters', () => {
  const awkward = ['Official_ratings_(millions)', 'a.b', 'say "hi"', ' padded ', 'x:y', 'a,b', '"quoted"', 'line\nbreak'];

  it('leave plain names, even with spaces, quotes inside or unicode, as they are', () => {
    expect(columnKey('sales', 'order items', 'Umsätze"x')).toBe('sales.order items.Umsätze"x');
  });

  it('quote names with key characters, doubling their quotes', () => {
    expect(columnKey('tvshow', 'TV_series', 'Official_ratings_(millions)')).toBe('tvshow.TV_series."Official_ratings_(millions)"');
    expect(tableKey('a.b', 'say "hi"')).toBe('"a.b".say "hi"');
    expect(quoteName('"quoted"')).toBe('"""quoted"""');
  });

  it.each(awkward)('read the names of %j back from every kind of key', (name) => {
    expect(splitDottedKey(columnKey(name, name, name))).toEqual([name, name, name]);
    const from = { schema: name, table: 't', columns: [name, 'b'] };
    const to = { schema: 's', table: name, columns: ['id', name] };
    expect(parseRelationshipKey(relationshipKey(from, to))).toEqual({ from, to });
  });

  it('keep keys of different names different', () => {
    const keys = new Set<string>();
    for (const a of awkward) for (const b of awkward) keys.add(tableKey(a, b));
    expect(keys.size).toBe(awkward.length ** 2);
    expect(tableKey('a', 'b.c')).not.toBe(tableKey('a.b', 'c'));
  });

  it('hide what is under a rejected schema whose name holds a dot, and the foreign keys touching it', () => {
    const rejected = new Set([schemaKey('a.b')]);
    expect(isKeyRejected(columnKey('a.b', 't', 'c'), rejected)).toBe(true);
    expect(isKeyRejected(columnKey('a', 'b', 'c'), rejected)).toBe(false);
    const fk = relationshipKey({ schema: 's', table: 't', columns: ['x'] }, { schema: 'a.b', table: 'u', columns: ['id'] });
    expect(isKeyRejected(fk, rejected)).toBe(true);
  });
});
