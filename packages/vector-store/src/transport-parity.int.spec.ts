import net from 'node:net';
import { QdrantEmulator, type Exchange } from '@catalog-indexer/emulators';
import { QdrantReader } from './qdrant.reader';
import { QdrantStore } from './qdrant.store';
import { type SearchOptions, type VectorPoint } from './qdrant.types';
import { VectorStoreError } from './vector-store.error';

/**
 * The same seeded sequence of operations through the store over REST (against one emulator) and over gRPC
 * (against another, fresh one): every answer (points, payloads, vectors, scores, error statuses and
 * messages) and the final state of both emulators, read from the outside, must be identical. Floats are
 * float32 in Qdrant: REST writes them as short decimals, gRPC as float32 bits, so vectors and scores are
 * compared as float32. Seeded: the seed is in the failure (replay with PARITY_SEED=<seed>).
 */

const SEED = Number(process.env.PARITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const DIMENSIONS = 24;
const CATALOGS = ['cat-a', 'cat-b', 'cat-c'];
const KINDS = ['table', 'column', 'schema', 'doc'];
const SCHEMAS = ['public', 'sales', 'hr'];
const TABLES = ['orders', 'customers', 'items', 'staff', 'regions'];

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Step = { op: string; args?: unknown };
type Outcome = { op: string; ok?: unknown; error?: { status: number | undefined; message: string } };

/** The operations, drawn from the seed (the same list for both transports). */
function plan(seed: number): { steps: Step[]; points: Map<string, VectorPoint> } {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const some = <T>(list: readonly T[]): T[] => list.filter(() => random() < 0.4);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const dense = (): Float32Array | number[] => {
    const values = Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
    // The embedder may hand over either; both must be written alike.
    return random() < 0.5 ? Float32Array.from(values) : values;
  };
  const sparse = () => {
    const indices = [...new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 40)))];
    return { indices, values: indices.map(() => Math.round(random() * 1000) / 997) };
  };
  const points = new Map<string, VectorPoint>();
  const ids: string[] = [];
  const newPoint = (id = uuid()): VectorPoint => ({
    id,
    vector: dense(),
    sparse: sparse(),
    payload: {
      catalog_id: pick(CATALOGS),
      kind: pick(KINDS),
      schema: random() < 0.9 ? pick(SCHEMAS) : null,
      table: pick(TABLES),
      column: random() < 0.5 ? `c${Math.floor(random() * 9)}` : null,
      chunk_key: `key-${hex(6)}`,
      content_hash: hex(16),
      tokens: Math.floor(random() * 500),
      weight: random(),
      tags: some(['pk', 'fk', 'idx', 'nullable']),
      meta: { source: pick(['upload', 'import']), nested: { depth: 2, flag: random() < 0.5 } },
    },
  });
  const steps: Step[] = [];
  const query = (): SearchOptions & { dense: number[]; terms: { indices: number[]; values: number[] } } => ({
    catalogId: pick(CATALOGS),
    limit: 1 + Math.floor(random() * 12),
    ...(random() < 0.3 ? { kinds: some(KINDS) } : {}),
    ...(random() < 0.3 ? { schemas: some(SCHEMAS) } : {}),
    ...(random() < 0.3 ? { tables: some(TABLES) } : {}),
    fusion: { denseWeight: 1 + Math.floor(random() * 3), sparseWeight: 1 + Math.floor(random() * 3), k: 1 + Math.floor(random() * 60), prefetchLimit: 20 },
    ...(random() < 0.6 ? { payload: ['kind', 'schema', 'table', 'column', 'meta'] } : {}),
    dense: Array.from(dense()),
    terms: sparse(),
  });
  for (let i = 0; i < 40; i++) {
    const roll = random();
    if (roll < 0.3 || ids.length < 20) {
      const batch = Array.from({ length: 5 + Math.floor(random() * 30) }, () => newPoint());
      // Some upserts rewrite points that exist (whole points are replaced).
      if (ids.length > 0 && random() < 0.5) batch.push(newPoint(pick(ids)), newPoint(pick(ids)));
      for (const p of batch) {
        points.set(p.id, p);
        if (!ids.includes(p.id)) ids.push(p.id);
      }
      steps.push({ op: 'upsert', args: batch.map((p) => p.id) });
    } else if (roll < 0.4) {
      steps.push({ op: 'deleteIds', args: [...some(ids).slice(0, 8), uuid()] });
    } else if (roll < 0.45) {
      steps.push({ op: 'deleteCatalog', args: pick(CATALOGS) });
    } else if (roll < 0.55) {
      steps.push({ op: 'count', args: pick(CATALOGS) });
    } else if (roll < 0.6) {
      steps.push({ op: 'listIds', args: pick(CATALOGS) });
    } else if (roll < 0.85) {
      steps.push({ op: 'search', args: query() });
    } else if (roll < 0.9) {
      steps.push({ op: 'nearestDense', args: { catalogId: pick(CATALOGS), vector: Array.from(dense()), limit: 1 + Math.floor(random() * 10) } });
    } else if (roll < 0.95) {
      steps.push({ op: 'denseVectors', args: [...some(ids).slice(0, 5), uuid()] });
    } else {
      steps.push({ op: 'scroll', args: 3 + Math.floor(random() * 9) });
    }
  }
  // Every seed ends with the reads that each must cover at least once.
  steps.push({ op: 'count', args: pick(CATALOGS) }, { op: 'catalogIds' }, { op: 'scroll', args: 7 });
  steps.push({ op: 'existingIds', args: [...some(ids).slice(0, 6), ids[0]!, uuid()] });
  return { steps, points };
}

