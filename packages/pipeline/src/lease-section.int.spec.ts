import { randomUUID } from 'node:crypto';
import { FencedError, LeaseRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { DEFAULT_LEASE_TTL_MS, LeaseSection } from './lease-section';

describe(LeaseSection.name, () => {
  let db: TestDatabase<DataSource>;
  let leases: LeaseRepository;
  let section: LeaseSection;
  const logger = createLogger({ level: 'silent' });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    leases = new LeaseRepository(db.dataSource);
    section = new LeaseSection({ leases, logger, leaseTtlMs: 240 });
  });
  afterAll(() => db.drop());

  it('runs the work holding the lease, keeps it alive past its time to live, and releases it after', async () => {
    const id = randomUUID();
    const outcome = await section.withLease(id, 'a', async (held) => {
      expect(held.fence).toEqual({ catalogId: id, fence: 1 });
      await sleep(600);
      expect(await section.withLease(id, 'b', () => Promise.resolve('second'))).toEqual({ kind: 'busy' });
      expect(held.signal.aborted).toBe(false);
      return 'first';
    });
    expect(outcome).toEqual({ kind: 'done', value: 'first' });
    expect(await leases.get(id)).toMatchObject({ holder: 'a:released', expired: true });
  });

  it('releases the lease when the work throws, and passes the error on', async () => {
    const id = randomUUID();
    await expect(section.withLease(id, 'a', () => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed');
    expect(await leases.get(id)).toMatchObject({ holder: 'a:released', expired: true });
    expect(await section.withLease(id, 'b', () => Promise.resolve(1))).toEqual({ kind: 'done', value: 1 });
  });

  it('leaves a kept lease held, and lets its holder resume it with the same fence', async () => {
    const id = randomUUID();
    const first = await section.withLease(id, 'job-1', (held) => {
      held.keep();
      return Promise.resolve(held.fence);
    });
    if (first.kind !== 'done') throw new Error('busy');
    expect(await leases.get(id)).toMatchObject({ holder: 'job-1', expired: false });
    expect(await section.withLease(id, 'job-2', () => Promise.resolve(0))).toEqual({ kind: 'busy' });
    const resumed = await section.resume(first.value, 'job-1', (held) => Promise.resolve(held.fence.fence));
    expect(resumed).toEqual({ kind: 'done', value: first.value.fence });
    expect(await leases.get(id)).toMatchObject({ holder: 'job-1:released', expired: true });
  });

  it('answers lost to a resume after another writer took the catalog, and gives back a lease taken afresh', async () => {
    const id = randomUUID();
    const taken = await section.withLease(id, 'job-1', (held) => Promise.resolve(held.fence));
    if (taken.kind !== 'done') throw new Error('busy');
    let ran = false;
    const resumed = await section.resume(taken.value, 'job-1', () => Promise.resolve((ran = true)));
    expect(resumed).toEqual({ kind: 'lost' });
    expect(ran).toBe(false);
    expect(await leases.get(id)).toMatchObject({ fence: taken.value.fence + 1, expired: true });
  });

  it('aborts the work signal with a FencedError once a renewal finds the lease taken over', async () => {
    const id = randomUUID();
    const outcome = await section.withLease(id, 'a', async (held) => {
      await leases.release(held.fence);
      await leases.acquire(id, 'b', 60_000);
      await sleep(300);
      return held.signal.reason as unknown;
    });
    if (outcome.kind !== 'done') throw new Error('busy');
    expect(outcome.value).toBeInstanceOf(FencedError);
    // Releasing with the old fence leaves the new holder's lease alone.
    expect(await leases.get(id)).toMatchObject({ holder: 'b', expired: false });
  });

  it('keeps alive a lease another job took without releasing it', async () => {
    const id = randomUUID();
    const fence = (await leases.acquire(id, 'parent', 240))!;
    const aborted = await section.sustain(fence, async (signal) => {
      await sleep(600);
      return signal.aborted;
    });
    expect(aborted).toBe(false);
    expect(await leases.get(id)).toMatchObject({ holder: 'parent', expired: false });
  });

  it('stops renewing a lease it sustained once the work ends, leaving it to its holder', async () => {
    const id = randomUUID();
    const fence = (await leases.acquire(id, 'parent', 240))!;
    expect(await section.sustain(fence, () => Promise.resolve('done'))).toBe('done');
    // Renewed every 80 ms while sustained; with nobody renewing it, the lease runs out after 240 ms.
    await sleep(600);
    expect(await leases.get(id)).toMatchObject({ holder: 'parent', expired: true });
  });

  it('aborts the work it sustains with a FencedError once the lease is taken over', async () => {
    const id = randomUUID();
    const fence = (await leases.acquire(id, 'parent', 240))!;
    const reason = await section.sustain(fence, async (signal) => {
      await leases.release(fence);
      await leases.acquire(id, 'other', 60_000);
      await sleep(300);
      return signal.reason as unknown;
    });
    expect(reason).toBeInstanceOf(FencedError);
    expect(reason).toMatchObject({ message: expect.stringContaining(id) as unknown });
  });

  it('waits for a held catalog at most the time given, then fails naming it, and releases what it took', async () => {
    const held = randomUUID();
    const free = randomUUID();
    await leases.acquire(held, 'other', 60_000);
    const attempt = section.withLeasesOf('adoption', 300, async (leaseOf) => {
      await leaseOf(free);
      return leaseOf(held);
    });
    await expect(attempt).rejects.toThrow(`catalog ${held} stayed held by another writer for 300 ms`);
    expect(await leases.get(free)).toMatchObject({ holder: 'adoption:released', expired: true });
  });

  it('takes over an expired lease only once its holder is gone, and a released one at once', async () => {
    const id = randomUUID();
    const alive = new Set(['job-1']);
    const watched = new LeaseSection({ leases, logger, leaseTtlMs: 240, liveness: { alive: (holder) => Promise.resolve(alive.has(holder)) } });
    const first = await watched.withLease(id, 'job-1', (held) => {
      held.keep();
      return Promise.resolve(held.fence);
    });
    if (first.kind !== 'done') throw new Error('busy');
    // Its renewals stopped (as through an outage of Postgres): the lease expires, its holder is still at work.
    await sleep(400);
    expect(await leases.get(id)).toMatchObject({ holder: 'job-1', expired: true });
    expect(await watched.withLease(id, 'job-2', () => Promise.resolve(0))).toEqual({ kind: 'busy' });
    expect(await watched.holderAlive('job-1')).toBe(true);
    // The holder goes on with the same fence.
    expect(await watched.resume(first.value, 'job-1', (held) => Promise.resolve(held.fence.fence))).toEqual({ kind: 'done', value: first.value.fence });
    // Released: taken at once, whatever its holder's job does.
    expect(await watched.holderAlive('job-1:released')).toBe(false);
    expect(await watched.withLease(id, 'job-2', (held) => Promise.resolve(held.fence.fence))).toEqual({ kind: 'done', value: first.value.fence + 1 });
    // Expired and its holder gone: taken over.
    const kept = await watched.withLease(id, 'job-3', (held) => {
      held.keep();
      return Promise.resolve(held.fence);
    });
    if (kept.kind !== 'done') throw new Error('busy');
    await sleep(400);
    expect(await watched.withLease(id, 'job-4', (held) => Promise.resolve(held.fence.fence))).toEqual({ kind: 'done', value: kept.value.fence + 1 });
  });

  it('gives leases a time to live of a minute unless told otherwise', () => {
    expect(new LeaseSection({ leases, logger }).ttlMs).toBe(DEFAULT_LEASE_TTL_MS);
    expect(DEFAULT_LEASE_TTL_MS).toBe(60_000);
  });
});
