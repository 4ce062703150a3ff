import { QdrantClient } from '@qdrant/js-client-rest';
import { type QdrantCallObserver } from './qdrant.types';

export interface QdrantConnectionOptions {
  url: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Told of every request: operation, seconds, outcome (see {@link QdrantCallObserver}). */
  observe?: QdrantCallObserver;
}

/**
 * One client of a Qdrant server, shared by the collections and points classes of a store, through which
 * every request goes, so each is timed and reported to the observer the same way.
 */
export class QdrantConnection {
  private readonly client: QdrantClient;
  private readonly observe: QdrantCallObserver | undefined;

  constructor(options: QdrantConnectionOptions) {
    this.observe = options.observe;
    // A URL without a port means Qdrant's 6333, as the client assumes.
    this.client = new QdrantClient({
      url: options.url,
      apiKey: options.apiKey,
      timeout: options.timeoutMs ?? 30_000,
      checkCompatibility: false,
    });
  }

  /** Sends one request (`fn` on the client); errors come back as the client threw them. */
  async request<T>(operation: string, fn: (client: QdrantClient) => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    let outcome: 'ok' | 'error' = 'error';
    try {
      const result = await fn(this.client);
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