const f32 = (n: number): number => Math.fround(n);
/** Vectors as float32 (see the top of this file); everything else as it is. */
function vectorsAsFloat32(vector: unknown): unknown {
  if (Array.isArray(vector)) return vector.map((v) => f32(v as number));
  if (vector && typeof vector === 'object') {
    return Object.fromEntries(
      Object.entries(vector).map(([name, v]) =>
        Array.isArray(v) ? [name, v.map((x) => f32(x as number))] : [name, { ...(v as object), values: (v as { values: number[] }).values.map(f32) }],
      ),
    );
  }
  return vector;
}

async function run(store: QdrantStore, missing: QdrantReader, steps: Step[], points: Map<string, VectorPoint>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const attempt = async (op: string, fn: () => Promise<unknown>) => {
    try {
      outcomes.push({ op, ok: (await fn()) ?? null });
    } catch (error) {
      if (!(error instanceof VectorStoreError)) throw error;
      outcomes.push({ op, error: { status: error.status, message: error.message } });
    }
  };
  for (const step of steps) {
    switch (step.op) {
      case 'upsert':
        await attempt(step.op, () => store.upsert((step.args as string[]).map((id) => points.get(id)!)));
        break;
      case 'deleteIds':
        await attempt(step.op, () => store.deleteIds(step.args as string[]));
        break;
      case 'deleteCatalog':
        await attempt(step.op, () => store.deleteCatalog(step.args as string));
        break;
      case 'count':
        await attempt(step.op, () => store.count(step.args as string));
        break;
      case 'listIds':
        await attempt(step.op, async () => (await store.listIds(step.args as string)).sort());
        break;
      case 'search': {
        const { dense, terms, ...options } = step.args as SearchOptions & { dense: number[]; terms: { indices: number[]; values: number[] } };
        await attempt(step.op, async () =>
          (await store.search({ dense, sparse: terms }, options)).map((h) => ({ ...h, score: f32(h.score) })),
        );
        break;
      }
      case 'nearestDense': {
        const { catalogId, vector, limit } = step.args as { catalogId: string; vector: number[]; limit: number };
        await attempt(step.op, () => store.nearestDense(catalogId, vector, limit));
        break;
      }
      case 'denseVectors':
        await attempt(step.op, async () => [...(await store.denseVectors(step.args as string[]))].map(([id, v]) => [id, v.map(f32)]));
        break;
      case 'existingIds':
        await attempt(step.op, async () => [...(await store.existingIds(step.args as string[]))].sort());
        break;
      case 'catalogIds':
        await attempt(step.op, async () => [...(await store.catalogIds())].sort());
        break;
      case 'scroll':
        await attempt(step.op, async () => {
          const pages: unknown[] = [];
          for await (const page of store.scrollPoints(step.args as number)) pages.push(page.map((p) => ({ ...p, vector: vectorsAsFloat32(p.vector) })));
          return pages;
        });
        break;
      default:
        throw new Error(`unknown step ${step.op}`);
    }
  }
  // Errors: a vector of the wrong size, a collection that does not exist (a reader never creates one).
  const wrong = { ...points.values().next().value!, vector: [1, 2, 3] };
  await attempt('upsert wrong size', () => store.upsert([wrong]));
  await attempt('count missing', () => missing.count('cat-a'));
  await attempt('existingIds missing', () => missing.existingIds([[...points.keys()][0]!]));
  await attempt('search missing', () =>
    missing.search({ dense: new Array<number>(DIMENSIONS).fill(0.5), sparse: { indices: [1], values: [1] } }, { catalogId: 'cat-a', limit: 3, fusion: { denseWeight: 1, sparseWeight: 1, k: 2, prefetchLimit: 5 } }),
  );
  return outcomes;
}

