import { type QdrantClient } from '@qdrant/js-client-rest';
import {
  type DenseVector,
  type HybridRequest,
  type PointToWrite,
  type PointsFilter,
  type PointsTransport,
  type ScoredPoint,
  type ScrollRequest,
  type ScrolledPoint,
} from './points-transport';
import { VECTOR_NAMES } from './qdrant.types';

/** Qdrant's points over REST (`@qdrant/js-client-rest`): JSON bodies, `wait=true` on every write. */
export class RestPointsTransport implements PointsTransport {
  readonly name = 'rest';

  constructor(private readonly client: QdrantClient) {}

  async ping(): Promise<void> {
    // Points share the REST endpoint whose answer the collections' ping already checks.
  }

  async upsert(collection: string, points: readonly PointToWrite[]): Promise<void> {
    await this.client.upsert(collection, {
      wait: true,
      points: points.map((p) => ({
        id: p.id,
        vector: { [VECTOR_NAMES.dense]: numbers(p.dense), [VECTOR_NAMES.sparse]: p.sparse },
        payload: p.payload,
      })),
    });
  }

  async deleteIds(collection: string, ids: readonly string[]): Promise<void> {
    await this.client.delete(collection, { wait: true, points: [...ids] });
  }

  async deleteWhere(collection: string, filter: PointsFilter): Promise<void> {
    await this.client.delete(collection, { wait: true, filter: restFilter(filter) });
  }

  async hybrid(collection: string, request: HybridRequest): Promise<ScoredPoint[]> {
    const filter = restFilter(request.filter);
    const response = await this.client.query(collection, {
      prefetch: [
        { query: numbers(request.dense), using: VECTOR_NAMES.dense, filter, limit: request.prefetchLimit },
        { query: request.sparse, using: VECTOR_NAMES.sparse, filter, limit: request.prefetchLimit },
      ],
      query: { rrf: { k: request.k, weights: [...request.weights] } },
      limit: request.limit,
      with_payload: request.payload.length ? [...request.payload] : false,
    });
    return response.points.map((p) => ({
      id: String(p.id),
      score: p.score,
      payload: request.payload.length ? (p.payload ?? {}) : undefined,
    }));
  }

  async nearestDense(collection: string, vector: DenseVector, using: string, filter: PointsFilter, limit: number): Promise<string[]> {
    const response = await this.client.query(collection, { query: numbers(vector), using, filter: restFilter(filter), limit, with_payload: false });
    return response.points.map((p) => String(p.id));
  }

  async denseVectors(collection: string, ids: readonly string[], using: string): Promise<{ id: string; vector: number[] }[]> {
    const points = await this.client.retrieve(collection, { ids: [...ids], with_payload: false, with_vector: [using] });
    const found: { id: string; vector: number[] }[] = [];
    for (const p of points) {
      const vector = (p.vector as Record<string, unknown> | null | undefined)?.[using];
      if (Array.isArray(vector)) found.push({ id: String(p.id), vector: vector as number[] });
    }
    return found;
  }

  async existingIds(collection: string, ids: readonly string[]): Promise<string[]> {
    const points = await this.client.retrieve(collection, { ids: [...ids], with_payload: false, with_vector: false });
    return points.map((p) => String(p.id));
  }

  async count(collection: string, filter?: PointsFilter): Promise<number> {
    const result = await this.client.count(collection, { ...(filter ? { filter: restFilter(filter) } : {}), exact: true });
    return result.count;
  }

  async scroll(collection: string, request: ScrollRequest): Promise<{ points: ScrolledPoint[]; next: string | number | undefined }> {
    const page = await this.client.scroll(collection, {
      ...(request.filter ? { filter: restFilter(request.filter) } : {}),
      limit: request.limit,
      with_payload: typeof request.payload === 'boolean' ? request.payload : [...request.payload],
      with_vector: request.vectors,
      ...(request.offset !== undefined ? { offset: request.offset } : {}),
    });
    const next = page.next_page_offset as string | number | null | undefined;
    return {
      points: page.points.map((p) => ({
        id: String(p.id),
        vector: request.vectors ? p.vector : undefined,
        payload: request.payload === false ? undefined : (p.payload ?? {}),
      })),
      next: next ?? undefined,
    };
  }
}

/** JSON has no float32 arrays: a `Float32Array` becomes a list of numbers (as JSON writes its digits anyway). */
function numbers(vector: DenseVector): number[] {
  return Array.isArray(vector) ? vector : Array.from(vector);
}

/** The REST form of a filter: `match.value` or `match.any` per condition. */
function restFilter(filter: PointsFilter): { must: { key: string; match: { value: string } | { any: string[] } }[] } {
  return { must: filter.must.map((c) => ({ key: c.key, match: 'value' in c ? { value: c.value } : { any: c.any } })) };
}
