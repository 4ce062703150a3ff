import net from 'node:net';
import fc from 'fast-check';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueName, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';

jest.setTimeout(300_000);

/** Seeded and bounded: `FUZZ_SEED` replays a failure, `FUZZ_RUNS` sets how many requests are tried. */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const KEY = 'fuzz-key-0123456789';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type Service = 'api' | 'query';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Every route of both services; `{id}` and `{job}` are filled at run time or replaced by junk. */
const ROUTES: { service: Service; method: Method; path: string; body?: unknown }[] = [
  { service: 'api', method: 'POST', path: '/v1/catalogs', body: shopCatalog },
  { service: 'api', method: 'GET', path: '/v1/catalogs' },
  { service: 'api', method: 'GET', path: '/v1/catalogs/{id}' },
  { service: 'api', method: 'PUT', path: '/v1/catalogs/{id}', body: shopCatalog },
  { service: 'api', method: 'DELETE', path: '/v1/catalogs/{id}' },
  { service: 'api', method: 'PATCH', path: '/v1/catalogs/{id}/items', body: { reject: ['sales.orders'], restore: ['sales.refunds'] } },
  { service: 'api', method: 'POST', path: '/v1/catalogs/{id}/reindex', body: { force: true } },
  { service: 'api', method: 'POST', path: '/v1/catalogs/{id}/cleanup', body: {} },
  { service: 'api', method: 'GET', path: '/v1/catalogs/{id}/runs' },
  { service: 'api', method: 'POST', path: '/v1/catalogs/import', body: { connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', schemas: ['public'] } },
  { service: 'api', method: 'GET', path: '/v1/jobs/{job}' },
  { service: 'api', method: 'GET', path: '/v1/catalog.schema.json' },
  { service: 'api', method: 'GET', path: '/openapi.json' },
  { service: 'api', method: 'GET', path: '/metrics' },
  { service: 'api', method: 'GET', path: '/healthz' },
  { service: 'api', method: 'GET', path: '/readyz' },
  { service: 'api', method: 'GET', path: '/admin/queues' },
  { service: 'api', method: 'GET', path: '/admin/queues/api/queues' },
  { service: 'query', method: 'POST', path: '/v1/search', body: { catalogId: '{id}', query: 'paid orders by region', limit: 5 } },
  { service: 'query', method: 'POST', path: '/v1/context', body: { catalogId: '{id}', query: 'paid orders by region' } },
  { service: 'query', method: 'GET', path: '/openapi.json' },
  { service: 'query', method: 'GET', path: '/metrics' },
  { service: 'query', method: 'GET', path: '/healthz' },
  { service: 'query', method: 'GET', path: '/readyz' },
];

/** Text that has broken servers before: NUL, lone surrogates, huge numbers, path tricks, SQL. */
const nastyString = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udfff\ud800', '', ' ', '..', '%', '%00', "'; DROP TABLE catalogs; --", 'constructor', '__proto__'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, -1, 0, 1e308, 2 ** 53 + 1, [], {}),
);

/**
 * A value as query-string text. fast-check's JSON values include objects without a prototype, which
 * `String()` cannot convert: those (and every object) are written as JSON.
 */
const asText = (value: unknown): string => (value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value));

