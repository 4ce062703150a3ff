import { parseCatalog, type Catalog, type CatalogSchema, type CatalogTable } from '@catalog-indexer/catalog';

/** Words names and descriptions are made of: everyday business vocabulary. */
const WORDS = (
  'account address agent amount balance batch bill booking branch budget campaign carrier category channel ' +
  'city claim client code comment company contact contract cost country coupon course currency customer ' +
  'date deal debit delivery department deposit device discount district document driver due email employee ' +
  'entry event expense fee flight fund grade group hotel income invoice item journal label language lead ' +
  'ledger level license line loan location manager market member message method model month note offer ' +
  'office order owner package partner payment period phone plan policy port position price product profile ' +
  'project quantity quota rate reason region release rental report request return revenue review route ' +
  'salary sale schedule score season segment seller service session shift shipment site skill source ' +
  'stage status stock store student subject supplier survey target task tax team term territory ticket ' +
  'title topic total trade transfer trip unit user vendor vehicle version visit volume warehouse week weight'
).split(' ');
const TYPES = ['integer', 'text', 'numeric(12,2)', 'date', 'timestamptz', 'boolean', 'varchar(64)'];

/** A small deterministic generator (mulberry32), so that every run builds the same catalog. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A synthetic warehouse: `schemas` schemas of `tablesPerSchema` tables of `columnsPerTable` columns, each
 * table with a foreign key to an earlier table of its schema. Names and descriptions are drawn from business
 * words with a fixed seed. Chunks: one per table, column and foreign key.
 */
export function syntheticCatalog(schemas: number, tablesPerSchema: number, columnsPerTable: number, seed = 7): Catalog {
  const next = random(seed);
  const word = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const out: CatalogSchema[] = [];
  for (let s = 0; s < schemas; s++) {
    const schemaName = `${word()}_${s}`;
    const tables: CatalogTable[] = [];
    for (let t = 0; t < tablesPerSchema; t++) {
      const name = `${word()}_${word()}_${t}`;
      const columns = [{ name: 'id', type: 'integer', primaryKey: true, description: `Identifier of the ${name.replace(/_/g, ' ')}.` }];
      const used = new Set(['id']);
      for (let c = 1; c < columnsPerTable; c++) {
        let column = `${word()}_${word()}`;
        while (used.has(column)) column = `${column}_${c}`;
        used.add(column);
        columns.push({ name: column, type: TYPES[Math.floor(next() * TYPES.length)]!, primaryKey: false, description: `The ${word()} ${word()} of the ${column.replace(/_/g, ' ')}.` });
      }
      const table: CatalogTable = { name, type: 'table', description: `One row per ${word()} ${word()}.`, columns };
      if (t > 0) {
        const target = tables[Math.floor(next() * t)]!;
        table.columns[1]!.type = 'integer';
        table.foreignKeys = [{ columns: [table.columns[1]!.name], references: { schema: schemaName, table: target.name, columns: ['id'] } }];
      }
      tables.push(table);
    }
    out.push({ name: schemaName, description: `The ${word()} ${word()} area.`, tables });
  }
  return parseCatalog({ name: 'synthetic', description: 'Synthetic warehouse for the query benchmark', schemas: out });
}

/** `count` questions made of the catalog's words, with the same seed every run. */
export function syntheticQuestions(count: number, seed = 11): string[] {
  const next = random(seed);
  const word = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const forms = [
    (a: string, b: string, c: string) => `What is the total ${a} ${b} per ${c}?`,
    (a: string, b: string, c: string) => `List every ${a} with its ${b} and ${c}.`,
    (a: string, b: string, c: string) => `How many ${a}s had a ${b} above the average ${c} last month?`,
  ];
  return Array.from({ length: count }, () => forms[Math.floor(next() * forms.length)]!(word(), word(), word()));
}
