import { randomUUID } from 'node:crypto';
import { LeaseRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogLease } from './catalog-lease';

describe(CatalogLease.name, () => {
  let db: TestDatabase<DataSource>;
  let leases: LeaseRepository;
  let lease: CatalogLease;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    leases = new LeaseRepository(db.dataSource);
    lease = new CatalogLease(leases, 240, createLogger({ level: 'silent' }));
  });
  afterAll(() => db.drop());

  it('keeps a lease alive past its time to live until stopped, then lets it expire', async () => {
    const id = randomUUID();
    const fence = (await lease.acquire(id, 'a'))!;
    const stop = lease.keepAlive(fence);
    await sleep(600);
    expect(await lease.acquire(id, 'b')).toBeNull();
    expect(await lease.holds(fence)).toBe(true);
    stop();
    await sleep(400);
    const next = await lease.acquire(id, 'b');
    expect(next?.fence).toBe(fence.fence + 1);
    expect(await lease.holds(fence)).toBe(false);
  });

  it('tells its holder once when another writer took the lease, and stops renewing', async () => {
    const id = randomUUID();
    const fence = (await lease.acquire(id, 'a'))!;
    let lost = 0;
    const stop = lease.keepAlive(fence, () => lost++);
    await lease.release(fence);
    const other = (await lease.acquire(id, 'b'))!;
    await sleep(400);
    expect(lost).toBe(1);
    expect(await leases.get(id)).toMatchObject({ holder: 'b', fence: other.fence });
    stop();
  });

  it('does not call back after it was stopped', async () => {
    const id = randomUUID();
    const fence = (await lease.acquire(id, 'a'))!;
    let lost = 0;
    const stop = lease.keepAlive(fence, () => lost++);
    stop();
    await lease.release(fence);
    await lease.acquire(id, 'b');
    await sleep(300);
    expect(lost).toBe(0);
  });
});
