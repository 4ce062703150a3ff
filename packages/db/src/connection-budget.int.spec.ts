import { Writable } from 'node:stream';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { checkConnectionBudget, openConfiguredDataSource, openDataSource, type DataSource } from './index';

describe(checkConnectionBudget.name, () => {
  let db: TestDatabase<DataSource>;
  let maxConnections: number;
  let reserved: number;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: false }));
    const [row] = await db.dataSource.query<{ max: string; reserved: string }[]>(
      'SELECT current_setting($1) AS max, current_setting($2) AS reserved',
      ['max_connections', 'superuser_reserved_connections'],
    );
    maxConnections = Number(row!.max);
    reserved = Number(row!.reserved);
  });
  afterAll(() => db.drop());

  it('compares pool size × processes with max_connections less the reserved slots', async () => {
    const available = maxConnections - reserved;
    expect(await checkConnectionBudget(db.dataSource, { poolSize: 1, processCount: available })).toEqual({
      fits: true,
      needed: available,
      available,
      maxConnections,
      reserved,
    });
    expect(await checkConnectionBudget(db.dataSource, { poolSize: 1, processCount: available + 1 })).toMatchObject({ fits: false });
  });

  it('warns at start, naming both keys, when the pools would not fit', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
          cb();
        },
      }),
    });
    const postgres = { url: db.url, poolSize: 2, migrateOnStart: false, processCount: maxConnections };
    const tooMany = await openConfiguredDataSource(postgres, 'test', logger);
    await tooMany.destroy();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40);
    expect(lines[0]!.msg).toContain(`DB_POOL_SIZE 2 × DB_PROCESS_COUNT ${maxConnections} = ${2 * maxConnections} connections`);

    const fine = await openConfiguredDataSource({ ...postgres, processCount: 4 }, 'test', logger);
    await fine.destroy();
    expect(lines).toHaveLength(1);
  });
});
