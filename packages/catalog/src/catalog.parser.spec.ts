import { CATALOG_LIMITS, type Catalog } from './catalog.schema';
import { type CatalogProblem, CatalogValidationError } from './catalog-validation.error';
import { parseCatalog, parseCatalogWithNotices } from './catalog.parser';
import { shopCatalog } from './testing';

/** A mutable copy of the shared fixture, to break in one place per test. */
function shop(): Catalog {
  return structuredClone(shopCatalog);
}

function problemsOf(input: unknown): CatalogProblem[] {
  try {
    parseCatalog(input);
  } catch (error) {
    if (error instanceof CatalogValidationError) return [...error.details];
    throw error;
  }
  throw new Error('expected the catalog to be rejected');
}

function messageAt(problems: CatalogProblem[], path: string): string {
  const found = problems.filter((p) => p.path === path);
  if (found.length !== 1) throw new Error(`expected one problem at ${path}, got ${JSON.stringify(problems)}`);
  return found[0]!.message;
}

const ORDERS = 'schemas[0].tables[1]';

describe(parseCatalog.name, () => {
  describe('valid catalogs', () => {
    it('accepts the shop fixture and returns it unchanged', () => {
      expect(parseCatalog(shop())).toEqual(shopCatalog);
    });

    it('accepts the example of the architecture document, with optional fields left out', () => {
      const catalog = parseCatalog({
        name: 'shop',
        schemas: [
          {
            name: 'sales',
            tables: [
              { name: 'customers', columns: [{ name: 'id', type: 'integer' }] },
              {
                name: 'orders',
                columns: [
                  { name: 'id', type: 'integer', nullable: false, primaryKey: true },
                  { name: 'customer_id', type: 'integer', examples: ['42', '97'] },
                ],
                foreignKeys: [
                  { columns: ['customer_id'], references: { schema: 'sales', table: 'customers', columns: ['id'] } },
                ],
              },
            ],
          },
        ],
      });
      expect(catalog.schemas[0]!.tables.map((t) => t.type)).toEqual(['table', 'table']);
      expect(catalog.documents).toBeUndefined();
    });

    it('accepts names with spaces and capitals, and the same name in different parents', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[0]!.columns[1]!.name = 'E-mail Address';
      catalog.schemas[2]!.tables[1]!.name = 'orders';
      expect(() => parseCatalog(catalog)).not.toThrow();
    });
  });

  describe('the error', () => {
    it('has the code invalid_catalog, a name and a message that summarises the problems', () => {
      const error = (() => {
        try {
          parseCatalog({ name: '', schemas: [] });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(CatalogValidationError);
      expect(error).toMatchObject({ code: 'invalid_catalog', name: 'CatalogValidationError' });
      expect((error as Error).message).toBe('The catalog has 1 problem: name: must not be empty');
    });

    it('shows the first five problems in the message and keeps all of them in details', () => {
      const catalog = shop();
      for (const column of catalog.schemas[0]!.tables[1]!.columns) column.type = '';
      const problems = problemsOf(catalog);
      expect(problems).toHaveLength(10);
      try {
        parseCatalog(catalog);
      } catch (e) {
        expect((e as Error).message).toContain('and 5 more');
      }
    });
  });

  describe('shape', () => {
    it('says that a catalog must be an object', () => {
      expect(problemsOf(null)).toEqual([{ path: '', message: 'must be an object, not null' }]);
      expect(problemsOf([])).toEqual([{ path: '', message: 'must be an object, not a list' }]);
    });

    it('names every missing required field by its path', () => {
      const problems = problemsOf({ schemas: [{ tables: [{ name: 't', columns: [{ name: 'c' }] }] }] });
      expect(problems).toEqual([
        { path: 'name', message: 'is required: give text (a JSON string)' },
        { path: 'schemas[0].name', message: 'is required: give text (a JSON string)' },
        { path: 'schemas[0].tables[0].columns[0].type', message: 'is required: give text (a JSON string)' },
      ]);
    });

    it('says which type a field must have and what it got', () => {
      const catalog = shop() as unknown as { schemas: { tables: { columns: Record<string, unknown>[] }[] }[] };
      catalog.schemas[0]!.tables[2]!.columns[1]!.name = 7;
      catalog.schemas[0]!.tables[2]!.columns[1]!.nullable = 'no';
      const problems = problemsOf(catalog);
      expect(messageAt(problems, 'schemas[0].tables[2].columns[1].name')).toBe(
        'must be text (a JSON string), not number 7',
      );
      expect(messageAt(problems, 'schemas[0].tables[2].columns[1].nullable')).toBe(
        'must be true or false, not the text "no"',
      );
    });

    it('rejects unknown fields, lists the allowed ones and suggests the closest', () => {
      const catalog = shop() as unknown as Record<string, unknown> & { schemas: Record<string, unknown>[] };
      catalog.descripton = 'typo';
      const orders = (catalog.schemas[0]!.tables as Record<string, unknown>[])[1]!;
      orders.foreignKey = [];
      const problems = problemsOf(catalog);
      expect(messageAt(problems, 'descripton')).toBe(
        'is not a known field; remove it or use one of: name, description, schemas, documents, examples. Did you mean "description"?',
      );
      expect(messageAt(problems, `${ORDERS}.foreignKey`)).toMatch(/use one of: name, type, description, columns, foreignKeys\. Did you mean "foreignKeys"\?$/);
    });

    it('accepts only table or view as a table type', () => {
      const catalog = shop() as unknown as { schemas: { tables: Record<string, unknown>[] }[] };
      catalog.schemas[0]!.tables[0]!.type = 'materialized view';
      expect(problemsOf(catalog)).toEqual([
        { path: 'schemas[0].tables[0].type', message: 'must be "table" or "view", not the text "materialized view"' },
      ]);
    });

    it.each([
      ['a dot', 'sales.eu'],
      ['a colon', 'doc:x'],
      ['parentheses', 'Official_ratings_(millions)'],
      ['a comma', 'a,b'],
      ['quotes', 'say "hi"'],
      ['spaces around it', ' padded '],
      ['a line break', 'a\nb'],
      ['unicode', 'Umsätze 売上'],
    ])('accepts names that contain %s, as Postgres and MySQL do', (_what, name) => {
      const catalog = shop();
      catalog.schemas[0]!.tables[0]!.columns[1]!.name = name;
      expect(parseCatalog(catalog).schemas[0]!.tables[0]!.columns[1]!.name).toBe(name);
    });

    it('rejects empty names and names holding the NUL character', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[0]!.name = '';
      catalog.schemas[0]!.tables[0]!.columns[0]!.name = 'a\u0000b';
      const problems = problemsOf(catalog);
      expect(messageAt(problems, 'schemas[0].tables[0].name')).toBe('must not be empty');
      expect(messageAt(problems, 'schemas[0].tables[0].columns[0].name')).toMatch(/must not contain the NUL character/);
    });

    it('limits the length of names, descriptions, document texts and sample values', () => {
      const catalog = shop();
      catalog.schemas[0]!.name = 'x'.repeat(CATALOG_LIMITS.nameMaxChars + 1);
      catalog.schemas[1]!.description = 'd'.repeat(CATALOG_LIMITS.descriptionMaxChars + 1);
      catalog.documents![1]!.text = 't'.repeat(CATALOG_LIMITS.documentTextMaxChars + 1);
      catalog.schemas[1]!.tables[0]!.columns[1]!.examples = ['e'.repeat(CATALOG_LIMITS.columnExampleMaxChars + 1)];
      const problems = problemsOf(catalog);
      expect(messageAt(problems, 'schemas[0].name')).toBe('must be at most 128 characters (it has 129); shorten it');
      expect(messageAt(problems, 'schemas[1].description')).toBe('must be at most 4000 characters (it has 4001); shorten it');
      expect(messageAt(problems, 'documents[1].text')).toBe('must be at most 100000 characters (it has 100001); shorten it');
      expect(messageAt(problems, 'schemas[1].tables[0].columns[1].examples[0]')).toBe(
        'must be at most 200 characters (it has 201); shorten it',
      );
    });

    it('limits the number of sample values per column', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[0]!.columns[0]!.examples = Array.from({ length: 21 }, (_, i) => String(i));
      expect(problemsOf(catalog)).toEqual([
        { path: 'schemas[0].tables[0].columns[0].examples', message: 'must have at most 20 items (it has 21); remove some' },
      ]);
    });

    it('requires at least one column in a foreign key', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[1]!.foreignKeys![0]!.columns = [];
      catalog.schemas[0]!.tables[1]!.foreignKeys![0]!.references.columns = [];
      const problems = problemsOf(catalog);
      expect(messageAt(problems, `${ORDERS}.foreignKeys[0].columns`)).toBe('must list at least 1 item(s)');
      expect(messageAt(problems, `${ORDERS}.foreignKeys[0].references.columns`)).toBe('must list at least 1 item(s)');
    });

    it('limits the number of tables and of columns in the whole catalog', () => {
      const column = { name: 'c', type: 'int' };
      const wide = (i: number) => ({ name: `t${i}`, columns: Array.from({ length: 1_000 }, (_, j) => ({ ...column, name: `c${j}` })) });
      const tooManyTables = { name: 'big', schemas: [{ name: 's', tables: Array.from({ length: 10_001 }, (_, i) => ({ name: `t${i}`, columns: [] })) }] };
      const tooManyColumns = { name: 'big', schemas: [{ name: 's', tables: Array.from({ length: 201 }, (_, i) => wide(i)) }] };
      expect(problemsOf(tooManyTables)).toEqual([
        { path: 'schemas', message: 'has 10001 tables and views in all; at most 10000 are allowed per catalog: split it into several catalogs' },
      ]);
      expect(problemsOf(tooManyColumns)).toEqual([
        { path: 'schemas', message: 'has 201000 columns in all; at most 200000 are allowed per catalog: split it into several catalogs' },
      ]);
    });
  });

  describe('unique names', () => {
    it('rejects repeated schema, table and column names, pointing at the repeat and the original', () => {
      const catalog = shop();
      catalog.schemas.push({ name: 'sales', tables: [] });
      catalog.schemas[1]!.tables.push({ name: 'categories', type: 'view', columns: [] });
      catalog.schemas[0]!.tables[1]!.columns[3]!.name = 'customer_id';
      const problems = problemsOf(catalog);
      expect(problems).toEqual([
        { path: 'schemas[3].name', message: 'duplicate schema name "sales" (first at schemas[0]); schema names must be unique in a catalog' },
        {
          path: 'schemas[0].tables[1].columns[3].name',
          message: 'duplicate column name "customer_id" (first at schemas[0].tables[1].columns[1]); column names must be unique within a table',
        },
        {
          path: 'schemas[1].tables[2].name',
          message: 'duplicate table name "categories" (first at schemas[1].tables[0]); table and view names must be unique within a schema',
        },
      ]);
    });

    it('rejects repeated document titles and repeated examples', () => {
      const catalog = shop();
      catalog.documents!.push({ title: 'Revenue', text: 'Again.' });
      catalog.examples!.push({ ...catalog.examples![1]! });
      catalog.examples!.push({ question: catalog.examples![1]!.question, sql: 'SELECT 1' });
      expect(problemsOf(catalog)).toEqual([
        { path: 'documents[2].title', message: 'duplicate document title "Revenue" (first at documents[0]); document titles must be unique in a catalog' },
        { path: 'examples[3]', message: 'repeats the question and SQL of examples[1]; remove one' },
      ]);
    });
  });

  describe('foreign keys', () => {
    it('requires foreign key columns to be columns of their own table', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[1]!.foreignKeys![0]!.columns = ['custmer_id'];
      expect(problemsOf(catalog)).toEqual([
        {
          path: `${ORDERS}.foreignKeys[0].columns[0]`,
          message: '"custmer_id" is not a column of sales.orders; a foreign key must use columns of its own table. Did you mean "customer_id"?',
        },
      ]);
    });

    it('requires the referenced schema, table and columns to exist in the catalog', () => {
      const catalog = shop();
      const [toCustomers] = catalog.schemas[0]!.tables[1]!.foreignKeys!;
      const [toOrders, toProducts] = catalog.schemas[0]!.tables[2]!.foreignKeys!;
      toCustomers!.references.schema = 'sale';
      toOrders!.references.table = 'order';
      toProducts!.references.columns = ['product_id'];
      expect(problemsOf(catalog)).toEqual([
        {
          path: `${ORDERS}.foreignKeys[0].references.schema`,
          message: 'schema "sale" is not in the catalog; reference one of its schemas or add it. Did you mean "sales"?',
        },
        {
          path: 'schemas[0].tables[2].foreignKeys[0].references.table',
          message: 'table "sales.order" is not in the catalog; reference one of the tables of schema "sales" or add it. Did you mean "orders"?',
        },
        {
          path: 'schemas[0].tables[2].foreignKeys[1].references.columns[0]',
          message: '"product_id" is not a column of catalog.products.',
        },
      ]);
    });

    it('requires as many referenced columns as foreign key columns', () => {
      const catalog = shop();
      catalog.schemas[0]!.tables[1]!.foreignKeys![0]!.references.columns = ['id', 'email'];
      expect(problemsOf(catalog)).toEqual([
        {
          path: `${ORDERS}.foreignKeys[0].references.columns`,
          message: 'lists 2 column(s) but the foreign key has 1; list one referenced column per foreign key column, in the same order',
        },
      ]);
    });

    it('rejects a column listed twice in one foreign key', () => {
      const catalog = shop();
      const orders = catalog.schemas[0]!.tables[1]!;
      orders.foreignKeys!.push({ columns: ['customer_id', 'customer_id'], references: { schema: 'sales', table: 'customers', columns: ['id', 'id'] } });
      expect(problemsOf(catalog)).toEqual([
        { path: `${ORDERS}.foreignKeys[1].columns[1]`, message: 'lists column "customer_id" twice; list each column once' },
      ]);
    });

    it('merges a foreign key declared twice into the first and reports the merge', () => {
      const catalog = shop();
      const orders = catalog.schemas[0]!.tables[1]!;
      const count = orders.foreignKeys!.length;
      orders.foreignKeys!.push(structuredClone(orders.foreignKeys![0]!));
      const { catalog: parsed, notices } = parseCatalogWithNotices(catalog);
      expect(parsed.schemas[0]!.tables[1]!.foreignKeys).toEqual(shopCatalog.schemas[0]!.tables[1]!.foreignKeys);
      expect(notices).toEqual([
        { path: `${ORDERS}.foreignKeys[${count}]`, message: `repeats the foreign key at ${ORDERS}.foreignKeys[0]; merged into it` },
      ]);
      expect(parseCatalogWithNotices(shop()).notices).toEqual([]);
    });
  });

  it('lists every problem at once, shape and references together', () => {
    const catalog = shop() as unknown as {
      schemas: { name: unknown; tables: { columns: Record<string, unknown>[]; foreignKeys?: { references: { table: string } }[] }[] }[];
    };
    catalog.schemas[0]!.tables[0]!.columns[0]!.type = 3;
    catalog.schemas[0]!.tables[3]!.foreignKeys![0]!.references.table = 'ordres';
    catalog.schemas.push({ name: 'hr', tables: [] });
    catalog.schemas[2]!.tables[0]!.columns[2]!.colour = 'blue';
    const problems = problemsOf(catalog);
    expect(problems.map((p) => p.path)).toEqual([
      'schemas[0].tables[0].columns[0].type',
      'schemas[2].tables[0].columns[2].colour',
      'schemas[3].name',
      'schemas[0].tables[3].foreignKeys[0].references.table',
    ]);
  });
});
