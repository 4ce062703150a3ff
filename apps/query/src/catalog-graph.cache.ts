import { parseCatalog } from '@catalog-indexer/catalog';
import { type CatalogRepository } from '@catalog-indexer/db';
import { CatalogGraph } from './catalog-graph';

interface Entry {
  stamp: string;
  graph: CatalogGraph;
}

/**
 * Join graphs of catalogs, rebuilt when a catalog's version or rejections change. Each request reads the
 * catalog's state (one small query) and rebuilds only on a change; the document itself is read only then.
 */
export class CatalogGraphCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly catalogs: CatalogRepository,
    /** Catalogs kept at once; the least recently used one leaves first. */
    private readonly capacity = 32,
  ) {}

  /** The current graph of a catalog, or `null` if the catalog does not exist. */
  async get(catalogId: string): Promise<CatalogGraph | null> {
    const state = await this.catalogs.state(catalogId);
    if (!state) {
      this.entries.delete(catalogId);
      return null;
    }
    const stamp = `${state.version}\n${state.rejectedKeys.join('\n')}`;
    const cached = this.entries.get(catalogId);
    if (cached && cached.stamp === stamp) {
      // Move to the back: most recently used.
      this.entries.delete(catalogId);
      this.entries.set(catalogId, cached);
      return cached.graph;
    }
    const row = await this.catalogs.get(catalogId);
    if (!row) return null;
    const graph = new CatalogGraph(parseCatalog(row.document), new Set(state.rejectedKeys));
    this.entries.delete(catalogId);
    this.entries.set(catalogId, { stamp, graph });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return graph;
  }
}
