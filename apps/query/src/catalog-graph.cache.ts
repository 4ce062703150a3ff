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

  /** Builds in progress by catalog and stamp: concurrent requests after a change share one build. */
  private readonly building = new Map<string, Promise<CatalogGraph | null>>();

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
    const key = `${catalogId}\n${stamp}`;
    let build = this.building.get(key);
    if (!build) {
      build = this.build(catalogId, stamp, state.rejectedKeys).finally(() => this.building.delete(key));
      this.building.set(key, build);
    }
    return build;
  }

  private async build(catalogId: string, stamp: string, rejectedKeys: readonly string[]): Promise<CatalogGraph | null> {
    const row = await this.catalogs.get(catalogId);
    if (!row) return null;
    const graph = new CatalogGraph(parseCatalog(row.document), new Set(rejectedKeys));
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