/** The path of an upsert on each transport, for the emulators' faults. */
const upsertPath = { rest: '/collections/[^/]+/points$', grpc: '/qdrant.Points/Upsert' } as const;

describe('the points transports (REST and gRPC)', () => {
  const restEmulator = new QdrantEmulator();
  const grpcEmulator = new QdrantEmulator();
  let rest: { url: string; grpcUrl: string };
  let grpc: { url: string; grpcUrl: string };
  const restCalls: Exchange[] = [];
  const grpcRestCalls: Exchange[] = [];

  beforeAll(async () => {
    rest = await restEmulator.start();
    grpc = await grpcEmulator.start();
    restEmulator.onExchange((e) => restCalls.push(e));
    grpcEmulator.onExchange((e) => grpcRestCalls.push(e));
  });
  afterAll(async () => {
    await Promise.all([restEmulator.stop(), grpcEmulator.stop()]);
  });

  /** Every point of every collection of an emulator, read through its REST API (outside the store). */
  const stateOf = async (url: string): Promise<unknown> => {
    const collections = ((await (await fetch(`${url}/collections`)).json()) as { result: { collections: { name: string }[] } }).result.collections;
    const state: Record<string, unknown> = {};
    for (const { name } of collections.sort((a, b) => a.name.localeCompare(b.name))) {
      const res = await fetch(`${url}/collections/${name}/points/scroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ limit: 100_000, with_payload: true, with_vector: true }),
      });
      state[name] = ((await res.json()) as { result: unknown }).result;
    }
    return state;
  };

  it('gives the same answers, errors and final state for the same seeded operations', async () => {
    const { steps, points } = plan(SEED);
    const options = { collection: 'parity', dimensions: DIMENSIONS, upsertBatchSize: 8, writeAttempts: 3 };
    const restStore = new QdrantStore({ ...options, url: rest.url, transport: 'rest' });
    const grpcStore = new QdrantStore({ ...options, url: grpc.url, grpcUrl: grpc.grpcUrl, transport: 'grpc' });
    await restStore.ensureCollection();
    await grpcStore.ensureCollection();
    const missing = (e: { url: string; grpcUrl: string }, transport: 'rest' | 'grpc') =>
      new QdrantReader({ url: e.url, grpcUrl: e.grpcUrl, transport, collection: 'nowhere', dimensions: DIMENSIONS });
    restCalls.length = 0;
    grpcRestCalls.length = 0;

    const overRest = await run(restStore, missing(rest, 'rest'), steps, points);
    const overGrpc = await run(grpcStore, missing(grpc, 'grpc'), steps, points);

    const context = `parity seed ${SEED} (replay with PARITY_SEED=${SEED})`;
    expect({ context, outcomes: overGrpc }).toEqual({ context, outcomes: overRest });
    // What the sequence covered, so that a plan that drew nothing of a kind cannot pass unnoticed.
    const ops = new Set(overRest.filter((o) => o.ok !== undefined).map((o) => o.op));
    expect({ context, ops: [...ops].sort() }).toEqual({ context, ops: expect.arrayContaining(['count', 'scroll', 'search', 'upsert', 'catalogIds']) });
    expect(overRest.filter((o) => o.op === 'search').some((o) => Array.isArray(o.ok) && o.ok.length > 0)).toBe(true);
    expect(overRest.slice(-4).map((o) => o.error?.status)).toEqual([400, 404, 404, 404]);
    // The last step asks for ids of which the first written may be gone and the last was never written.
    const asked = steps.at(-1)!.args as string[];
    const existing = overRest.find((o) => o.op === 'existingIds')!.ok as string[];
    expect(existing).not.toContain(asked.at(-1));
    expect(existing).toEqual([...new Set(asked.filter((id) => existing.includes(id)))].sort());
    expect(overRest.at(-4)?.error?.message).toContain('Vector dimension error: expected dim: 24, got 3');

    // The gRPC store's points went over gRPC: its emulator saw no REST request on points.
    expect(grpcRestCalls.filter((e) => e.path.includes('/points')).map((e) => e.path)).toEqual([]);
    expect(restCalls.filter((e) => e.path.includes('/points')).length).toBeGreaterThan(steps.length);
    expect({ context, state: await stateOf(grpc.url) }).toEqual({ context, state: await stateOf(rest.url) });
  });

  it('retries a 503 and waits out a 429 alike, and fails at once on a 400, on both transports', async () => {
    const answers: Record<string, unknown> = {};
    for (const [transport, emulator, path] of [
      ['rest', restEmulator, '/collections/[^/]+/points$'],
      ['grpc', grpcEmulator, '/qdrant.Points/Upsert'],
    ] as const) {
      const e = transport === 'rest' ? rest : grpc;
      const store = new QdrantStore({ url: e.url, grpcUrl: e.grpcUrl, transport, collection: 'faults', dimensions: DIMENSIONS, writeAttempts: 3 });
      await store.ensureCollection();
      const { points } = plan(SEED);
      const batch = [...points.values()].slice(0, 3);
      emulator.injectFault({ path, status: 503, times: 1 });
      emulator.injectFault({ path, status: 429, retryAfterSeconds: 1, times: 1 });
      await store.upsert(batch);
      const afterRetries = await store.count(batch[0]!.payload.catalog_id);
      emulator.injectFault({ path, status: 400, message: 'Wrong input: refused', times: 2 });
      const refused = await store.upsert(batch).then(
        () => null,
        (error: VectorStoreError) => ({ status: error.status, message: error.message }),
      );
      answers[transport] = { afterRetries, refused, faultsLeft: emulator['faults'].pending };
    }
    expect(answers.grpc).toEqual(answers.rest);
    expect(answers.rest).toMatchObject({ refused: { status: 400, message: 'qdrant upsert points failed: 400 Wrong input: refused' }, faultsLeft: 1 });
  });

  it('sends the API key as api-key metadata over gRPC, and fails without it as REST does', async () => {
    const locked = new QdrantEmulator({ apiKey: 'secret' });
    const e = await locked.start();
    try {
      const outcomes: Record<string, unknown> = {};
      for (const transport of ['rest', 'grpc'] as const) {
        const base = { url: e.url, grpcUrl: e.grpcUrl, transport, collection: `keyed-${transport}`, dimensions: DIMENSIONS };
        const keyed = new QdrantStore({ ...base, apiKey: 'secret' });
        await keyed.ensureCollection();
        const { points } = plan(SEED);
        const batch = [...points.values()].slice(0, 2);
        await keyed.upsert(batch);
        const count = await keyed.count(batch[0]!.payload.catalog_id);
        const wrongKey = await new QdrantReader({ ...base, apiKey: 'nope' }).count('x').catch((error: VectorStoreError) => error.status);
        // The upsert goes its own way over gRPC (its request written ahead): the key rides with it too.
        const upsertWrongKey = await new QdrantStore({ ...base, apiKey: 'nope' }).upsert(batch).then(
          () => 'written',
          (error: VectorStoreError) => error.status,
        );
        const upsertNoKey = await new QdrantStore(base).upsert(batch).then(
          () => 'written',
          (error: VectorStoreError) => error.status,
        );
        outcomes[transport] = { count, wrongKey, upsertWrongKey, upsertNoKey };
      }
      expect(outcomes.grpc).toEqual(outcomes.rest);
      expect(outcomes.rest).toMatchObject({ wrongKey: 403, upsertWrongKey: 403, upsertNoKey: 401 });
    } finally {
      await locked.stop();
    }
  });

  it('times out a call that gets no answer, as REST does, with no status (retried by writers)', async () => {
    const statuses: Record<string, unknown> = {};
    for (const [transport, emulator, path] of [
      ['rest', restEmulator, '/points/count'],
      ['grpc', grpcEmulator, '/qdrant.Points/Count'],
    ] as const) {
      const e = transport === 'rest' ? rest : grpc;
      const reader = new QdrantReader({ url: e.url, grpcUrl: e.grpcUrl, transport, collection: 'parity', dimensions: DIMENSIONS, timeoutMs: 200 });
      // Only this test's faults (the one before leaves a refusal armed).
      emulator.resetFaults();
      emulator.injectFault({ path, delayMs: 1_000, times: 1 });
      const count = await reader.count('cat-a').then(
        () => 'answered',
        (error: VectorStoreError) => ({ name: error.name, status: error.status }),
      );
      // An upsert that gets no answer: timed out on every attempt, then failed with no status.
      const writer = new QdrantStore({ url: e.url, grpcUrl: e.grpcUrl, transport, collection: 'timeouts', dimensions: DIMENSIONS, timeoutMs: 200, writeAttempts: 2 });
      await writer.ensureCollection();
      emulator.injectFault({ path: upsertPath[transport], delayMs: 1_000, times: 2 });
      const started = Date.now();
      const upsert = await writer.upsert([...plan(SEED).points.values()].slice(0, 2)).then(
        () => 'answered',
        (error: VectorStoreError) => ({ name: error.name, status: error.status, message: error.message }),
      );
      statuses[transport] = { count, upsert, waitedLessThanTheAnswers: Date.now() - started < 2 * 1_000 };
    }
    // Let the emulators finish the delayed calls before they stop.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(statuses.grpc).toEqual(statuses.rest);
    expect(statuses.rest).toEqual({
      count: { name: 'VectorStoreError', status: undefined },
      upsert: { name: 'VectorStoreError', status: undefined, message: 'qdrant upsert points failed: AbortError: This operation was aborted' },
      waitedLessThanTheAnswers: true,
    });
  });

  it('speaks TLS on the gRPC port when the URL is https, and plain HTTP/2 when it is http', async () => {
    // A server that only records the first bytes each connection sends.
    const firstBytes: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.once('data', (data) => {
        firstBytes.push(data);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      for (const scheme of ['https', 'http']) {
        const reader = new QdrantReader({
          url: rest.url,
          grpcUrl: `${scheme}://127.0.0.1:${port}`,
          transport: 'grpc',
          collection: 'parity',
          dimensions: DIMENSIONS,
          timeoutMs: 2_000,
        });
        await expect(reader.count('cat-a')).rejects.toBeInstanceOf(VectorStoreError);
        // The upsert's own connection speaks the same.
        const writer = new QdrantStore({ url: rest.url, grpcUrl: `${scheme}://127.0.0.1:${port}`, transport: 'grpc', collection: 'parity', dimensions: DIMENSIONS, timeoutMs: 2_000, writeAttempts: 1 });
        await expect(writer.upsert([...plan(SEED).points.values()].slice(0, 1))).rejects.toBeInstanceOf(VectorStoreError);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // A TLS handshake record (0x16, version 3.x), then the HTTP/2 connection preface in the clear.
    expect(firstBytes).toHaveLength(4);
    for (const tls of firstBytes.slice(0, 2)) expect([tls[0], tls[1]]).toEqual([0x16, 0x03]);
    for (const clear of firstBytes.slice(2)) expect(clear.toString('latin1').startsWith('PRI * HTTP/2.0')).toBe(true);
  });

  it('is not ready over gRPC while Qdrant answers on REST but not on its gRPC port', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const reader = (grpcUrl: string, transport: 'rest' | 'grpc') =>
      new QdrantReader({ url: grpc.url, grpcUrl, transport, collection: 'parity', dimensions: DIMENSIONS, timeoutMs: 2_000 });
    expect(await reader(grpc.grpcUrl, 'grpc').ping()).toBe(true);
    expect(await reader(`http://127.0.0.1:${closed}`, 'grpc').ping()).toBe(false);
    expect(await reader(`http://127.0.0.1:${closed}`, 'rest').ping()).toBe(true);
  });
});
