import { EntitySchema } from 'typeorm';

/** One schema, table, column, relationship, document or example of a catalog, addressed by its stable key. */
export interface CatalogItemRow {
  id: string;
  catalogId: string;
  key: string;
  kind: string;
  parentKey: string | null;
  name: string;
  position: number;
  data: Record<string, unknown>;
  /** A user rejected the item: it and everything under it leave the index at the next cleanup or reindex. */
  rejected: boolean;
}

export const CatalogItemEntity = new EntitySchema<CatalogItemRow>({
  name: 'CatalogItem',
  tableName: 'catalog_items',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    catalogId: { name: 'catalog_id', type: 'uuid' },
    key: { type: 'text' },
    kind: { type: 'text' },
    parentKey: { name: 'parent_key', type: 'text', nullable: true },
    name: { type: 'text' },
    position: { type: 'integer' },
    data: { type: 'jsonb' },
    rejected: { type: 'boolean', default: false },
  },
});
