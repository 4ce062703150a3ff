import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import { type Express } from 'express';
import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, IndexRunRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { CatalogImporter } from '@catalog-indexer/importer';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection, JobProducer, type RedisClient } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { createApp } from './app';

/** `POST /v1/catalogs/import` against a small live Postgres database of this file's own. */
describe('POST /v1/catalogs/import', () => {
  let db: TestDatabase<DataSource>;
  let source: TestDatabase<{ destroy(): Promise<void> }>;
  let redis: RedisClient;
  let jobs: JobProducer;
  let app: Express;
  const prefix = uniqueName('import');
  const logged: string[] = [];

  const count = async () => (await db.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM catalogs'))[0]!.n;
  /** The source's URL with a password that trust auth ignores: it must never reach a log, a job or a row. */
  const sourceUrl = () => {
    const u = new URL(source.url);
    u.password = 'pw-never-logged-42';
    return u.toString();
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    source = await createTestDatabase(() => Promise.resolve({ destroy: () => Promise.resolve() }));
    const client = new Client({ connectionString: source.url });
    await client.connect();
    await client.query(`
      CREATE SCHEMA sales;
      COMMENT ON SCHEMA sales IS 'Orders and customers';
      CREATE TABLE sales.customers (id int PRIMARY KEY, email text NOT NULL, country char(2));
      CREATE TABLE sales.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES sales.customers(id), status text);
      COMMENT ON TABLE sales.orders IS 'One row per order';
      COMMENT ON COLUMN sales.orders.status IS 'paid, shipped or cancelled';
      INSERT INTO sales.customers VALUES (1, 'a@example.com', 'DE'), (2, 'b@example.com', 'FR');
      INSERT INTO sales.orders VALUES (10, 1, 'paid'), (11, 2, 'shipped');`);
    await client.end();
    redis = createRedisConnection(loadConfig().redis.url, 'producer');
    jobs = new JobProducer(redis, prefix);
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    app = createApp({
      logger: createLogger({ level: 'debug', destination: sink }),
      dataSource: db.dataSource,
      redis,
      catalogs: new CatalogRepository(db.dataSource),
      runs: new IndexRunRepository(db.dataSource),
      jobs,
      maxUploadBytes: 1_000_000,
      importer: new CatalogImporter({ connectMs: 2_000, statementMs: 5_000 }),
    });
  });
  afterAll(async () => {
    await jobs.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await source.drop();
    await db.drop();
  });

  it('stores the catalog of the live database and answers 201 like an upload', async () => {
    const res = await request(app).post('/v1/catalogs/import').send({ connectionString: sourceUrl(), schemas: ['sales'], name: 'shop', sampleValues: true }).expect(201);
    const body = res.body as { id: string; name: string; version: number; items: number };
    expect(body).toMatchObject({ name: 'shop', version: 1, items: 10 });
    expect(res.headers.location).toBe(`/v1/catalogs/${body.id}`);
    const stored = await request(app).get(`/v1/catalogs/${body.id}`).expect(200);
    expect(stored.body).toMatchObject({
      document: {
        name: 'shop',
        schemas: [
          {
            name: 'sales',
            description: 'Orders and customers',
            tables: [
              { name: 'customers', columns: [{ name: 'id', type: 'integer', nullable: false, primaryKey: true }, { name: 'email', examples: ['a@example.com', 'b@example.com'] }, { name: 'country', type: 'character(2)' }] },
              {
                name: 'orders',
                description: 'One row per order',
                columns: [{ name: 'id' }, { name: 'customer_id' }, { name: 'status', description: 'paid, shipped or cancelled', nullable: true }],
                foreignKeys: [{ columns: ['customer_id'], references: { schema: 'sales', table: 'customers', columns: ['id'] } }],
              },
            ],
          },
        ],
      },
    });
  });

  it('with catalogId replaces that catalog, version + 1, and starts a reindex whose job holds the catalog id only', async () => {
    const first = await request(app).post('/v1/catalogs/import').send({ connectionString: sourceUrl(), schemas: ['sales'] }).expect(201);
    const id = (first.body as { id: string }).id;
    const again = await request(app).post('/v1/catalogs/import').send({ connectionString: sourceUrl(), schemas: ['sales'], catalogId: id }).expect(200);
    const { jobId } = again.body as { jobId: string };
    expect(again.body).toMatchObject({ id, version: 2, deduplicated: false });
    const job = await jobs.queue.getJob(jobId);
    expect(job?.data).toEqual({ catalogId: id, force: false });

    const quiet = await request(app).post('/v1/catalogs/import?reindex=false').send({ connectionString: sourceUrl(), schemas: ['sales'], catalogId: id }).expect(200);
    expect(quiet.body).toMatchObject({ version: 3, jobId: null });
  });

  it('never stores, logs or enqueues the connection string', async () => {
    await request(app).post('/v1/catalogs/import').send({ connectionString: sourceUrl(), schemas: ['sales'] }).expect(201);
    await request(app).post('/v1/catalogs/import').send({ connectionString: sourceUrl(), schemas: ['nope'] }).expect(422);
    const rows = await db.dataSource.query<{ doc: string }[]>('SELECT document::text AS doc FROM catalogs');
    const jobData = (await jobs.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => JSON.stringify(j.data));
    for (const text of [...rows.map((r) => r.doc), ...jobData, ...logged]) {
      expect(text).not.toContain('pw-never-logged-42');
      expect(text).not.toContain(new URL(source.url).pathname.slice(1) + '?');
    }
    expect(logged.join('')).toContain('catalog imported');
  });

  it.each([
    ['a schema that does not exist', { schemas: ['nope'] }, 422, 'source_schema_not_found', /"nope"/],
    ['an unknown host', { connectionString: 'postgres://u:pw@no-such-host.invalid/db' }, 502, 'source_unreachable', /unknown host/],
    ['a wrong MariaDB password', { connectionString: 'mysql://root:wrong-pw@127.0.0.1:3306/mysql' }, 422, 'source_access_denied', /user "root"/],
    ['an unknown kind of database', { connectionString: 'oracle://h/db' }, 400, 'invalid_connection_string', /postgres:\/\//],
    ['a parameter that would override the session', { connectionString: 'postgres://u:pw@127.0.0.1/db?options=-c%20default_transaction_read_only%3Doff' }, 400, 'invalid_connection_string', /parameter "options" is not allowed/],
    ['a host outside IMPORT_ALLOWED_HOSTS', { connectionString: 'postgres://u:pw@10.11.12.13:5432/db' }, 403, 'source_not_allowed', /"10.11.12.13".*IMPORT_ALLOWED_HOSTS/],
    ['a missing connection string', { connectionString: undefined }, 400, 'invalid_request', /connectionString/],
    ['an unknown field', { schemaz: ['sales'] }, 400, 'invalid_request', /schemaz/],
  ])('answers %s with a clear 4xx (or 502), and stores nothing', async (_what, change, status, code, message) => {
    const before = await count();
    const res = await request(app)
      .post('/v1/catalogs/import')
      .send({ connectionString: sourceUrl(), schemas: ['sales'], ...change })
      .expect(status);
    expect(res.body).toMatchObject({ error: { code, message: expect.stringMatching(message) as unknown } });
    expect(res.text).not.toContain('pw');
    expect(await count()).toBe(before);
  });

  it('answers an unknown catalogId with 404 before connecting', async () => {
    const res = await request(app)
      .post('/v1/catalogs/import')
      .send({ connectionString: 'postgres://u@no-such-host.invalid/db', catalogId: randomUUID() })
      .expect(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found' } });
  });
});
