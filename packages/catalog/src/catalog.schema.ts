import { z } from 'zod';

/**
 * Limits of the upload format. They protect the api, the database and the embedding bill from a runaway
 * upload, and keep item keys unambiguous; generous enough for real warehouses.
 */
export const CATALOG_LIMITS = {
  /** Schema, table and column names, and the catalog name. */
  nameMaxChars: 128,
  /** A column's SQL type, e.g. `numeric(12,2)` or a long enum spelled out. */
  typeMaxChars: 256,
  /** Any `description`. */
  descriptionMaxChars: 4_000,
  /** Sample values per column; a few show the shape of the data, more only cost tokens. */
  columnExamplesMax: 20,
  /** One sample value. */
  columnExampleMaxChars: 200,
  schemasMax: 1_000,
  /** Tables and views over the whole catalog. */
  tablesMax: 10_000,
  /** Columns in one table (Postgres allows 1,600). */
  columnsPerTableMax: 2_000,
  /** Columns over the whole catalog. */
  columnsMax: 200_000,
  foreignKeysPerTableMax: 500,
  /** Columns in one foreign key (Postgres allows 32 per key). */
  foreignKeyColumnsMax: 32,
  documentsMax: 1_000,
  documentTitleMaxChars: 200,
  documentTextMaxChars: 100_000,
  examplesMax: 5_000,
  exampleQuestionMaxChars: 2_000,
  exampleSqlMaxChars: 20_000,
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function boundedText(max: number) {
  return z.string().max(max);
}

function trimmedText(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s.trim() === s, { message: 'remove the spaces at the start or end' });
}

/**
 * A schema, table or column name, exactly as the database spells it: any character Postgres or MySQL
 * accept in a quoted identifier (spaces, dots, parentheses, quotes, commas, unicode). Item keys quote such
 * names (see `keys.ts`), so no character needs to be reserved.
 */
const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(CATALOG_LIMITS.nameMaxChars)
  .refine((s) => !s.includes('\u0000'), { message: 'must not contain the NUL character, which no database allows in a name' });

const optionalDescription = boundedText(CATALOG_LIMITS.descriptionMaxChars).optional();

/** One column of a table or view. */
export const columnSchema = z.strictObject({
  name: identifier,
  type: trimmedText(CATALOG_LIMITS.typeMaxChars),
  description: optionalDescription,
  nullable: z.boolean().optional(),
  primaryKey: z.boolean().optional(),
  /** Sample values, as text. */
  examples: z
    .array(z.string().max(CATALOG_LIMITS.columnExampleMaxChars))
    .max(CATALOG_LIMITS.columnExamplesMax)
    .optional(),
});

/** The target of a foreign key. */
export const foreignKeyReferenceSchema = z.strictObject({
  schema: identifier,
  table: identifier,
  columns: z.array(identifier).min(1).max(CATALOG_LIMITS.foreignKeyColumnsMax),
});

/** A foreign key of a table: its columns and the columns they reference, in matching order. */
export const foreignKeySchema = z.strictObject({
  columns: z.array(identifier).min(1).max(CATALOG_LIMITS.foreignKeyColumnsMax),
  references: foreignKeyReferenceSchema,
});

/** A table or a view. */
export const tableSchema = z.strictObject({
  name: identifier,
  type: z.enum(['table', 'view']).default('table'),
  description: optionalDescription,
  columns: z.array(columnSchema).max(CATALOG_LIMITS.columnsPerTableMax),
  foreignKeys: z.array(foreignKeySchema).max(CATALOG_LIMITS.foreignKeysPerTableMax).optional(),
});

/** A database schema (namespace) and its tables. */
export const schemaSchema = z.strictObject({
  name: identifier,
  description: optionalDescription,
  tables: z.array(tableSchema),
});

/** Free-text documentation: business rules, metric definitions, caveats. */
export const documentSchema = z.strictObject({
  title: trimmedText(CATALOG_LIMITS.documentTitleMaxChars).refine((s) => !CONTROL_CHARACTERS.test(s), {
    message: 'must not contain control characters such as line breaks',
  }),
  text: z.string().min(1).max(CATALOG_LIMITS.documentTextMaxChars),
});

/** A question and the SQL that answers it. */
export const exampleSchema = z.strictObject({
  question: trimmedText(CATALOG_LIMITS.exampleQuestionMaxChars),
  sql: trimmedText(CATALOG_LIMITS.exampleSqlMaxChars),
});

/**
 * The upload format (see ARCHITECTURE.md, "Catalog format"). Objects are strict: an unknown field is an
 * error rather than silently dropped, so that a typo such as `foreignKey` or `descripton` is caught at upload
 * instead of quietly losing data. Only the per-item shape lives here; totals, uniqueness and references are
 * checked by `parseCatalog`, which reports every problem at once.
 */
export const catalogSchema = z.strictObject({
  name: trimmedText(CATALOG_LIMITS.nameMaxChars),
  description: optionalDescription,
  schemas: z.array(schemaSchema).max(CATALOG_LIMITS.schemasMax),
  documents: z.array(documentSchema).max(CATALOG_LIMITS.documentsMax).optional(),
  examples: z.array(exampleSchema).max(CATALOG_LIMITS.examplesMax).optional(),
});

/** A validated catalog (table `type` defaulted to `'table'`). */
export type Catalog = z.infer<typeof catalogSchema>;
/** A catalog as uploaded, before defaults. */
export type CatalogInput = z.input<typeof catalogSchema>;
export type CatalogSchema = z.infer<typeof schemaSchema>;
export type CatalogTable = z.infer<typeof tableSchema>;
export type CatalogColumn = z.infer<typeof columnSchema>;
export type CatalogForeignKey = z.infer<typeof foreignKeySchema>;
export type CatalogForeignKeyReference = z.infer<typeof foreignKeyReferenceSchema>;
export type CatalogDocument = z.infer<typeof documentSchema>;
export type CatalogExample = z.infer<typeof exampleSchema>;
