/** What a reader finds in a live database, before it becomes a catalog. */
export interface SourceCatalog {
  /** Name of the database read (the catalog's default name). */
  database: string;
  schemas: { name: string; comment: string | null }[];
  tables: { schema: string; name: string; type: 'table' | 'view'; comment: string | null }[];
  /** In column order within each table. */
  columns: SourceColumn[];
  /** Columns of each table's primary key. */
  primaryKeys: { schema: string; table: string; column: string }[];
  /** Columns in key order, matched one to one with `refColumns`. */
  foreignKeys: {
    schema: string;
    table: string;
    name: string;
    columns: string[];
    refSchema: string;
    refTable: string;
    refColumns: string[];
  }[];
}

export interface SourceColumn {
  schema: string;
  table: string;
  name: string;
  type: string;
  nullable: boolean;
  comment: string | null;
  /** Text-like (char, varchar, text, enum…): the columns whose sample values are worth showing. */
  textual: boolean;
}

/** Reads one live database. Opened by the importer, closed after. */
export interface CatalogReader {
  /** Schemas, tables, views, columns and keys of `schemas` (every user schema when not given). */
  read(schemas: readonly string[] | undefined): Promise<SourceCatalog>;
  /** Up to `limit` distinct non-null values of a column, read from a bounded slice of the table. */
  sample(schema: string, table: string, column: string, limit: number): Promise<string[]>;
  close(): Promise<void>;
}
