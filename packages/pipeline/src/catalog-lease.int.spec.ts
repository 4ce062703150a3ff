import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
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

/** Leases whose renewals wait until the test lets each one through, in the order they were sent. */
class GatedRenewals extends LeaseRepository {
  readonly pending: (() => void)[] = [];
  renewed = 0;
  override async renew(fence: Fence, ttlMs: number): Promise<boolean> {
    await new Promise<void>((resolve) => this.pending.push(resolve));
    this.renewed++;
    return super.renew(fence, ttlMs);
  }
}

/** Leases whose renewals and releases fail, as they do while Postgres is out of reach. */
class FailingWrites extends LeaseRepository {
  override renew(): Promise<boolean> {
    return Promise.reject(new Error('connection refused'));
  }
  override release(): Promise<void> {
    return Promise.reject(new Error('connection refused'));
  }
}

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      callback();
    },
  });
  return { logger: createLogger({ destination, level: 'info' }), lines };
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
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

  /** A lease whose renewals wait for the test's word ({@link GatedRenewals}). */
  function gatedLease(ttlMs = 150): { gated: GatedRenewals; slow: CatalogLease } {
    const gated = new GatedRenewals(db.dataSource);
    return { gated, slow: new CatalogLease(gated, ttlMs, createLogger({ level: 'silent' })) };
  }

  /** Another writer, `b`, takes the catalog behind the holder's renewals: its lease released, then taken afresh. */
  async function takeOver(fence: Fence): Promise<void> {
    await leases.release(fence);
    await leases.acquire(fence.catalogId, 'b', 60_000);
  }

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

  it('does not call back for a renewal that was in flight when it was stopped and found the lease taken', async () => {
    const { gated, slow } = gatedLease();
    const id = randomUUID();
    const fence = (await slow.acquire(id, 'a'))!;
    let lost = 0;
    const stop = slow.keepAlive(fence, () => lost++);
    while (gated.pending.length < 1) await sleep(10);
    stop();
    // The holder let go and another writer took the catalog; then the renewal sent before the stop lands.
    await takeOver(fence);
    gated.pending.splice(0).forEach((go) => go());
    while (gated.renewed < 1) await sleep(10);
    await sleep(50);
    expect(lost).toBe(0);
    expect(await leases.get(id)).toMatchObject({ holder: 'b', expired: false });
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

  it('renews every third of its time to live', async () => {
    const { gated: counting, slow } = gatedLease(600);
    const fence = (await slow.acquire(randomUUID(), 'a'))!;
    const stop = slow.keepAlive(fence);
    const letThrough = setInterval(() => counting.pending.splice(0).forEach((go) => go()), 10);
    await sleep(700);
    stop();
    clearInterval(letThrough);
    counting.pending.splice(0).forEach((go) => go());
    // Every 200 ms: three renewals in 700 ms (one more or less for a late timer on a busy machine).
    expect(counting.renewed).toBeGreaterThanOrEqual(2);
    expect(counting.renewed).toBeLessThanOrEqual(4);
  });

  it('at release, waits for the last renewal in flight, not for one that landed before it', async () => {
    const { gated, slow } = gatedLease();
    const id = randomUUID();
    const fence = (await slow.acquire(id, 'a'))!;
    const stop = slow.keepAlive(fence);
    // Renewals leave every 50 ms: two of them are in flight at once.
    while (gated.pending.length < 2) await sleep(10);
    stop();
    const [first, second] = gated.pending.splice(0);
    first!();
    await sleep(50);
    const released = slow.release(fence);
    expect(await settlesWithin(released, 150)).toBe(false);
    second!();
    await released;
    expect(await leases.get(id)).toMatchObject({ holder: 'a:released', expired: true });
    // Nothing is kept of renewals that landed.
    expect(slow['renewals'].size).toBe(0);
  });

  it("does not wait at release for a renewal of another catalog's lease", async () => {
    const { gated, slow } = gatedLease();
    const held = (await slow.acquire(randomUUID(), 'a'))!;
    const other = (await slow.acquire(randomUUID(), 'a'))!;
    const stop = slow.keepAlive(held);
    while (gated.pending.length < 1) await sleep(10);
    stop();
    expect(await settlesWithin(slow.release(other), 1_000)).toBe(true);
    gated.pending.splice(0).forEach((go) => go());
    await slow.release(held);
  });

  it('tells its holder once when renewals in flight together find the lease taken over', async () => {
    const { gated, slow } = gatedLease();
    const id = randomUUID();
    const fence = (await slow.acquire(id, 'a'))!;
    let lost = 0;
    const stop = slow.keepAlive(fence, () => lost++);
    while (gated.pending.length < 2) await sleep(10);
    await takeOver(fence);
    gated.pending.splice(0).forEach((go) => go());
    await sleep(100);
    gated.pending.splice(0).forEach((go) => go());
    expect(lost).toBe(1);
    stop();
  });

  it('logs a renewal or a release that fails, and does not throw', async () => {
    const { logger, lines } = capturedLogger();
    const failing = new CatalogLease(new FailingWrites(db.dataSource), 150, logger);
    const fence = (await failing.acquire(randomUUID(), 'a'))!;
    const stop = failing.keepAlive(fence);
    await sleep(120);
    stop();
    await expect(failing.release(fence)).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['could not renew the catalog lease', 'could not release the catalog lease']));
  });

  describe('with the liveness of holders', () => {
    const alive = new Set<string>();
    const asked: string[] = [];
    const liveness = {
      alive: (holder: string) => {
        asked.push(holder);
        return Promise.resolve(alive.has(holder));
      },
    };

    it('leaves an expired lease to a holder still at work, and takes it over once that holder is gone', async () => {
      const watched = new CatalogLease(leases, 100, createLogger({ level: 'silent' }), liveness);
      const id = randomUUID();
      const fence = (await watched.acquire(id, 'blocked'))!;
      alive.add('blocked');
      await sleep(150);
      expect(await watched.acquire(id, 'next')).toBeNull();
      alive.delete('blocked');
      expect((await watched.acquire(id, 'next'))?.fence).toBe(fence.fence + 1);
    });

    it('never counts a holder that released its lease as alive, without asking', async () => {
      const watched = new CatalogLease(leases, 100, createLogger({ level: 'silent' }), liveness);
      alive.add('done:released');
      asked.length = 0;
      expect(await watched.holderAlive('done:released')).toBe(false);
      expect(asked).toEqual([]);
      alive.add('working');
      expect(await watched.holderAlive('working')).toBe(true);
    });

    it('without liveness, acquires in one statement and counts no holder as alive', async () => {
      let reads = 0;
      const counting = new (class extends LeaseRepository {
        override get(catalogId: string) {
          reads++;
          return super.get(catalogId);
        }
      })(db.dataSource);
      const plain = new CatalogLease(counting, 100, createLogger({ level: 'silent' }));
      expect(await plain.acquire(randomUUID(), 'a')).not.toBeNull();
      expect(reads).toBe(0);
      expect(await plain.holderAlive('a')).toBe(false);
    });
  });
});
