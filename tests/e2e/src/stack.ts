import { type Catalog } from '@catalog-indexer/catalog';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { deleteRedisPrefix, freePort, qdrantEnv, uniqueName } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A catalog of `tables` tables of `columns` columns each, every item described: many chunks to embed. */
export function wideCatalog(name: string, tables: number, columns: number): Catalog {
  return {
    name,
    description: 'Warehouse of a generated shop',
    schemas: [
      {
        name: 'warehouse',
        description: 'Generated tables',
        tables: Array.from({ length: tables }, (_, t) => ({
          name: `table_${t}`,
          type: 'table' as const,
          description: `Facts of kind ${t}, one row per event of that kind`,
          columns: Array.from({ length: columns }, (_, c) => ({
            name: `column_${c}`,
            type: c === 0 ? 'integer' : 'text',
            description: `Attribute ${c} of the events of kind ${t}`,
          })),
        })),
      },
    ],
  };
}

export interface StackOptions {
  databaseUrl: string;
  redisUrl: string;
  workers: number;
  /** Latency of every embeddings request the OpenAI emulator answers. */
  latencyMs: number;
  /** Settings added to (or replacing) the stack's own. */
  env?: Record<string, string>;
}

/**
 * The api and worker processes of a test, with an OpenAI and a Qdrant emulator of its own in this process,
 * on the database and Redis it is given (a unique queue prefix and collection).
 */
export class Stack {
  readonly prefix = uniqueName('stack');
  readonly collection = uniqueName('stack');
  readonly qdrant = new QdrantEmulator();
  readonly openai: OpenAIEmulator;
  api!: AppProcess;
  apiUrl = '';
  workers: AppProcess[] = [];
  env: Record<string, string> = {};
  store!: QdrantStore;

  constructor(private readonly options: StackOptions) {
    this.openai = new OpenAIEmulator({ latencyMs: options.latencyMs });
  }

  async start(): Promise<void> {
    const q = await this.qdrant.start(0);
    const qdrantUrl = q.url;
    const { url: openaiUrl } = await this.openai.start(0);
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.env = {
      DATABASE_URL: this.options.databaseUrl,
      DB_MIGRATE_ON_START: 'false',
      DB_POOL_SIZE: '6',
      REDIS_URL: this.options.redisUrl,
      QUEUE_PREFIX: this.prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: this.collection,
      QDRANT_TIMEOUT_MS: '5000',
      OPENAI_API_KEY: 'sk-stack-test-key',
      OPENAI_BASE_URL: `${openaiUrl}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '32',
      EMBEDDING_BATCH_MAX_INPUTS: '8',
      EMBEDDING_TIMEOUT_MS: '20000',
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '3000',
      WORKER_PORT: '0',
      RECONCILE_INTERVAL_MS: '0',
      API_PORT: String(apiPort),
      API_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...this.options.env,
    };
    this.store = new QdrantStore({ url: qdrantUrl, collection: this.collection, dimensions: 32 });
    this.api = spawnApp('api', this.env, { label: 'api' });
    for (let n = 0; n < this.options.workers; n++) this.workers.push(spawnApp('worker', this.env, { label: `worker-${n}` }));
    await waitForHttp(`${this.apiUrl}/healthz`, 90_000, () => this.logs());
  }

  /** The last lines of every process's output, for a failure message. */
  logs(): string {
    return [this.api, ...this.workers].map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  }

  /** An api request; status 0 when the api did not answer. */
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    try {
      const res = await fetch(`${this.apiUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    } catch {
      return { status: 0, json: {} };
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.api, ...this.workers].filter(Boolean).map((a) => a.stop(3_000)));
    await this.qdrant.stop();
    await this.openai.stop();
    await deleteRedisPrefix(this.prefix);
  }
}
