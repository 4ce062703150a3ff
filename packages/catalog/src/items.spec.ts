import { shopCatalog } from './testing';
import { flattenItems } from './items';

describe(flattenItems.name, () => {
  const items = flattenItems(shopCatalog);

  it('gives one item per schema, table, column, foreign key, document and example', () => {
    const count = (kind: string) => items.filter((i) => i.kind === kind).length;
    expect(count('schema')).toBe(3);
    expect(count('table')).toBe(9);
    expect(count('column')).toBe(47);
    expect(count('relationship')).toBe(8);
    expect(count('document')).toBe(2);
    expect(count('example')).toBe(3);
  });

  it('orders items as uploaded: each schema, its tables each followed by columns and foreign keys, then documents and examples', () => {
    expect(items.slice(0, 9).map((i) => i.key)).toEqual([
      'sales',
      'sales.customers',
      'sales.customers.id',
      'sales.customers.email',
      'sales.customers.full_name',
      'sales.customers.country',
      'sales.customers.created_at',
      'sales.orders',
      'sales.orders.id',
    ]);
    const orderKeys = items.filter((i) => i.parentKey === 'sales.orders').map((i) => i.key);
    expect(orderKeys.at(-1)).toBe('fk:sales.orders(customer_id)->sales.customers(id)');
    expect(items.slice(-5).map((i) => i.kind)).toEqual(['document', 'document', 'example', 'example', 'example']);
  });

  it('gives every item a unique key and the same list on every call', () => {
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length);
    expect(flattenItems(shopCatalog)).toEqual(items);
  });

  it('links items to their parent and numbers them within it', () => {
    const byKey = new Map(items.map((i) => [i.key, i]));
    expect(byKey.get('sales')).toMatchObject({ parentKey: null, position: 0 });
    expect(byKey.get('catalog.products')).toMatchObject({ parentKey: 'catalog', position: 1 });
    expect(byKey.get('sales.orders.customer_id')).toMatchObject({ parentKey: 'sales.orders', position: 1 });
    expect(byKey.get('fk:sales.order_items(product_id)->catalog.products(id)')).toMatchObject({
      kind: 'relationship',
      parentKey: 'sales.order_items',
      position: 1,
      name: '(product_id) -> catalog.products(id)',
    });
    expect(byKey.get('doc:Order statuses')).toMatchObject({ parentKey: null, position: 1, name: 'Order statuses' });
  });

  it("keeps an item's own fields and leaves out its children and absent fields", () => {
    const byKey = new Map(items.map((i) => [i.key, i]));
    expect(byKey.get('sales')!.data).toEqual({ name: 'sales', description: 'Orders, customers and refunds.' });
    expect(byKey.get('sales.daily_revenue')!.data).toEqual({
      name: 'daily_revenue',
      type: 'view',
      description: 'Net revenue per day and currency, following the Revenue document.',
    });
    expect(byKey.get('sales.orders.customer_id')!.data).toEqual({
      name: 'customer_id',
      type: 'integer',
      description: 'Buyer.',
      nullable: false,
      examples: ['42', '97'],
    });
    expect(byKey.get('fk:sales.orders(customer_id)->sales.customers(id)')!.data).toEqual({
      columns: ['customer_id'],
      references: { schema: 'sales', table: 'customers', columns: ['id'] },
    });
  });

  it('copies data, so changing an item leaves the catalog alone', () => {
    const column = flattenItems(shopCatalog).find((i) => i.key === 'sales.orders.customer_id')!;
    (column.data.examples as string[]).push('1');
    expect(shopCatalog.schemas[0]!.tables[1]!.columns[1]!.examples).toEqual(['42', '97']);
  });
});
