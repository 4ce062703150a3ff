import { QdrantClient } from '@qdrant/js-client-grpc';
import { denseMessage, filterMessage, idText, offsetOf, payloadOf, pointId, vectorsJson } from './grpc-messages';
import { GrpcUpsert } from './grpc-upsert';
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

export interface GrpcPointsTransportOptions {
  /** Qdrant's gRPC endpoint, `http://host:6334` (`https` for TLS). */
  url: string;
  /** Sent as `api-key` metadata with every call. */
  apiKey?: string;
  timeoutMs?: number;
}

/**
 * Qdrant's points over gRPC (`@qdrant/js-client-grpc`, the official client: HTTP/2, protobuf): an upsert's
 * request is written straight to protobuf's wire format and sent as it is ({@link GrpcUpsert}), query
 * vectors go into the messages as float32 bytes ({@link denseMessage}), `wait` on every write. Requests are
 * not compressed: float vectors hardly shrink, and compressing them costs CPU on both sides.
 */
export class GrpcPointsTransport implements PointsTransport {
  readonly name = 'grpc';
  private readonly client: QdrantClient;
  private readonly options: GrpcPointsTransportOptions & { timeoutMs: number };
  /** Made on the first upsert: a reader (the api, the query service) never opens its connection. */
  private upserts: GrpcUpsert | undefined;

  constructor(options: GrpcPointsTransportOptions) {
    this.options = { ...options, timeoutMs: options.timeoutMs ?? 30_000 };
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: this.options.timeoutMs, checkCompatibility: false, compression: false });
  }

  private get points() {
    return this.client.api('points');
  }

  async ping(): Promise<void> {
    await this.client.api('service').healthCheck({});
  }

  async upsert(collection: string, points: readonly PointToWrite[]): Promise<void> {
    this.upserts ??= new GrpcUpsert(this.options);
    await this.upserts.send(collection, points);
  }

  async deleteIds(collection: string, ids: readonly string[]): Promise<void> {
    await this.points.delete({
      collectionName: collection,
      wait: true,
      points: { pointsSelectorOneOf: { case: 'points', value: { ids: ids.map(pointId) } } },
    });
  }

  async deleteWhere(collection: string, filter: PointsFilter): Promise<void> {
    await this.points.delete({
      collectionName: collection,
      wait: true,
      points: { pointsSelectorOneOf: { case: 'filter', value: filterMessage(filter) } },
    });
  }

  async hybrid(collection: string, request: HybridRequest): Promise<ScoredPoint[]> {
    const filter = filterMessage(request.filter);
    const limit = BigInt(request.prefetchLimit);
    const response = await this.points.query({
      collectionName: collection,
      prefetch: [
        { query: { variant: { case: 'nearest', value: { variant: { case: 'dense', value: denseMessage(request.dense) } } } }, using: VECTOR_NAMES.dense, filter, limit },
        {
          query: { variant: { case: 'nearest', value: { variant: { case: 'sparse', value: { indices: request.sparse.indices, values: request.sparse.values } } } } },
          using: VECTOR_NAMES.sparse,
          filter,
          limit,
        },
      ],
      query: { variant: { case: 'rrf', value: { k: request.k, weights: [...request.weights] } } },
      limit: BigInt(request.limit),
      withPayload: request.payload.length
        ? { selectorOptions: { case: 'include', value: { fields: [...request.payload] } } }
        : { selectorOptions: { case: 'enable', value: false } },
    });
    return response.result.map((p) => ({
      id: idText(p.id),
      score: p.score,
      payload: request.payload.length ? payloadOf(p.payload) : undefined,
    }));
  }

  async nearestDense(collection: string, vector: DenseVector, using: string, filter: PointsFilter, limit: number): Promise<string[]> {
    const response = await this.points.query({
      collectionName: collection,
      query: { variant: { case: 'nearest', value: { variant: { case: 'dense', value: denseMessage(vector) } } } },
      using,
      filter: filterMessage(filter),
      limit: BigInt(limit),
      withPayload: { selectorOptions: { case: 'enable', value: false } },
    });
    return response.result.map((p) => idText(p.id));
  }

  async denseVectors(collection: string, ids: readonly string[], using: string): Promise<{ id: string; vector: number[] }[]> {
    const response = await this.points.get({
      collectionName: collection,
      ids: ids.map(pointId),
      withPayload: { selectorOptions: { case: 'enable', value: false } },
      withVectors: { selectorOptions: { case: 'include', value: { names: [using] } } },
    });
    const found: { id: string; vector: number[] }[] = [];
    for (const p of response.result) {
      const vector = (vectorsJson(p.vectors) as Record<string, unknown> | undefined)?.[using];
      if (Array.isArray(vector)) found.push({ id: idText(p.id), vector: vector as number[] });
    }
    return found;
  }

  async existingIds(collection: string, ids: readonly string[]): Promise<string[]> {
    const response = await this.points.get({
      collectionName: collection,
      ids: ids.map(pointId),
      withPayload: { selectorOptions: { case: 'enable', value: false } },
      withVectors: { selectorOptions: { case: 'enable', value: false } },
    });
    return response.result.map((p) => idText(p.id));
  }

  async count(collection: string, filter?: PointsFilter): Promise<number> {
    const response = await this.points.count({ collectionName: collection, ...(filter ? { filter: filterMessage(filter) } : {}), exact: true });
    return Number(response.result?.count ?? 0n);
  }

  async scroll(collection: string, request: ScrollRequest): Promise<{ points: ScrolledPoint[]; next: string | number | undefined }> {
    const payload = request.payload;
    const response = await this.points.scroll({
      collectionName: collection,
      ...(request.filter ? { filter: filterMessage(request.filter) } : {}),
      limit: request.limit,
      withPayload:
        typeof payload === 'boolean'
          ? { selectorOptions: { case: 'enable', value: payload } }
          : { selectorOptions: { case: 'include', value: { fields: [...payload] } } },
      withVectors: { selectorOptions: { case: 'enable', value: request.vectors } },
      ...(request.offset !== undefined ? { offset: pointId(request.offset) } : {}),
    });
    return {
      points: response.result.map((p) => ({
        id: idText(p.id),
        vector: request.vectors ? vectorsJson(p.vectors) : undefined,
        payload: payload === false ? undefined : payloadOf(p.payload),
      })),
      next: offsetOf(response.nextPageOffset),
    };
  }
}