/** All paths into a JSON value, for mutating one place of a valid body. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

type Mutation = { kind: 'set' | 'delete' | 'add'; at: number; key: string; value: unknown };

function mutate(template: unknown, mutations: Mutation[]): unknown {
  let body = structuredClone(template);
  for (const generated of mutations) {
    // A copy of the generated value: fast-check hands out one instance of a constant (the `{}` of
    // `anyValue`) to every draw, and adding that object to itself would make the body cyclic.
    const m = { ...generated, value: structuredClone(generated.value) };
    const paths = pathsOf(body);
    const path = paths[m.at % paths.length] ?? [];
    if (path.length === 0) {
      body = m.kind === 'set' ? m.value : body;
      continue;
    }
    let parent = body as Record<string | number, unknown>;
    for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (m.kind === 'set') parent[last] = m.value;
    else if (m.kind === 'delete') delete parent[last];
    else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
      else if (Array.isArray(target)) target.push(m.value);
    }
  }
  return body;
}

/** Puts `inject` into the middle of one string of a valid body, so that only that text is wrong. */
function taint(template: unknown, at: number, inject: string): unknown {
  const body = structuredClone(template);
  const leaves = pathsOf(body).filter((p) => p.length > 0 && typeof p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], body) === 'string');
  const path = leaves[at % Math.max(leaves.length, 1)];
  if (!path) return body;
  let parent = body as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) parent = parent[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const text = parent[last] as string;
  parent[last] = text.slice(0, text.length >> 1) + inject + text.slice(text.length >> 1);
  return body;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'delete', 'add'),
  at: fc.nat(),
  key: fc.oneof(nastyString, fc.constantFrom('name', 'force', 'extra')),
  value: anyValue,
});

interface FuzzRequest {
  route: number;
  method: Method | undefined;
  idChoice: 'catalog' | 'junk' | 'uuid';
  junk: string;
  query: [string, string][];
  auth: 'right' | 'wrong' | 'none' | 'basic' | 'garbage';
  contentType: string | undefined;
  body: { kind: 'template'; mutations: Mutation[] } | { kind: 'taint'; at: number; inject: string } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'none' };
}

const requestArb: fc.Arbitrary<FuzzRequest> = fc.record({
  route: fc.nat({ max: ROUTES.length - 1 }),
  method: fc.option(fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), { freq: 6 }),
  idChoice: fc.constantFrom('catalog', 'catalog', 'junk', 'uuid'),
  junk: fc.oneof(nastyString, fc.constantFrom('%E0%A4%A', '%ZZ', '..%2F..%2Fetc', 'reindex-1', '1', 'a:b', '%00')),
  query: fc.array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'offset', 'reindex'), nastyString), anyValue.map(asText)), { maxLength: 3 }),
  auth: fc.constantFrom('right', 'right', 'right', 'right', 'right', 'right', 'right', 'wrong', 'none', 'basic', 'garbage'),
  contentType: fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin9', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'), { freq: 5 }).map((c) => c ?? undefined),
  body: fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('template' as const), mutations: fc.array(mutationArb, { maxLength: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('taint' as const), at: fc.nat(), inject: fc.constantFrom('\u0000', '\ud800', '\udc00', '\ud83d') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), value: anyValue }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('raw' as const), text: fc.string({ maxLength: 200 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  ),
});

