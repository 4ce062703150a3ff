import { randomUUID } from 'node:crypto';
import { LeaseRepository, openDataSource, type DataSource, type Fence } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogLease } from './catalog-lease';

/** Leases whose renewals take a while to reach Postgres (a slow network, a busy database). */
class SlowRenewals extends LeaseRepository {
  override async renew(fence: Fence, ttlMs: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 120));
    return super.renew(fence, ttlMs);
  }
}

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

  it('frees the catalog at release even when a renewal is still in flight', async () => {
    const slow = new CatalogLease(new SlowRenewals(db.dataSource), 150, createLogger({ level: 'silent' }));
    const id = randomUUID();
    const fence = (await slow.acquire(id, 'a'))!;
    const stop = slow.keepAlive(fence);
    // The first renewal leaves after 50 ms and lands about 120 ms later, after the release below.
    await sleep(80);
    stop();
    await slow.release(fence);
    await sleep(150);
    expect(await leases.get(id)).toMatchObject({ holder: 'a:released', expired: true });
    expect(await slow.acquire(id, 'b')).not.toBeNull();
  });
});
