/**
 * Drives both emulators with the official clients through every route and error case they implement,
 * records each exchange, and validates every request and response body against the official OpenAPI
 * documents read at test time from the `shared` folder beside the repository (never copied in). A missing
 * spec fails this file. A final check proves every served route was exercised and validated.
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import OpenAI from 'openai';
import { countTokens } from '@catalog-indexer/text';
import { OpenAIEmulator } from './openai/openai-emulator';
import { decodeBase64Embedding } from './openai/embedding-encoding';
import { QdrantEmulator } from './qdrant/qdrant-emulator';
import { type Exchange } from './shared/exchange';
import { type EmulatorServer } from './shared/emulator-server';
import { OpenApiValidator } from './spec/openapi-validator';
import { sharedSpecPath } from './spec/shared-specs';

/** Routes served but absent from the 1.19 spec: the legacy search, still routed by the 1.19 server. */
const NOT_IN_SPEC = new Set(['POST /collections/{collection_name}/points/search']);

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number') return status;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/**
 * Validates all exchanges and returns readable failures plus the routes ("METHOD template") with at least
 * one successful exchange validated both ways. Rules: every response body must match the spec; a request
 * the emulator accepted (2xx) must match the spec; a request it refused as invalid (422) must not — the
 * error cases sent on purpose (unknown ids, wrong sizes, broken JSON) are otherwise free to break it.
 */
function validateAll(
  validator: OpenApiValidator,
  exchanges: readonly Exchange[],
  adjustResponse: (e: Exchange) => unknown = (e) => e.responseBody,
): { failures: string[]; validated: Set<string> } {
  const failures: string[] = [];
  const validated = new Set<string>();
  for (const e of exchanges) {
    const route = `${e.method} ${e.template ?? e.path}`;
    if (e.template && NOT_IN_SPEC.has(route)) continue;
    const request = validator.validateRequest(e.method, e.path, e.requestBody);
    const response = validator.validateResponse(e.method, e.path, e.status, adjustResponse(e));
    const shown = (body: unknown): string => JSON.stringify(body)?.slice(0, 300) ?? 'no body';
    if (e.status < 300 && !request.valid) failures.push(`${route} accepted request ${shown(e.requestBody)}: ${request.errors.join('; ')}`);
    if (e.status === 422 && request.valid) failures.push(`${route} refused with 422 a request the spec allows: ${shown(e.requestBody)}`);
    if (!response.valid) failures.push(`${route} ${e.status} response ${shown(e.responseBody)}: ${response.errors.join('; ')}`);
    if (e.status < 300 && request.valid && response.valid) validated.add(route);
  }
  return { failures, validated };
}

function unvalidatedRoutes(emulators: EmulatorServer[], validated: Set<string>): string[] {
  return emulators
    .flatMap((em) => em.routes())
    .map((r) => `${r.method.toUpperCase()} ${r.template}`)
    .filter((r) => !NOT_IN_SPEC.has(r) && !validated.has(r));
}

