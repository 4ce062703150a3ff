import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { FencedError, LeaseRepository, openDataSource, type DataSource } from '../index';

describe(LeaseRepository.name, () => {
  let db: TestDatabase<DataSource>;
  let leases: LeaseRepository;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    leases = new LeaseRepository(db.dataSource);
    await db.dataSource.query(`CREATE TABLE lease_probe (catalog_id uuid, note text)`);
  });
  afterAll(() => db.drop());

  const probes = async (catalogId: string) =>
    (await db.dataSource.query<{ note: string }[]>(`SELECT note FROM lease_probe WHERE catalog_id = $1 ORDER BY note`, [catalogId])).map((r) => r.note);

  it('grants one holder at a time, and the same holder again with the same fence', async () => {
    const id = randomUUID();
    const a = await leases.acquire(id, 'a', 60_000);
    expect(a).toEqual({ catalogId: id, fence: 1 });
    expect(await leases.acquire(id, 'b', 60_000)).toBeNull();
    expect(await leases.acquire(id, 'a', 60_000)).toEqual(a);
    expect(await leases.get(id)).toMatchObject({ holder: 'a', fence: 1, expired: false });
    expect(await leases.holds(a!)).toBe(true);
  });

  it('lets another holder take an expired lease with a higher fence, and the old holder can neither renew nor write', async () => {
    const id = randomUUID();
    const a = (await leases.acquire(id, 'a', 50))!;
    await sleep(80);
    expect(await leases.get(id)).toMatchObject({ expired: true });
    const b = (await leases.acquire(id, 'b', 60_000))!;
    expect(b.fence).toBe(a.fence + 1);

    expect(await leases.holds(a)).toBe(false);
    expect(await leases.renew(a, 60_000)).toBe(false);
    let ran = false;
    await expect(
      leases.fenced(a, async (m) => {
        ran = true;
        await m.query(`INSERT INTO lease_probe VALUES ($1, 'a')`, [id]);
      }),
    ).rejects.toBeInstanceOf(FencedError);
    expect(ran).toBe(false);
    await leases.fenced(b, (m) => m.query(`INSERT INTO lease_probe VALUES ($1, 'b')`, [id]));
    expect(await probes(id)).toEqual(['b']);
    // Releasing with the lost fence changes nothing.
    await leases.release(a);
    expect(await leases.get(id)).toMatchObject({ holder: 'b', expired: false });
  });

  it('renews a held lease so that it does not expire', async () => {
    const id = randomUUID();
    const a = (await leases.acquire(id, 'a', 150))!;
    for (let i = 0; i < 4; i++) {
      await sleep(60);
      expect(await leases.renew(a, 150)).toBe(true);
    }
    expect(await leases.acquire(id, 'b', 60_000)).toBeNull();
    expect(await leases.get(id)).toMatchObject({ holder: 'a', expired: false });
  });

  it('frees the catalog at once on release, and the next holder gets a higher fence', async () => {
    const id = randomUUID();
    const a = (await leases.acquire(id, 'a', 60_000))!;
    await leases.release(a);
    expect(await leases.get(id)).toMatchObject({ expired: true });
    const b = (await leases.acquire(id, 'b', 60_000))!;
    expect(b.fence).toBe(a.fence + 1);
    // A holder named like a released one is a new holder.
    await leases.release(b);
    expect((await leases.acquire(id, 'b', 60_000))?.fence).toBe(b.fence + 1);
  });

  it('rolls back the work of a fenced transaction that throws', async () => {
    const id = randomUUID();
    const a = (await leases.acquire(id, 'a', 60_000))!;
    await expect(
      leases.fenced(a, async (m) => {
        await m.query(`INSERT INTO lease_probe VALUES ($1, 'x')`, [id]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await probes(id)).toEqual([]);
  });

  it('makes a takeover wait for a fenced write in progress', async () => {
    const id = randomUUID();
    const a = (await leases.acquire(id, 'a', 30))!;
    await sleep(50);
    const order: string[] = [];
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const write = leases.fenced(a, async (m) => {
      inside();
      await sleep(200);
      await m.query(`INSERT INTO lease_probe VALUES ($1, 'a')`, [id]);
      order.push('write');
    });
    await entered;
    const takeover = leases.acquire(id, 'b', 60_000).then((f) => {
      order.push('takeover');
      return f;
    });
    await write;
    expect((await takeover)?.fence).toBe(a.fence + 1);
    expect(order).toEqual(['write', 'takeover']);
    expect(await probes(id)).toEqual(['a']);
  });
});
