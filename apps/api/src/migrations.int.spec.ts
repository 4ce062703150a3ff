import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import { type Express } from 'express';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { type ServedSpace } from '@catalog-indexer/importer';
import { createRedisConnection, JobProducer, SOURCE_VAULT_TTL_S, SourceVault, SourceVaultKeyError, type RedisClient } from '@catalog-indexer/queue';
import { createPgvectorEraTable, createTestDatabase, deleteRedisPrefix, legacyRows, readRedisPrefix, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { createApp } from './app';

/** `POST /v1/migrations/pgvector` and `/rollback` against a pgvector-era database (real pgvector). */
describe('POST /v1/migrations/pgvector', () => {
  let db: TestDatabase<DataSource>;
  let source: TestDatabase<{ destroy(): Promise<void> }>;
  let redis: RedisClient;
  let jobs: JobProducer;
  const prefix = uniqueName('migrate');
  const logged: string[] = [];
  const SECRET = 'pw-never-logged-77';
  const VAULT_SECRET = 'migrations-spec-vault-secret';
  const openai: ServedSpace = { provider: 'openai', model: 'text-embedding-3-large', dimensions: 8 };

  const appFor = (space: ServedSpace): Express => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    return createApp({
      logger: createLogger({ level: 'debug', destination: sink }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 1_000_000,
      pgvector: { space, databaseUrl: db.url, queuePrefix: prefix, vaultSecret: VAULT_SECRET },
    });
  };
  const sourceUrl = () => {
    const u = new URL(source.url);
    u.password = SECRET;
    return u.toString();
  };

  beforeAll(async () => {
    db = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, legacyRows({ rows: 5, dims: 8, catalogs: [randomUUID()] }), { dims: 8 });
      return openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true });
    });
    source = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, legacyRows({ rows: 3, dims: 8, catalogs: [randomUUID()] }), { dims: 8 });
      return { destroy: () => Promise.resolve() };
    });
    redis = createRedisConnection(loadConfig().redis.url, 'producer');
    jobs = new JobProducer(redis, prefix);
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    await jobs.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await source.drop();
    await db.drop();
  });

  it('enqueues an adoption in place and answers 202 with the job and its status URL', async () => {
    const res = await request(appFor(openai)).post('/v1/migrations/pgvector').send({}).expect(202);
    expect(res.body).toMatchObject({ jobId: expect.stringMatching(/^pgvector-adoption-/), table: 'dq_embeddings_pgvector', rows: 5, dimensions: 8 });
    expect(res.body.statusUrl).toBe(`/v1/jobs/${res.body.jobId as string}`);
    const job = await request(appFor(openai)).get(res.body.statusUrl as string).expect(200);
    expect(job.body).toMatchObject({ name: 'pgvector-adoption', state: 'waiting', data: { dryRun: false, dropLegacy: false } });
  });

  it('keeps a separate source’s connection string out of the job, the logs and Postgres, and encrypted in Redis', async () => {
    const res = await request(appFor(openai)).post('/v1/migrations/pgvector').send({ sourceUrl: sourceUrl(), dryRun: true }).expect(202);
    const job = await jobs.getJob(res.body.jobId as string);
    const data = job!.data as { sourceRef?: string };
    expect(JSON.stringify(data)).not.toContain(SECRET);
    expect(JSON.stringify(data)).not.toContain('postgres://');
    // Nothing under the queue prefix (jobs, their data, the vault) holds the string, its password or its host.
    const held = [...(await readRedisPrefix(prefix))];
    expect(held.length).toBeGreaterThan(0);
    const host = new URL(sourceUrl()).host;
    for (const [key, value] of held) {
      expect(value).not.toContain(SECRET);
      expect(value).not.toContain('postgres://');
      expect(value).not.toContain(host);
      expect(key).not.toContain(SECRET);
    }
    const vaultKey = `${prefix}:source-vault:${data.sourceRef!}`;
    expect(held.map(([key]) => key)).toContain(vaultKey);
    const ttl = await redis.ttl(vaultKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(SOURCE_VAULT_TTL_S);
    // Only the vault's key opens it; a process given another secret is told what to fix.
    expect(await new SourceVault(redis, prefix, VAULT_SECRET).get(data.sourceRef!)).toBe(sourceUrl());
    await expect(new SourceVault(redis, prefix, 'another-secret-entirely').get(data.sourceRef!)).rejects.toThrow(SourceVaultKeyError);
    expect(logged.join('')).not.toContain(SECRET);
    const stored = await db.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM pgvector_adoptions`);
    expect(stored[0]!.n).toBe(0);
  });

  it('answers 409 naming the settings when the install serves another space, before writing anything', async () => {
    const res = await request(appFor({ provider: 'local', model: 'local-hash', dimensions: 8 })).post('/v1/migrations/pgvector').send({}).expect(409);
    expect(res.body.error.code).toBe('space_mismatch');
    for (const name of ['OPENAI_API_KEY', 'EMBEDDING_MODEL', 'EMBEDDING_DIMENSIONS']) expect(res.body.error.message).toContain(name);
    const size = await request(appFor({ ...openai, dimensions: 16 })).post('/v1/migrations/pgvector').send({}).expect(409);
    expect(size.body.error.message).toContain('EMBEDDING_DIMENSIONS=8');
  });

  it('answers 409 to dropLegacy before a verified adoption', async () => {
    const res = await request(appFor(openai)).post('/v1/migrations/pgvector').send({ dropLegacy: true }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'adoption_not_verified', message: expect.stringContaining('adopt it first') });
  });

  it('answers bad input with what to fix', async () => {
    const app = appFor(openai);
    expect((await request(app).post('/v1/migrations/pgvector').send({ sourceUrl: sourceUrl(), table: 'missing' }).expect(422)).body.error.code).toBe('source_table_not_found');
    expect((await request(app).post('/v1/migrations/pgvector').send({ sourceUrl: `postgres://u:${SECRET}@127.0.0.1:1/x` }).expect(502)).body.error).toMatchObject({
      code: 'source_unreachable',
      message: expect.not.stringContaining(SECRET),
    });
    expect((await request(app).post('/v1/migrations/pgvector').send({ sourceUrl: 'mysql://a@b/c' }).expect(400)).body.error.code).toBe('invalid_connection_string');
    // The importer's host policy (loopback only here) and its field whitelist, before any connection.
    expect((await request(app).post('/v1/migrations/pgvector').send({ sourceUrl: `postgres://u:${SECRET}@10.11.12.13:5432/x` }).expect(403)).body.error).toMatchObject({
      code: 'source_not_allowed',
      message: expect.stringContaining('IMPORT_ALLOWED_HOSTS'),
    });
    expect((await request(app).post('/v1/migrations/pgvector').send({ sourceUrl: `${sourceUrl()}?options=-c%20x%3Dy` }).expect(400)).body.error).toMatchObject({
      code: 'invalid_connection_string',
      message: expect.stringContaining('"options" is not allowed'),
    });
    expect((await request(app).post('/v1/migrations/pgvector').send({ table: 'x; drop table y' }).expect(400)).body.error.code).toBe('invalid_request');
    expect((await request(app).post('/v1/migrations/pgvector').send({ dryrun: true }).expect(400)).body.error.code).toBe('invalid_request');
    expect(logged.join('')).not.toContain(SECRET);
  });

  it('answers a rollback to a missing table with 422 before enqueuing anything', async () => {
    const res = await request(appFor(openai)).post('/v1/migrations/pgvector/rollback').send({ targetUrl: sourceUrl(), table: 'missing' }).expect(422);
    expect(res.body.error).toMatchObject({ code: 'source_table_not_found', message: expect.not.stringContaining(SECRET) });
  });

  it('enqueues a rollback', async () => {
    const res = await request(appFor(openai)).post('/v1/migrations/pgvector/rollback').send({ targetUrl: sourceUrl(), table: 'dq_embeddings' }).expect(202);
    const job = await jobs.getJob(res.body.jobId as string);
    expect(job).toMatchObject({ name: 'pgvector-rollback', data: { table: 'dq_embeddings', targetRef: expect.any(String) } });
    expect(JSON.stringify(job!.data)).not.toContain(SECRET);
  });
});
