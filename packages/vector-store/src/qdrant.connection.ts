import { QdrantClient } from '@qdrant/js-client-rest';
import { GrpcPointsTransport } from './grpc-points.transport';
import { type PointsTransport } from './points-transport';
import { type QdrantCallObserver } from './qdrant.types';
import { RestPointsTransport } from './rest-points.transport';

export interface QdrantConnectionOptions {
  /** Qdrant's REST URL (collections and aliases always go over REST). */
  url: string;
  apiKey?: string;
  timeoutMs?: number;
  /** How points are written and read: `rest` (the default here) or `grpc` at {@link grpcUrl}. */
  transport?: 'rest' | 'grpc';
  /** Qdrant's gRPC URL (`http://host:6334`, `https` for TLS); required with `transport: 'grpc'`. */
  grpcUrl?: string;
  /** Told of every request: operation, seconds, outcome (see {@link QdrantCallObserver}). */
  observe?: QdrantCallObserver;
}

/**
 * The clients of one Qdrant server, shared by the collections and points classes of a store, through which
 * every request goes, so each is timed and reported to the observer the same way: the REST client for
 * collections and aliases, and the {@link PointsTransport} (REST or gRPC) for points.
 */
export class QdrantConnection {
  readonly points: PointsTransport;
  private readonly client: QdrantClient;
  private readonly observe: QdrantCallObserver | undefined;

  constructor(options: QdrantConnectionOptions) {
    this.observe = options.observe;
    const timeout = options.timeoutMs ?? 30_000;
    // A URL without a port means Qdrant's 6333, as the client assumes.
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout, checkCompatibility: false });
    if (options.transport === 'grpc') {
      if (!options.grpcUrl) throw new TypeError('a gRPC transport needs grpcUrl');
      this.points = new GrpcPointsTransport({ url: options.grpcUrl, apiKey: options.apiKey, timeoutMs: timeout });
    } else {
      this.points = new RestPointsTransport(this.client);
    }
  }

  /** Sends one request (`fn` on the REST client); errors come back as the client threw them. */
  request<T>(operation: string, fn: (client: QdrantClient) => Promise<T>): Promise<T> {
    return this.timed(operation, () => fn(this.client));
  }

  /** Sends one request on points (`fn` on the points transport); errors come back as its client threw them. */
  pointsRequest<T>(operation: string, fn: (points: PointsTransport) => Promise<T>): Promise<T> {
    return this.timed(operation, () => fn(this.points));
  }

  private async timed<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    let outcome: 'ok' | 'error' = 'error';
    try {
      const result = await send();
      outcome = 'ok';
      return result;
    } finally {
      try {
        this.observe?.(operation, Number(process.hrtime.bigint() - started) / 1e9, outcome);
      } catch {
        // An observer that fails (a metric) must not fail the call it observes.
      }
    }
  }
}
