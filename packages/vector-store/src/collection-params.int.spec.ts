import { loadConfig } from '@catalog-indexer/config';
import { QdrantEmulator, type Exchange } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { uniqueName } from '@catalog-indexer/testing';
import { QdrantStore, createQdrantStore } from './index';

/** Distributed-mode collection parameters travel from the configuration to Qdrant's create request. */
describe('collection parameters', () => {
  const qdrant = new QdrantEmulator();
  const creates: Exchange[] = [];
  let url: string;

  beforeAll(async () => {
    url = (await qdrant.start(0)).url;
    qdrant.onExchange((e) => {
      if (e.method === 'PUT' && e.template === '/collections/{collection_name}') creates.push(e);
    });
  });
  afterAll(() => qdrant.stop());

  it('sends shard_number, replication_factor and write_consistency_factor when configured', async () => {
    const collection = uniqueName('params');
    const config = loadConfig({
      QDRANT_URL: url,
      QDRANT_COLLECTION_NAME: collection,
      QDRANT_SHARD_NUMBER: '6',
      QDRANT_REPLICATION_FACTOR: '2',
      QDRANT_WRITE_CONSISTENCY_FACTOR: '1',
    });
    await createQdrantStore(config.qdrant, { dimensions: 8 }, createLogger({ level: 'silent' })).ensureCollection();
    const sent = creates.find((e) => e.path === `/collections/${QdrantStore.collectionFor(collection, 8)}`);
    expect(sent?.status).toBe(200);
    expect(sent?.requestBody).toMatchObject({ shard_number: 6, replication_factor: 2, write_consistency_factor: 1 });
  });

  it("leaves them to Qdrant's defaults when not configured", async () => {
    const collection = uniqueName('params');
    const config = loadConfig({ QDRANT_URL: url, QDRANT_COLLECTION_NAME: collection });
    await createQdrantStore(config.qdrant, { dimensions: 8 }, createLogger({ level: 'silent' })).ensureCollection();
    const body = creates.find((e) => e.path === `/collections/${QdrantStore.collectionFor(collection, 8)}`)?.requestBody as Record<string, unknown>;
    expect(body).toBeDefined();
    for (const key of ['shard_number', 'replication_factor', 'write_consistency_factor']) expect(body).not.toHaveProperty(key);
  });
});
