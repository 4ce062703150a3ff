import { catalogVocabulary, chunkCatalog, parseCatalog, type Catalog, type Chunk } from '@catalog-indexer/catalog';

/** A stored catalog as read: its id, version, last change and document. */
export interface StoredCatalog {
  id: string;
  version: number;
  updatedAt: Date;
  document: Record<string, unknown>;
}

interface Reading {
  catalog: Catalog;
  vocabulary?: ReadonlySet<string>;
  chunks?: { rejected: string; chunks: Chunk[] };
}

/**
 * What a run derives from one stored version of a catalog, kept for the steps that follow in this process:
 * the parsed document, its vocabulary and its chunks (under a given set of rejected keys). Planning,
 * activating and the batches of a run read the same version; parsing and chunking a large catalog each
 * time cost more than the rest of those steps. A version is recognised by id, version and last change, so
 * a replaced document is never served from here. Holds the last few catalogs only.
 */
export class CatalogReadings {
  private readonly readings = new Map<string, Reading>();

  constructor(private readonly capacity = 2) {}

  /** The catalog's chunks without the rejected items (see `chunkCatalog`). */
  chunks(stored: StoredCatalog, rejectedKeys: ReadonlySet<string>): Chunk[] {
    const reading = this.reading(stored);
    const rejected = rejectionKey(rejectedKeys);
    if (reading.chunks?.rejected !== rejected) reading.chunks = { rejected, chunks: chunkCatalog(reading.catalog, { rejectedKeys }) };
    return reading.chunks.chunks;
  }

  /**
   * The chunks of a version this process has already chunked under the same rejected keys, found by its
   * stamp alone (no document needed); `undefined` when it has not.
   */
  cachedChunks(stamp: Omit<StoredCatalog, 'document'>, rejectedKeys: ReadonlySet<string>): Chunk[] | undefined {
    const reading = this.readings.get(readingKey(stamp));
    return reading?.chunks?.rejected === rejectionKey(rejectedKeys) ? reading.chunks.chunks : undefined;
  }

  /** The words of the catalog's names and descriptions (see `catalogVocabulary`). */
  vocabulary(stored: StoredCatalog): ReadonlySet<string> {
    const reading = this.reading(stored);
    reading.vocabulary ??= catalogVocabulary(reading.catalog);
    return reading.vocabulary;
  }

  private reading(stored: StoredCatalog): Reading {
    const key = readingKey(stored);
    let reading = this.readings.get(key);
    if (reading) {
      // Most recently used last, so the oldest goes first.
      this.readings.delete(key);
    } else {
      reading = { catalog: parseCatalog(stored.document) };
    }
    this.readings.set(key, reading);
    while (this.readings.size > this.capacity) this.readings.delete(this.readings.keys().next().value ?? key);
    return reading;
  }
}

/** A stored version: id, version and last change. */
function readingKey(stored: Omit<StoredCatalog, 'document'>): string {
  return `${stored.id}:${stored.version}:${stored.updatedAt.getTime()}`;
}

function rejectionKey(rejectedKeys: ReadonlySet<string>): string {
  return [...rejectedKeys].sort().join('\n');
}
