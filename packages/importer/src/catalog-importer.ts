import { parseCatalog, type Catalog } from '@catalog-indexer/catalog';
import { buildCatalog, columnId, type SampleValues } from './catalog-builder';
import { parseConnectionString } from './connection-string';
import { MySqlCatalogReader } from './mysql.reader';
import { PostgresCatalogReader } from './postgres.reader';
import { type ReaderTimeouts } from './reader-timeouts';
import { SourcePolicy, type AllowedSource } from './source-policy';
import { type CatalogReader } from './source-catalog';

export interface ImportRequest {
  /** `postgres://…` or `mysql://…`; used to connect, never kept. */
  connectionString: string;
  /** Schemas (MySQL: databases) to read; every user schema (MySQL: the database in the URL) when not given. */
  schemas?: string[];
  /** Catalog name; the database name when not given. */
  name?: string;
  /** Read a few distinct values of each text column. */
  sampleValues?: boolean;
}

export interface ImportResult {
  catalog: Catalog;
  /** What was left out, and why. */
  notes: string[];
}

export interface CatalogImporterOptions extends ReaderTimeouts {
  /** Sample values per column (default 5). */
  samplesPerColumn?: number;
  /** Most columns sampled in one import (default 2,000): bounds the statements one import runs. */
  maxSampledColumns?: number;
  /** Which servers may be read (`IMPORT_ALLOWED_HOSTS`); loopback only when not given. */
  policy?: SourcePolicy;
}

/**
 * Reads the catalog of a live PostgreSQL or MySQL/MariaDB database (the scheme of the connection string
 * decides) into the upload format, read-only and with connect and statement timeouts.
 */
export class CatalogImporter {
  private readonly policy: SourcePolicy;

  constructor(private readonly options: CatalogImporterOptions) {
    this.policy = options.policy ?? new SourcePolicy();
  }

  private open(source: AllowedSource): Promise<CatalogReader> {
    return source.conn.dialect === 'postgres' ? PostgresCatalogReader.open(source, this.options) : MySqlCatalogReader.open(source, this.options);
  }

  /**
   * @throws ImportError when the database cannot be read (bad string, host not allowed, access denied,
   *   unreachable, timeout, missing schema); CatalogValidationError when what it holds does not fit the
   *   catalog format.
   */
  async import(request: ImportRequest): Promise<ImportResult> {
    const source = await this.policy.admit(parseConnectionString(request.connectionString));
    const reader = await this.open(source);
    try {
      const read = await reader.read(request.schemas);
      const samples: SampleValues = new Map();
      if (request.sampleValues) {
        const textual = read.columns.filter((c) => c.textual).slice(0, this.options.maxSampledColumns ?? 2_000);
        for (const c of textual) {
          samples.set(columnId(c.schema, c.table, c.name), await reader.sample(c.schema, c.table, c.name, this.options.samplesPerColumn ?? 5));
        }
      }
      const built = buildCatalog(read, request.name ?? read.database, samples);
      return { catalog: parseCatalog(built.catalog), notes: built.notes };
    } finally {
      await reader.close();
    }
  }
}
