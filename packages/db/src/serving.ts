import { type EmbeddingRepository } from './repositories/embedding.repository';

/** Active rows a catalog (or every catalog) must have points for, and embedded pending rows whose points may be there besides. */
export interface ServingCounts {
  active: number;
  embeddedPending: number;
}

/** What the vector store is asked for the measure: the points it holds, and which of some ids it has. */
export interface ServedPoints {
  /** Points of the catalog (or of every catalog); `null` when the collection is missing. */
  countPoints(): Promise<number | null>;
  existingIds(ids: readonly string[]): Promise<Set<string>>;
}

/** How many active rows the vector store serves, against how many it must serve, and the points it holds. */
export interface Serving {
  rows: number;
  served: number;
  /** As counted; `null` when the collection is missing. */
  points: number | null;
}

/** Active rows whose points are looked up by id in each measure (one request to the vector store). */
export const SERVING_SAMPLE = 256;

/**
 * How many active rows have their point, as far as counts and a sample tell. Points are written before their
 * rows become active and deleted after their rows go, so every active row has its point unless the vector
 * store lost it. Two things can hide a loss from a plain count of points:
 * - the points of a run that has not activated yet (the rebuild after the loss writes new rows' points, as
 *   many as the rows they will replace): those of embedded pending rows are taken off the count;
 * - the points of a batch just written, whose rows are not marked embedded yet: a sample of active rows
 *   whose points are missing brings the figure down in proportion (always below `rows`).
 */
export function servedRows(points: number | null, counts: ServingCounts, sample?: { rows: number; found: number }): number {
  if (points === null) return 0;
  let served = Math.min(counts.active, Math.max(0, points - counts.embeddedPending));
  if (sample && sample.found < sample.rows) served = Math.min(served, Math.floor((counts.active * sample.found) / sample.rows));
  return served;
}

/**
 * Measures whether the vector store serves the active rows of a catalog, or of every catalog: counts from
 * both stores, then, when the counts find nothing missing, the points of a sample of active rows looked up by
 * id (see {@link servedRows}). The query service's readiness and the worker's index watch read it.
 */
export async function measureServing(embeddings: EmbeddingRepository, points: ServedPoints, catalogId?: string): Promise<Serving> {
  const [counts, held] = await Promise.all([embeddings.servingCounts(catalogId), points.countPoints()]);
  const counted = servedRows(held, counts);
  if (held === null || counts.active === 0 || counted < counts.active) return { rows: counts.active, served: counted, points: held };
  const ids = await embeddings.someActiveIds(SERVING_SAMPLE, catalogId);
  if (ids.length === 0) return { rows: counts.active, served: counted, points: held };
  const found = await points.existingIds(ids);
  const missing = ids.filter((id) => !found.has(id));
  // A row replaced since it was sampled may have lost its point since, rightly: only rows still visible
  // after their point was found missing count (a row never becomes visible again once it went).
  const lost = missing.length === 0 ? 0 : (await embeddings.hydrate(missing, { textOf: [] })).size;
  return { rows: counts.active, served: servedRows(held, counts, { rows: ids.length, found: ids.length - lost }), points: held };
}
