import { type DataSource, type EntityManager } from 'typeorm';
import { CatalogEntity, type CatalogRow } from '../entities/catalog.entity';
import { CatalogItemEntity, type CatalogItemRow } from '../entities/catalog-item.entity';
import { insertAsJsonBatches } from './json-batches';

/** An item as the catalog package flattens it, ready to store. */
export type NewCatalogItem = Omit<CatalogItemRow, 'id' | 'catalogId' | 'rejected'>;

export interface NewCatalog {
  name: string;
  description: string | null;
  document: Record<string, unknown>;
  items: NewCatalogItem[];
}

export interface CatalogSummary {
  id: string;
  name: string;
  description: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  itemCount: number;
}

const ITEM_INSERT_BATCH = 1000;

/** Catalogs and their items. Every write of a catalog and its items is one transaction. */
export class CatalogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new catalog with all its items; returns the stored row. */
  async create(catalog: NewCatalog): Promise<CatalogRow> {
    return this.dataSource.transaction(async (m) => {
      const row = await m.getRepository(CatalogEntity).save({
        name: catalog.name,
        description: catalog.description,
        document: catalog.document,
        version: 1,
      });
      await this.insertItems(m, row.id, catalog.items, new Set());
      return row;
    });
  }

  /**
   * Replaces a catalog's document and items; rejections of keys that still exist are kept.
   * Returns null when there is no such catalog.
   */
  async replace(id: string, catalog: NewCatalog): Promise<CatalogRow | null> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(CatalogEntity);
      const current = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) return null;
      const rejected = await this.rejectedKeysWith(m, id);
      await m.getRepository(CatalogItemEntity).delete({ catalogId: id });
      current.name = catalog.name;
      current.description = catalog.description;
      current.document = catalog.document;
      current.version += 1;
      current.adoptedFrom = null;
      const saved = await repo.save(current);
      await this.insertItems(m, id, catalog.items, rejected);
      return saved;
    });
  }

  async get(id: string): Promise<CatalogRow | null> {
    return this.dataSource.getRepository(CatalogEntity).findOne({ where: { id } });
  }

  /**
   * What tells one stored document of the catalog from another (its version and last change), without the
   * document; null when there is no such catalog.
   */
  async stamp(id: string): Promise<{ id: string; version: number; updatedAt: Date } | null> {
    const rows: { version: number; updated_at: Date }[] = await this.dataSource.query(`SELECT version, updated_at FROM catalogs WHERE id = $1`, [id]);
    const row = rows[0];
    return row ? { id, version: row.version, updatedAt: row.updated_at } : null;
  }

  /** The catalog's version, or null when there is no such catalog (one small read). */
  async version(id: string): Promise<number | null> {
    return (await this.stamp(id))?.version ?? null;
  }

  async exists(id: string): Promise<boolean> {
    return this.dataSource.getRepository(CatalogEntity).exists({ where: { id } });
  }

  /** Catalogs, newest first, with the number of items of each. */
  async list(limit = 100, offset = 0): Promise<CatalogSummary[]> {
    const rows: {
      id: string;
      name: string;
      description: string | null;
      version: number;
      created_at: Date;
      updated_at: Date;
      item_count: string;
    }[] = await this.dataSource.query(
      `SELECT c.id, c.name, c.description, c.version, c.created_at, c.updated_at,
              (SELECT count(*) FROM catalog_items i WHERE i.catalog_id = c.id) AS item_count
         FROM catalogs c ORDER BY c.created_at DESC, c.id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      itemCount: Number(r.item_count),
    }));
  }

  /** Deletes a catalog and its items. Its embeddings are removed by the cleanup job. */
  async delete(id: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(CatalogEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async items(catalogId: string): Promise<CatalogItemRow[]> {
    return this.dataSource
      .getRepository(CatalogItemEntity)
      .find({ where: { catalogId }, order: { kind: 'ASC', key: 'ASC' } });
  }

  /**
   * What decides whether a cached reading of a catalog is still current: its version and the keys of its
   * rejected items, in one round trip; `null` when the catalog does not exist.
   */
  async state(id: string): Promise<{ version: number; rejectedKeys: string[] } | null> {
    const rows: { version: number; rejected: string[] }[] = await this.dataSource.query(
      `SELECT c.version,
              COALESCE((SELECT array_agg(i.key ORDER BY i.key) FROM catalog_items i
                         WHERE i.catalog_id = c.id AND i.rejected), '{}') AS rejected
         FROM catalogs c WHERE c.id = $1`,
      [id],
    );
    const row = rows[0];
    return row ? { version: row.version, rejectedKeys: row.rejected } : null;
  }

  /** Keys of the items a user rejected. */
  async rejectedKeys(catalogId: string): Promise<Set<string>> {
    return this.rejectedKeysWith(this.dataSource.manager, catalogId);
  }

  /**
   * Rejects some items and restores others in one transaction. When any key is unknown nothing changes and
   * the unknown keys are returned.
   */
  async updateRejections(
    catalogId: string,
    changes: { reject?: string[]; restore?: string[] },
  ): Promise<{ unknownKeys: string[] }> {
    const reject = changes.reject ?? [];
    const restore = changes.restore ?? [];
    const keys = [...reject, ...restore];
    return this.dataSource.transaction(async (m) => {
      const found: { key: string }[] = await m.query(
        `SELECT key FROM catalog_items WHERE catalog_id = $1 AND key = ANY($2::text[])`,
        [catalogId, keys],
      );
      const known = new Set(found.map((r) => r.key));
      const unknownKeys = keys.filter((k) => !known.has(k));
      if (unknownKeys.length > 0) return { unknownKeys };
      for (const [list, value] of [
        [reject, true],
        [restore, false],
      ] as const) {
        if (list.length === 0) continue;
        await m.query(`UPDATE catalog_items SET rejected = $3 WHERE catalog_id = $1 AND key = ANY($2::text[])`, [
          catalogId,
          list,
          value,
        ]);
      }
      return { unknownKeys: [] };
    });
  }

  private async rejectedKeysWith(m: EntityManager, catalogId: string): Promise<Set<string>> {
    const rows: { key: string }[] = await m.query(
      `SELECT key FROM catalog_items WHERE catalog_id = $1 AND rejected`,
      [catalogId],
    );
    return new Set(rows.map((r) => r.key));
  }

  private async insertItems(
    m: EntityManager,
    catalogId: string,
    items: NewCatalogItem[],
    rejected: ReadonlySet<string>,
  ): Promise<void> {
    const rows = items.map((item) => ({
      key: item.key,
      kind: item.kind,
      parent_key: item.parentKey,
      name: item.name,
      position: item.position,
      data: item.data,
      rejected: rejected.has(item.key),
    }));
    await insertAsJsonBatches(rows, ITEM_INSERT_BATCH, (json) =>
      m.query(
        `INSERT INTO catalog_items (catalog_id, key, kind, parent_key, name, position, data, rejected)
         SELECT $1, x.key, x.kind, x.parent_key, x.name, x.position, x.data, x.rejected
           FROM jsonb_to_recordset($2::jsonb)
             AS x(key text, kind text, parent_key text, name text, position int, data jsonb, rejected boolean)`,
        [catalogId, json],
      ),
    );
  }
}