/** Percent-encodes every byte but letters, digits and `%` (kept so that broken escapes reach the server). */
const encodePathJunk = (s: string) =>
  [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9%._-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');

/** Header values fetch can send: printable Latin-1 only. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/**
 * Random and mutated requests to every route of api and query, as separate processes against the real
 * Postgres and Redis: no answer is a 5xx, and a refused request leaves the catalogs, their items and the
 * queue exactly as they were.
 */
describe('HTTP fuzzing of api and query', () => {
  const prefix = uniqueName('fuzz');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let redis: RedisClient;
  let jobs: JobProducer;
  let apps: AppProcess[] = [];
  const base: Record<Service, string> = { api: '', query: '' };
  let catalogId = '';

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`).join('\n');

  /** What a refused request must not change. */
  const fingerprint = async (): Promise<string> => {
    const [row] = await db.dataSource.query<{ c: string; i: string }[]>(
      `SELECT (SELECT md5(coalesce(string_agg(id::text || ':' || version || ':' || updated_at::text, ',' ORDER BY id), '')) FROM catalogs) AS c,
              (SELECT md5(coalesce(string_agg(catalog_id::text || key || rejected::text, ',' ORDER BY catalog_id, key), '')) FROM catalog_items) AS i`,
    );
    const counts = await jobs.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    return JSON.stringify([row, counts]);
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'fuzz', migrate: true }));
    qdrant = new QdrantEmulator();
    const q = await qdrant.start(0);
    redis = createRedisConnection(loadConfig().redis.url, 'producer');
    jobs = new JobProducer(redis, prefix);
    const [apiPort, queryPort] = [await freePort(), await freePort()];
    base.api = `http://127.0.0.1:${apiPort}`;
    base.query = `http://127.0.0.1:${queryPort}`;
    const env = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: uniqueName('fuzz'),
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '32',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      API_KEYS: KEY,
      IMPORT_CONNECT_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'warn',
    };
    // A worker creates the collection the query service reads (the query never creates it), then stops:
    // nothing may change the stored state while requests are fuzzed but the requests themselves.
    const worker = spawnApp('worker', { ...env, WORKER_PORT: '0', RECONCILE_INTERVAL_MS: '0' });
    apps = [spawnApp('api', env), spawnApp('query', env), worker];
    await waitForHttp(`${base.api}/readyz`, 60_000, logs);
    await waitForHttp(`${base.query}/readyz`, 60_000, logs);
    await worker.stop();
    apps = apps.filter((a) => a !== worker);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await jobs?.close();
    redis?.disconnect();
    await qdrant?.stop();
    await deleteRedisPrefix(prefix);
    await db?.drop();
  });

  /** A catalog the requests can name; made again when a fuzzed DELETE removed it. */
  const ensureCatalog = async (): Promise<string> => {
    const exists = catalogId !== '' && (await db.dataSource.query<unknown[]>('SELECT 1 FROM catalogs WHERE id = $1', [catalogId])).length > 0;
    if (exists) return catalogId;
    const res = await fetch(`${base.api}/v1/catalogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(shopCatalog),
    });
    if (res.status !== 201) throw new Error(`could not create the catalog: ${res.status} ${await res.text()}`);
    catalogId = ((await res.json()) as { id: string }).id;
    return catalogId;
  };

  /** Every route that reads a JSON body, with `{id}` filled. */
  const bodyRoutes = () => ROUTES.filter((r) => r.body !== undefined);
  const send = async (service: Service, method: Method, path: string, body: string) => {
    const id = await ensureCatalog();
    const res = await fetch(`${base[service]}${path.replace('{id}', id)}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it.each([
    ['5,000 nested objects', (field: string) => `{"${field}":` + '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000) + '}'],
    ['100,000 nested arrays', (field: string) => `{"${field}":` + '['.repeat(100_000) + ']'.repeat(100_000) + '}'],
  ])('refuses %s on every route with a body with 400 naming the limit, and stores nothing', async (_what, deep) => {
    for (const route of bodyRoutes()) {
      const field = Object.keys(route.body as object)[0]!;
      await ensureCatalog();
      const before = await fingerprint();
      const { status, text } = await send(route.service, route.method, route.path, deep(field));
      const what = `${route.method} ${route.path} → ${status} ${text.slice(0, 300)}`;
      // The query service takes bodies of at most 64 kB: a bigger deep body is refused for its size first.
      if (status === 413) expect(route.service).toBe('query');
      else {
        expect({ what, status }).toEqual({ what, status: 400 });
        const error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
        expect(error.code).toBe('nesting_too_deep');
        expect(error.message).toMatch(/more than 64 levels deep/);
      }
      expect(await fingerprint()).toBe(before);
    }
    // Small enough for every route's size limit, and still too deep.
    for (const route of bodyRoutes()) {
      const { status, text } = await send(route.service, route.method, route.path, '['.repeat(1_000) + ']'.repeat(1_000));
      expect({ route: route.path, status, code: (JSON.parse(text) as { error: { code: string } }).error.code }).toEqual({ route: route.path, status: 400, code: 'nesting_too_deep' });
    }
  });

  it('answers a huge array in every field of every route with a body with a 4xx or a success, never a 5xx', async () => {
    for (const route of bodyRoutes()) {
      const template = JSON.parse(JSON.stringify(route.body).replace('{id}', await ensureCatalog())) as Record<string, unknown>;
      for (const field of Object.keys(template)) {
        for (const huge of [Array.from({ length: 200_000 }, (_, i) => i), Array.from({ length: 2_000 }, () => ({ name: 'x'.repeat(20) }))]) {
          const { status, text } = await send(route.service, route.method, route.path, JSON.stringify({ ...template, [field]: huge }));
          expect({ route: `${route.method} ${route.path} ${field}`, serverError: status >= 500, text: status >= 500 ? text.slice(0, 300) : '' }).toEqual({
            route: `${route.method} ${route.path} ${field}`,
            serverError: false,
            text: '',
          });
        }
      }
    }
  });

  it('never answers 5xx and stores nothing for a refused request', async () => {
    const seen = new Map<number, number>();
    const property = fc.asyncProperty(requestArb, async (r) => {
      const route = ROUTES[r.route]!;
      const id = await ensureCatalog();
      const fill = (s: string) =>
        s.replace(/\{id\}|\{job\}/g, () =>
          r.idChoice === 'catalog' ? id : r.idChoice === 'uuid' ? '6f1d6c1e-1c1a-4d1f-9a7e-3d0b5a1b2c3d' : encodePathJunk(r.junk),
        );
      const search = new URLSearchParams(r.query).toString();
      const url = `${base[route.service]}${fill(route.path)}${search ? `?${search}` : ''}`;
      const method = r.method ?? route.method;
      const headers: Record<string, string> = {};
      if (r.auth === 'right') headers.authorization = `Bearer ${KEY}`;
      if (r.auth === 'wrong') headers.authorization = `Bearer ${KEY}x`;
      if (r.auth === 'basic') headers.authorization = `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`;
      if (r.auth === 'garbage') headers.authorization = headerSafe(r.junk);
      let body: string | undefined;
      if (r.body.kind === 'template' && route.body !== undefined) {
        body = JSON.stringify(mutate(JSON.parse(fill(JSON.stringify(route.body))), r.body.mutations));
      } else if (r.body.kind === 'taint' && route.body !== undefined) {
        body = JSON.stringify(taint(JSON.parse(fill(JSON.stringify(route.body))), r.body.at, r.body.inject));
      } else if (r.body.kind === 'json') body = JSON.stringify(r.body.value);
      else if (r.body.kind === 'raw') body = r.body.text;
      if (body !== undefined) headers['content-type'] = r.contentType ?? 'application/json';
      const canHaveBody = method !== 'GET' && method !== 'HEAD';

      const before = await fingerprint();
      const res = await fetch(url, { method, headers, body: canHaveBody ? body : undefined, redirect: 'manual' });
      const text = await res.text();
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      const what = `${method} ${url} (${headers['content-type'] ?? 'no body'}) → ${res.status} ${text.slice(0, 500)}`;
      // 502 is the documented answer of an import whose source database cannot be reached.
      const unreachableSource = res.status === 502 && route.path === '/v1/catalogs/import' && text.includes('source_unreachable');
      if (res.status >= 500 && !unreachableSource) throw new Error(`server error: ${what}`);
      if (res.status >= 400 && method !== 'GET' && method !== 'HEAD') {
        const after = await fingerprint();
        if (after !== before) throw new Error(`a refused request changed stored state: ${what}`);
      }
    });
    try {
      await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
    } catch (error) {
      // The seed is in fast-check's message too; said here plainly so a failure can be replayed.
      throw new Error(`HTTP fuzzing failed with FUZZ_SEED=${SEED} (FUZZ_RUNS=${RUNS})\n${(error as Error).message}\n${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : ''}\n${logs()}`);
    }
    process.stdout.write(`fuzz seed ${SEED}: answers by status ${JSON.stringify(Object.fromEntries(seen))}\n`);
    // The run covered refusals and successes alike, not only one kind of answer.
    expect([...seen.keys()].filter((s) => s < 300).length).toBeGreaterThan(0);
    expect([...seen.keys()].filter((s) => s >= 400).length).toBeGreaterThan(2);
  });
});
