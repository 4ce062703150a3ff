import { EntitySchema } from 'typeorm';

/** An uploaded catalog. `document` holds the upload as given; its items are also stored one per row. */
export interface CatalogRow {
  id: string;
  name: string;
  description: string | null;
  document: Record<string, unknown>;
  /** Incremented by every replace (PUT), so a run knows which upload it indexed. */
  version: number;
  /** `pgvector` for a catalog adopted from a pgvector-era table and not yet given its real document. */
  adoptedFrom: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const CatalogEntity = new EntitySchema<CatalogRow>({
  name: 'Catalog',
  tableName: 'catalogs',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    name: { type: 'text' },
    description: { type: 'text', nullable: true },
    document: { type: 'jsonb' },
    version: { type: 'integer', default: 1 },
    adoptedFrom: { name: 'adopted_from', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
