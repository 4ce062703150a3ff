import { ConfigError, loadConfig } from './index';

describe(loadConfig.name, () => {
  it('builds a working local configuration from an empty environment', () => {
    const config = loadConfig({});
    expect(config.postgres.url).toBe('postgres://postgres@127.0.0.1:5432/catalog_indexer');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.qdrant).toMatchObject({ url: 'http://127.0.0.1:6333', collection: 'embeddings', configured: false });
    expect(config.embeddings).toMatchObject({ provider: 'local', model: 'text-embedding-3-large', dimensions: 3072 });
  });

  it('accepts the names existing installs use', () => {
    const config = loadConfig({
      QDRANT_HOST: 'qdrant',
      QDRANT_PORT: '7333',
      QDRANT_COLLECTION_NAME: 'dq',
      QDRANT_API_KEY: 'qk',
      POSTGRES_DB: 'dq',
      POSTGRES_USER: 'app',
      POSTGRES_PASSWORD: 'p@ss word',
      POSTGRES_HOST: 'db',
      OPENAI_API_KEY: 'sk-x',
    });
    expect(config.qdrant).toMatchObject({ url: 'http://qdrant:7333', collection: 'dq', apiKey: 'qk', configured: true });
    expect(new URL(config.postgres.url).hostname).toBe('db');
    expect(decodeURIComponent(new URL(config.postgres.url).password)).toBe('p@ss word');
    expect(config.embeddings.provider).toBe('openai');
  });

  it('prefers URL forms over separate parts', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@h:1/d',
      POSTGRES_HOST: 'ignored',
      QDRANT_URL: 'https://q.example:6333/',
      QDRANT_HOST: 'ignored',
      REDIS_URL: 'redis://r:6380',
    });
    expect(config.postgres.url).toBe('postgres://u:p@h:1/d');
    expect(config.qdrant.url).toBe('https://q.example:6333');
    expect(config.redis.url).toBe('redis://r:6380');
  });

  it('talks to Qdrant over gRPC on 6334 of the REST host by default, with TLS when the REST URL has it', () => {
    expect(loadConfig({}).qdrant).toMatchObject({ transport: 'grpc', grpcUrl: 'http://127.0.0.1:6334' });
    expect(loadConfig({ QDRANT_URL: 'https://q.example:443/base', QDRANT_GRPC_PORT: '7334' }).qdrant.grpcUrl).toBe('https://q.example:7334');
    expect(loadConfig({ QDRANT_URL: 'http://[::1]:6333' }).qdrant.grpcUrl).toBe('http://[::1]:6334');
    expect(loadConfig({ QDRANT_TRANSPORT: 'rest' }).qdrant.transport).toBe('rest');
  });

  it('refuses a transport other than grpc or rest, and a gRPC port that is not one', () => {
    expect(() => loadConfig({ QDRANT_TRANSPORT: 'http', QDRANT_GRPC_PORT: '70000' })).toThrow(/QDRANT_GRPC_PORT[\s\S]*QDRANT_TRANSPORT|QDRANT_TRANSPORT[\s\S]*QDRANT_GRPC_PORT/);
  });

  it('takes the embedding size from EMBEDDING_DIMENSIONS', () => {
    expect(loadConfig({ EMBEDDING_MODEL: 'text-embedding-3-small', EMBEDDING_DIMENSIONS: '256' }).embeddings.dimensions).toBe(256);
  });

  it('reads the shared embedding rate limits, unlimited when unset', () => {
    expect(loadConfig({}).embeddings).toMatchObject({ requestsPerMinute: undefined, tokensPerMinute: undefined });
    expect(loadConfig({ EMBEDDING_RPM: '3000', EMBEDDING_TPM: '1000000' }).embeddings).toMatchObject({
      requestsPerMinute: 3000,
      tokensPerMinute: 1_000_000,
    });
    const error = (() => {
      try {
        loadConfig({ EMBEDDING_TPM: '0', EMBEDDING_RPM: 'many' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('a bad limit was accepted');
    })();
    expect(error.problems.map((p) => p.key).sort()).toEqual(['EMBEDDING_RPM', 'EMBEDDING_TPM']);
  });

  it('reserves a share of the embedding budget for the query service, 0.1 unless told, strictly between 0 and 1', () => {
    expect(loadConfig({}).embeddings.queryShare).toBe(0.1);
    expect(loadConfig({ QUERY_EMBEDDING_SHARE: '0.25' }).embeddings.queryShare).toBe(0.25);
    for (const bad of ['0', '1', '-0.1', 'half']) {
      expect(() => loadConfig({ QUERY_EMBEDDING_SHARE: bad })).toThrow(/QUERY_EMBEDDING_SHARE: must be/);
    }
  });

  it('leans fusion on the lexical side for the local embedder and weighs both for OpenAI, unless told', () => {
    expect(loadConfig({}).retrieval).toEqual({ denseWeight: 1, sparseWeight: 3, rrfK: 2, candidates: 200 });
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x' }).retrieval).toMatchObject({ denseWeight: 1, sparseWeight: 1 });
    expect(loadConfig({ HYBRID_DENSE_WEIGHT: '2', HYBRID_SPARSE_WEIGHT: '0.5' }).retrieval).toMatchObject({ denseWeight: 2, sparseWeight: 0.5 });
    expect(() => loadConfig({ HYBRID_SPARSE_WEIGHT: '-1' })).toThrow(/HYBRID_SPARSE_WEIGHT: must be a number from 0 to 100/);
  });

  it('names every bad key in one error', () => {
    let error: unknown;
    try {
      loadConfig({ QDRANT_PORT: 'abc', REDIS_URL: 'http://nope', DATABASE_URL: 'mysql://x', QUEUE_PREFIX: 'a:b' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.key).sort()).toEqual(['DATABASE_URL', 'QDRANT_PORT', 'QUEUE_PREFIX', 'REDIS_URL']);
    for (const key of ['DATABASE_URL', 'QDRANT_PORT', 'QUEUE_PREFIX', 'REDIS_URL']) expect(message).toContain(key);
    expect(message).toContain('QDRANT_PORT: must be a port number (1-65535)');
  });

  it('allows imports from loopback only unless IMPORT_ALLOWED_HOSTS lists more, and refuses a malformed list', () => {
    expect(loadConfig({}).import.allowedHosts).toEqual(['127.0.0.0/8', '::1/128']);
    expect(loadConfig({ IMPORT_ALLOWED_HOSTS: 'db.internal, 10.0.0.0/8,::1' }).import.allowedHosts).toEqual(['db.internal', '10.0.0.0/8', '::1']);
    expect(() => loadConfig({ IMPORT_ALLOWED_HOSTS: 'db internal' })).toThrow(/IMPORT_ALLOWED_HOSTS/);
    expect(() => loadConfig({ IMPORT_ALLOWED_HOSTS: ' , ' })).toThrow(/IMPORT_ALLOWED_HOSTS: list at least one/);
  });

  it('reads API_KEYS as a comma-separated list and runs open without it', () => {
    expect(loadConfig({ API_KEYS: ' k1, k2 ,,' }).auth.apiKeys).toEqual(['k1', 'k2']);
    expect(loadConfig({}).auth.apiKeys).toEqual([]);
    expect(loadConfig({ API_KEYS: '  ' }).auth.apiKeys).toEqual([]);
  });

  it('asks for dimensions when the model is unknown', () => {
    expect(() => loadConfig({ EMBEDDING_MODEL: 'nomic-embed-text' })).toThrow(/EMBEDDING_DIMENSIONS: required/);
  });

  it('refuses more dimensions than the model has', () => {
    expect(() => loadConfig({ EMBEDDING_MODEL: 'text-embedding-3-small', EMBEDDING_DIMENSIONS: '3072' })).toThrow(
      /EMBEDDING_DIMENSIONS/,
    );
  });
});