describe('spec conformance', () => {
  describe(QdrantEmulator.name, () => {
    const exchanges: Exchange[] = [];
    const record = (e: Exchange): void => {
      exchanges.push(e);
    };
    const open = new QdrantEmulator({ onExchange: record });
    const secured = new QdrantEmulator({ apiKey: 'qdrant-key', onExchange: record });
    let validator: OpenApiValidator;
    let client: QdrantClient;
    let url = '';
    let securedUrl = '';
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const c = 'catalog_chunks';

    beforeAll(async () => {
      validator = OpenApiValidator.fromFile(sharedSpecPath('qdrant'), { errorSchema: '#/components/schemas/ErrorResponse' });
      url = (await open.start()).url;
      securedUrl = (await secured.start()).url;
      client = new QdrantClient({ url, checkCompatibility: true });
    });
    afterAll(async () => {
      warn.mockRestore();
      await Promise.all([open.stop(), secured.stop()]);
    });

    it('passes the js client compatibility check and health probes', async () => {
      expect(await client.versionInfo()).toMatchObject({ title: 'qdrant - vector search engine', version: '1.19.0' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(warn.mock.calls.flat().join(' ')).not.toMatch(/incompatible|Failed to obtain server version/);
      const api = client.api();
      expect((await api.healthz({})).status).toBe(200);
      expect((await api.livez({})).status).toBe(200);
      expect((await api.readyz({})).status).toBe(200);
    });

    it('creates, describes, lists and indexes collections', async () => {
      expect(await client.collectionExists(c)).toEqual({ exists: false });
      expect(await client.createCollection(c, { vectors: { size: 4, distance: 'Cosine' } })).toBe(true);
      expect(await statusOf(client.createCollection(c, { vectors: { size: 4, distance: 'Cosine' } }))).toBe(409);
      expect(await client.createPayloadIndex(c, { field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true }, wait: true })).toMatchObject({ status: 'completed' });
      expect(await client.createPayloadIndex(c, { field_name: 'kind', field_schema: 'keyword' })).toMatchObject({ status: 'acknowledged' });
      await client.createPayloadIndex(c, { field_name: 'scratch', field_schema: 'integer' });
      await client.deletePayloadIndex(c, 'scratch');
      expect((await client.getCollections()).collections).toEqual([{ name: c }]);
      const info = await client.getCollection(c);
      expect(info.config.params.vectors).toEqual({ size: 4, distance: 'Cosine' });
      expect(Object.keys(info.payload_schema)).toEqual(['tenant', 'kind']);
      expect(await statusOf(client.getCollection('missing'))).toBe(404);
    });

    it('upserts, retrieves, scrolls, counts, queries and deletes points', async () => {
      await client.upsert(c, {
        points: [
          { id: 1, vector: [1, 0, 0, 0], payload: { tenant: 'acme', kind: 'table', name: 'sales.orders' } },
          { id: 2, vector: [0.9, 0.1, 0, 0], payload: { tenant: 'acme', kind: 'column', name: 'sales.orders.total' } },
          { id: '5C56C793-69F3-4FBF-87E6-C4BF54C28C26', vector: [0, 1, 0, 0], payload: { tenant: 'globex', kind: 'table' } },
        ],
      });
      await client.upsert(c, {
        batch: { ids: [3, 'F0E1D2C3-B4A5-9687-7869-5A4B3C2D1E0F'], vectors: [[0, 0, 1, 0], [0, 0, 0, 1]], payloads: [{ tenant: 'acme' }, { tenant: 'globex' }] },
      });
      expect(await statusOf(client.upsert(c, { points: [{ id: 9, vector: [1, 2, 3] }] }))).toBe(400);
      expect(await statusOf(client.upsert(c, { points: [{ id: 'sales.orders', vector: [1, 2, 3, 4] }] }))).toBe(400);

      const records = await client.retrieve(c, { ids: [2, '5c56c793-69f3-4fbf-87e6-c4bf54c28c26'], with_vector: true });
      expect(records.map((r) => r.id)).toEqual([2, '5c56c793-69f3-4fbf-87e6-c4bf54c28c26']);
      expect((await client.api().getPoint({ collection_name: c, id: 1 })).data.result?.payload).toMatchObject({ name: 'sales.orders' });

      const page = await client.scroll(c, { limit: 2, filter: { must: [{ key: 'tenant', match: { value: 'acme' } }] } });
      expect(page.points.map((p) => p.id)).toEqual([1, 2]);
      expect(page.next_page_offset).toBe(3);
      const rest = await client.scroll(c, { limit: 10, offset: page.next_page_offset ?? undefined, with_vector: true });
      expect(rest.points.map((p) => p.id)).toEqual([3, '5c56c793-69f3-4fbf-87e6-c4bf54c28c26', 'f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f']);
      expect(await client.count(c, { filter: { must_not: [{ key: 'kind', match: { any: ['column'] } }] }, exact: true })).toEqual({ count: 4 });

      const hits = await client.query(c, {
        query: [1, 0, 0, 0],
        filter: { must: [{ key: 'tenant', match: { value: 'acme' } }] },
        limit: 2,
        with_payload: true,
        score_threshold: 0.5,
      });
      expect(hits.points.map((p) => p.id)).toEqual([1, 2]);
      expect(hits.points[0]?.score).toBeCloseTo(1, 6);
      const nearest = await client.query(c, { query: { nearest: [0, 1, 0, 0] }, limit: 1, with_vector: true });
      expect(nearest.points[0]?.id).toBe('5c56c793-69f3-4fbf-87e6-c4bf54c28c26');
      const byId = await client.query(c, { query: 1, limit: 1 });
      expect(byId.points[0]?.id).toBe(2);
      expect(await statusOf(client.query(c, { query: [1, 0, 0], limit: 1 }))).toBe(400);
      expect(await statusOf(client.query(c, { query: [1, 0, 0, 0], limit: 0 }))).toBe(422);
      expect(await statusOf(client.query(c, { query: [1, 0, 0, 0], filter: { must: [{ key: 'a', match: { value: 'x' } }], unknown: [] } }))).toBe(400);

      await client.delete(c, { points: [3], wait: true });
      await client.delete(c, { filter: { must: [{ key: 'tenant', match: { value: 'globex' } }] } });
      expect(await client.count(c)).toEqual({ count: 2 });
    });

    it('still routes the legacy search endpoint', async () => {
      const res = await fetch(`${url}/collections/${c}/points/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vector: [1, 0, 0, 0], limit: 1 }),
      });
      expect(((await res.json()) as { result: { id: unknown }[] }).result[0]?.id).toBe(1);
    });

    it('switches collections through aliases', async () => {
      await client.createCollection('catalog_v2', { vectors: { size: 4, distance: 'Dot' } });
      expect(await client.updateCollectionAliases({ actions: [{ create_alias: { alias_name: 'catalog', collection_name: c } }] })).toBe(true);
      await client.updateCollectionAliases({
        actions: [{ delete_alias: { alias_name: 'catalog' } }, { create_alias: { alias_name: 'catalog', collection_name: 'catalog_v2' } }],
      });
      await client.updateCollectionAliases({ actions: [{ rename_alias: { old_alias_name: 'catalog', new_alias_name: 'catalog_live' } }] });
      expect((await client.getAliases()).aliases).toEqual([{ alias_name: 'catalog_live', collection_name: 'catalog_v2' }]);
      expect((await client.getCollectionAliases('catalog_v2')).aliases).toHaveLength(1);
      expect(await statusOf(client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: 'nope' } }] }))).toBe(404);
    });

    it('answers malformed JSON, faults and API key checks in the error envelope', async () => {
      const malformed = await fetch(`${url}/collections/${c}/points/scroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect(malformed.status).toBe(400);
      open.injectFault({ method: 'GET', path: '/collections$', status: 503 });
      expect(await statusOf(client.getCollections())).toBe(503);

      const anonymous = new QdrantClient({ url: securedUrl, checkCompatibility: false });
      const wrong = new QdrantClient({ url: securedUrl, apiKey: 'nope', checkCompatibility: false });
      const keyed = new QdrantClient({ url: securedUrl, apiKey: 'qdrant-key', checkCompatibility: true });
      expect(await statusOf(anonymous.getCollections())).toBe(401);
      expect(await statusOf(wrong.getCollections())).toBe(403);
      expect(await keyed.getCollections()).toEqual({ collections: [] });
    });

    it('serves named dense and idf sparse vectors, prefetch with weighted rrf, payload updates and batch queries', async () => {
      const h = 'catalog_hybrid';
      expect(await statusOf(client.createCollection(h, { vectors: { dense: { size: 2, distance: 'Cosine' } }, replication_factor: 0 }))).toBe(422);
      await client.createCollection(h, {
        vectors: { dense: { size: 2, distance: 'Cosine' } },
        sparse_vectors: { terms: { modifier: 'idf' } },
        shard_number: 2,
        replication_factor: 2,
        write_consistency_factor: 1,
      });
      await client.createPayloadIndex(h, { field_name: 'catalog_id', field_schema: { type: 'keyword', is_tenant: true }, wait: true });
      await client.upsert(h, {
        wait: true,
        points: [
          { id: 1, vector: { dense: [1, 0], terms: { indices: [7, 3], values: [1, 1] } }, payload: { catalog_id: 'a' } },
          { id: 2, vector: { dense: [0.6, 0.8], terms: { indices: [3], values: [2] } }, payload: { catalog_id: 'a' } },
          { id: 3, vector: { dense: [0, 1], terms: { indices: [3, 9], values: [1, 1] } }, payload: { catalog_id: 'b' } },
        ],
      });
      const info = await client.getCollection(h);
      expect(info.config.params).toMatchObject({ sparse_vectors: { terms: { modifier: 'idf' } }, shard_number: 2, replication_factor: 2 });

      const tenant = { must: [{ key: 'catalog_id', match: { value: 'a' } }] };
      const fused = await client.query(h, {
        prefetch: [
          { query: [1, 0], using: 'dense', filter: tenant, limit: 5 },
          { query: { indices: [7, 3], values: [1, 1] }, using: 'terms', filter: tenant, limit: 5 },
        ],
        query: { rrf: { k: 2, weights: [1, 3] } },
        limit: 2,
        with_payload: ['catalog_id'],
        with_vector: ['terms'],
      });
      expect(fused.points.map((p) => p.id)).toEqual([1, 2]);
      expect(fused.points[0]?.score).toBeCloseTo(1 / (1 / 1 + 1) + 1 / (1 / 3 + 1), 6);
      expect(fused.points[0]?.vector).toEqual({ terms: { indices: [3, 7], values: [1, 1] } });

      await client.updateCollection(h, { sparse_vectors: { terms: { modifier: 'none' } }, optimizers_config: { indexing_threshold: 100 } });
      await client.setPayload(h, { payload: { kind: 'table' }, points: [1], wait: true });
      await client.overwritePayload(h, { payload: { catalog_id: 'b' }, points: [2], wait: true });
      await client.deletePayload(h, { keys: ['kind'], points: [1], wait: true });
      await client.clearPayload(h, { points: [3], wait: true });
      await client.updateVectors(h, { points: [{ id: 3, vector: { terms: { indices: [9, 2], values: [1, 1] } } }], wait: true });
      await client.deleteVectors(h, { points: [1], vector: ['terms'], wait: true });
      expect(await statusOf(client.updateVectors(h, { points: [{ id: 99, vector: { dense: [1, 0] } }] }))).toBe(404);
      const [three, one] = await client.retrieve(h, { ids: [3, 1], with_vector: true });
      expect(three?.vector).toEqual({ dense: [0, 1], terms: { indices: [2, 9], values: [1, 1] } });
      expect(one?.vector).toEqual({ dense: [1, 0] });
      const batch = await client.queryBatch(h, {
        searches: [
          { query: [1, 0], using: 'dense', filter: { must: [{ key: 'catalog_id', match: { value: 'b' } }] }, with_payload: true },
          { query: { indices: [9], values: [1] }, using: 'terms' },
        ],
      });
      expect(batch.map((r) => r.points.map((p) => p.id))).toEqual([[2], [3]]);
      expect(batch[0]?.points[0]?.payload).toEqual({ catalog_id: 'b' });
      expect(await client.deleteCollection(h)).toBe(true);
    });

    it('deletes collections, answering false for a missing one', async () => {
      expect(await client.deleteCollection('catalog_v2')).toBe(true);
      expect(await client.deleteCollection('catalog_v2')).toBe(false);
      expect(await client.deleteCollection(c)).toBe(true);
    });

    it('sent and answered only what the official Qdrant spec allows', () => {
      const { failures } = validateAll(validator, exchanges);
      expect(failures).toEqual([]);
    });

    it('exercised and validated every route it serves', () => {
      const { validated } = validateAll(validator, exchanges);
      expect(unvalidatedRoutes([open], validated)).toEqual([]);
      expect(exchanges.some((e) => e.status >= 400)).toBe(true);
    });
  });

  describe(OpenAIEmulator.name, () => {
    const exchanges: Exchange[] = [];
    const emulator = new OpenAIEmulator({ apiKey: 'sk-emulator', onExchange: (e) => exchanges.push(e) });
    let validator: OpenApiValidator;
    let client: OpenAI;
    let baseURL = '';

    // Spec gap: Embedding.embedding is typed number[] only, but with encoding_format "base64" the API
    // (and so the emulator) answers a base64 string. Such bodies are validated once decoded.
    const decodeBase64 = (e: Exchange): unknown => {
      const body = e.responseBody as { data?: { embedding: unknown }[] } | undefined;
      if (e.status !== 200 || (e.requestBody as { encoding_format?: string }).encoding_format !== 'base64' || !body?.data) return body;
      return { ...body, data: body.data.map((d) => ({ ...d, embedding: decodeBase64Embedding(d.embedding as string) })) };
    };

    beforeAll(async () => {
      validator = OpenApiValidator.fromFile(sharedSpecPath('openai'), { errorSchema: '#/components/schemas/ErrorResponse' });
      baseURL = `${(await emulator.start()).url}/v1`;
      client = new OpenAI({ apiKey: 'sk-emulator', baseURL, maxRetries: 0 });
    });
    afterEach(() => emulator.reset());
    afterAll(() => emulator.stop());

    it('serves base64 (the SDK default) and float encodings with the same vectors', async () => {
      const implicit = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['orders by customer', 'payroll'] });
      const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['orders by customer', 'payroll'], encoding_format: 'float' });
      expect(implicit.data[0]?.embedding).toHaveLength(1536);
      expect(implicit.data.map((d) => d.embedding)).toEqual(float.data.map((d) => d.embedding));
      const tokens = countTokens('orders by customer') + countTokens('payroll');
      expect(float.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    });

    it('honours dimensions, model defaults and token-id inputs', async () => {
      expect((await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x', dimensions: 256, encoding_format: 'float' })).data[0]?.embedding).toHaveLength(256);
      expect((await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x' })).data[0]?.embedding).toHaveLength(3072);
      expect((await client.embeddings.create({ model: 'text-embedding-ada-002', input: [15339, 1917], user: 'tests' })).usage.total_tokens).toBe(2);
      const many = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2], [3]], encoding_format: 'float' });
      expect(many.data.map((d) => d.index)).toEqual([0, 1]);
    });

    it('answers the API limits with OpenAI errors', async () => {
      const create = (body: Parameters<OpenAI['embeddings']['create']>[0]) => client.embeddings.create(body);
      expect(await statusOf(create({ model: 'text-embedding-3-small', input: '' }))).toBe(400);
      expect(await statusOf(create({ model: 'text-embedding-3-small', input: Array.from({ length: 2049 }, () => 'x') }))).toBe(400);
      expect(await statusOf(create({ model: 'text-embedding-3-small', input: ' hello'.repeat(8193) }))).toBe(400);
      expect(await statusOf(create({ model: 'text-embedding-3-small', input: Array.from({ length: 37 }, () => ' hello'.repeat(8192)) }))).toBe(400);
      expect(await statusOf(create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 8 }))).toBe(400);
      expect(await statusOf(create({ model: 'text-embedding-9', input: 'x' }))).toBe(404);
      const tooMany = exchanges.filter((e) => e.status === 400).map((e) => (e.responseBody as { error: { code: unknown } }).error.code);
      expect(tooMany).toContain('max_tokens_per_request');
    });

    it('rejects a wrong API key and malformed JSON', async () => {
      const wrong = new OpenAI({ apiKey: 'sk-wrong-0000', baseURL, maxRetries: 0 });
      expect(await statusOf(wrong.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }))).toBe(401);
      const res = await fetch(`${baseURL}/embeddings`, { method: 'POST', headers: { authorization: 'Bearer sk-emulator', 'content-type': 'application/json' }, body: '{"input":' });
      expect(res.status).toBe(400);
    });

    it('answers 429s: rate limits with retry headers, quota exhaustion without retries', async () => {
      emulator.configure({ tokensPerMinute: 5 });
      const { response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one two three', encoding_format: 'float' }).withResponse();
      expect(response.headers.get('x-ratelimit-remaining-tokens')).toBe('2');
      const limited = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'four five six' }).catch((err: unknown) => err);
      expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
      expect((limited as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
      expect(Number((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      emulator.reset();
      emulator.setInsufficientQuota(true);
      const retrying = new OpenAI({ apiKey: 'sk-emulator', baseURL, maxRetries: 2 });
      const quota = await retrying.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((err: unknown) => err);
      expect((quota as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('insufficient_quota');
      expect(emulator.stats.requests).toBe(1);
    });

    it('fails injected requests and lets the SDK retry them', async () => {
      emulator.failNext({ count: 1, status: 503 });
      const retrying = new OpenAI({ apiKey: 'sk-emulator', baseURL, maxRetries: 1 });
      await retrying.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      expect(emulator.stats).toMatchObject({ requests: 2, failed: 1, succeeded: 1 });
    });

    it('sent and answered only what the official OpenAI spec allows', () => {
      const { failures } = validateAll(validator, exchanges, decodeBase64);
      expect(failures).toEqual([]);
      expect(exchanges.filter((e) => e.status === 200 && typeof (e.responseBody as { data: { embedding: unknown }[] }).data[0]?.embedding === 'string')).not.toHaveLength(0);
    });

    it('exercised and validated every route it serves, success and error statuses alike', () => {
      const { validated } = validateAll(validator, exchanges, decodeBase64);
      expect(unvalidatedRoutes([emulator], validated)).toEqual([]);
      expect([...new Set(exchanges.map((e) => e.status))].sort()).toEqual([200, 400, 401, 404, 429, 503]);
    });
  });
});
