import { QdrantEmulator } from './qdrant-emulator';

/** Parsed JSON of a response; loosely typed so assertions can reach into it. */
type Json = ReturnType<typeof JSON.parse>;

describe(QdrantEmulator.name, () => {
  const emulator = new QdrantEmulator();
  let url = '';

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; headers: Headers }> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text responses (healthz) stay text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  const createWithPoints = async (name: string, distance = 'Cosine'): Promise<void> => {
    await call('PUT', `/collections/${name}`, { vectors: { size: 2, distance } });
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: [
        { id: 'B0000000-0000-0000-0000-000000000000', vector: [1, 1], payload: { n: 4 } },
        { id: 3, vector: [1, 0], payload: { n: 3, tenant: 't1' } },
        { id: 1, vector: [0, 1], payload: { n: 1, tenant: 't1' } },
        { id: 'a0000000000000000000000000000000', vector: [-1, 0], payload: { n: 5, tenant: 't2' } },
      ],
    });
  };

  beforeAll(async () => {
    url = (await emulator.start()).url;
  });
  afterEach(() => emulator.reset());
  afterAll(() => emulator.stop());

  it('wraps results in the Qdrant envelope', async () => {
    const res = await call('GET', '/collections');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ result: { collections: [] }, status: 'ok', time: expect.any(Number) });
  });

  it('answers 404 and 409 with Qdrant wording', async () => {
    expect((await call('GET', '/collections/nope')).body.status.error).toBe('Not found: Collection `nope` doesn\'t exist!');
    await call('PUT', '/collections/c', { vectors: { size: 2, distance: 'Dot' } });
    const again = await call('PUT', '/collections/c', { vectors: { size: 2, distance: 'Dot' } });
    expect(again.status).toBe(409);
    expect(again.body.status.error).toBe('Wrong input: Collection `c` already exists!');
  });

  it('answers deletion of a missing collection with result false', async () => {
    expect((await call('DELETE', '/collections/ghost')).body.result).toBe(false);
  });

  it('rejects a vector of the wrong size with the dimension error', async () => {
    await call('PUT', '/collections/c', { vectors: { size: 4, distance: 'Cosine' } });
    const res = await call('PUT', '/collections/c/points', { points: [{ id: 1, vector: [1, 2, 3] }] });
    expect(res.status).toBe(400);
    expect(res.body.status.error).toBe('Wrong input: Vector dimension error: expected dim: 4, got 3');
  });

  it('reports acknowledged without wait and completed with wait=true', async () => {
    await call('PUT', '/collections/c', { vectors: { size: 2, distance: 'Dot' } });
    const first = await call('PUT', '/collections/c/points', { batch: { ids: [1], vectors: [[1, 2]] } });
    const second = await call('PUT', '/collections/c/points?wait=true', { batch: { ids: [2], vectors: [[1, 2]], payloads: [{ a: 1 }] } });
    expect(first.body.result).toEqual({ operation_id: 0, status: 'acknowledged' });
    expect(second.body.result).toEqual({ operation_id: 1, status: 'completed' });
    expect(emulator.pointCount('c')).toBe(2);
  });

  it('scrolls integers before UUIDs, page by page', async () => {
    await createWithPoints('c');
    const first = await call('POST', '/collections/c/points/scroll', { limit: 3 });
    expect((first.body.result.points as { id: unknown }[]).map((p) => p.id)).toEqual([1, 3, 'a0000000-0000-0000-0000-000000000000']);
    expect(first.body.result.next_page_offset).toBe('b0000000-0000-0000-0000-000000000000');
    const second = await call('POST', '/collections/c/points/scroll', { limit: 3, offset: first.body.result.next_page_offset });
    expect(second.body.result).toMatchObject({ points: [{ id: 'b0000000-0000-0000-0000-000000000000', payload: { n: 4 } }], next_page_offset: null });
  });

  it('queries with exact scores, filters, thresholds and payload off by default', async () => {
    await createWithPoints('c');
    const res = await call('POST', '/collections/c/points/query', { query: [1, 0], limit: 2 });
    expect(res.body.result.points).toEqual([
      { id: 3, version: 0, score: 1 },
      { id: 'b0000000-0000-0000-0000-000000000000', version: 0, score: 0.70710677 },
    ]);
    const filtered = await call('POST', '/collections/c/points/query', {
      query: { nearest: [1, 0] },
      filter: { must: [{ key: 'tenant', match: { value: 't1' } }] },
      score_threshold: 0.5,
      with_payload: true,
    });
    expect(filtered.body.result.points).toEqual([{ id: 3, version: 0, score: 1, payload: { n: 3, tenant: 't1' } }]);
  });

  it('queries by point id, leaving the point itself out', async () => {
    await createWithPoints('c');
    const res = await call('POST', '/collections/c/points/query', { query: 3, limit: 1 });
    expect((res.body.result.points as { id: unknown }[]).map((p) => p.id)).toEqual(['b0000000-0000-0000-0000-000000000000']);
  });

  it('orders Euclid results by ascending distance', async () => {
    await createWithPoints('c', 'Euclid');
    const res = await call('POST', '/collections/c/points/query', { query: [1, 0], limit: 2 });
    expect((res.body.result.points as { score: number }[]).map((p) => p.score)).toEqual([0, 1]);
  });

  it('still serves the legacy search endpoint', async () => {
    await createWithPoints('c');
    const res = await call('POST', '/collections/c/points/search', { vector: [0, 1], limit: 1, with_payload: true });
    expect(res.body.result).toEqual([{ id: 1, version: 0, score: 1, payload: { n: 1, tenant: 't1' } }]);
  });

  it('deletes by filter and counts what is left', async () => {
    await createWithPoints('c');
    await call('POST', '/collections/c/points/delete?wait=true', { filter: { must: { key: 'tenant', match: { value: 't1' } } } });
    expect((await call('POST', '/collections/c/points/count', { exact: true })).body.result).toEqual({ count: 2 });
  });

  it('resolves aliases and switches them atomically', async () => {
    await createWithPoints('v1');
    await call('PUT', '/collections/v2', { vectors: { size: 2, distance: 'Cosine' } });
    await call('POST', '/collections/aliases', { actions: [{ create_alias: { alias_name: 'live', collection_name: 'v1' } }] });
    expect((await call('POST', '/collections/live/points/count', {})).body.result.count).toBe(4);
    const failed = await call('POST', '/collections/aliases', {
      actions: [{ delete_alias: { alias_name: 'live' } }, { create_alias: { alias_name: 'live', collection_name: 'missing' } }],
    });
    expect(failed.status).toBe(404);
    expect((await call('GET', '/aliases')).body.result.aliases).toEqual([{ alias_name: 'live', collection_name: 'v1' }]);
    await call('POST', '/collections/aliases', {
      actions: [{ delete_alias: { alias_name: 'live' } }, { create_alias: { alias_name: 'live', collection_name: 'v2' } }],
    });
    expect((await call('POST', '/collections/live/points/count', {})).body.result.count).toBe(0);
  });

  it('lists payload indexes in the collection info', async () => {
    await createWithPoints('c');
    await call('PUT', '/collections/c/index', { field_name: 'tenant', field_schema: { type: 'keyword', is_tenant: true } });
    await call('PUT', '/collections/c/index', { field_name: 'n', field_schema: 'integer' });
    const info = (await call('GET', '/collections/c')).body.result;
    expect(info).toMatchObject({ status: 'green', points_count: 4, config: { params: { vectors: { size: 2, distance: 'Cosine' } } } });
    expect(info.payload_schema).toEqual({
      tenant: { data_type: 'keyword', params: { type: 'keyword', is_tenant: true }, points: 3 },
      n: { data_type: 'integer', points: 4 },
    });
  });

  it('answers bad JSON with 400, bad types with 400 and out-of-range values with 422', async () => {
    await createWithPoints('c');
    const malformed = await call('POST', '/collections/c/points/scroll', '{"limit": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.status.error).toMatch(/^Format error in JSON body: /);
    expect((await call('POST', '/collections/c/points/scroll', { limit: 'ten' })).status).toBe(400);
    const zero = await call('POST', '/collections/c/points/query', { query: [1, 0], limit: 0 });
    expect(zero.status).toBe(422);
    expect(zero.body.status.error).toBe('Validation error in JSON body: [internal.limit: value 0 invalid, must be 1 or larger]');
  });

  it('rejects unknown filter keys with a 400', async () => {
    await createWithPoints('c');
    const res = await call('POST', '/collections/c/points/count', { filter: { must: [], mustnt: [] } });
    expect(res.status).toBe(400);
    expect(res.body.status.error).toContain('unknown field `mustnt`');
  });

  it('injects faults through the control endpoint, then serves normally', async () => {
    const armed = await call('POST', '/__emulator/faults', { method: 'GET', path: '^/collections$', status: 503, times: 2, retryAfterSeconds: 1 });
    expect(armed.body).toEqual({ pending: 1 });
    const failed = await call('GET', '/collections');
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(failed.body.status.error).toEqual(expect.any(String));
    expect((await call('GET', '/collections')).status).toBe(503);
    expect((await call('GET', '/collections')).status).toBe(200);
  });

  it('delays matching requests when asked', async () => {
    emulator.injectFault({ path: '^/collections$', delayMs: 150 });
    const started = Date.now();
    expect((await call('GET', '/collections')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('records every exchange with its route template', async () => {
    const seen: string[] = [];
    const off = emulator.onExchange((e) => seen.push(`${e.method} ${e.template ?? '?'} ${e.status}`));
    await call('GET', '/collections/nope/exists');
    await call('GET', '/__emulator/nothing');
    off();
    expect(seen).toEqual(['GET /collections/{collection_name}/exists 200']);
  });
});

describe(`${QdrantEmulator.name} with an API key`, () => {
  const emulator = new QdrantEmulator({ apiKey: 'secret' });
  let url = '';
  beforeAll(async () => {
    url = (await emulator.start()).url;
  });
  afterAll(() => emulator.stop());

  it('answers 401 without a key, 403 with a wrong one and serves health checks to anyone', async () => {
    expect((await fetch(`${url}/collections`)).status).toBe(401);
    expect((await fetch(`${url}/collections`, { headers: { 'api-key': 'wrong' } })).status).toBe(403);
    expect((await fetch(`${url}/collections`, { headers: { 'api-key': 'secret' } })).status).toBe(200);
    expect((await fetch(`${url}/collections`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
