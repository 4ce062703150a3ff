import { fatalLogMessage, spawnApp, type AppName } from '@catalog-indexer/devstack';

/** A process started with a bad environment must stop at once and say which keys to fix. */
describe('start-up with a bad configuration', () => {
  it.each<AppName>(['api', 'worker', 'query'])('stops %s with one message naming every bad key', async (app) => {
    const proc = spawnApp(app, { QDRANT_PORT: 'abc', REDIS_URL: 'http://not-redis', QUEUE_PREFIX: 'a:b', LOG_LEVEL: 'info' });
    const code = await proc.exited;
    expect(code).toBe(1);
    const fatal = fatalLogMessage(proc.output());
    expect(fatal).toMatch(/Invalid configuration \(3 problems\)/);
    for (const key of ['QDRANT_PORT', 'REDIS_URL', 'QUEUE_PREFIX']) expect(fatal).toContain(key);
  }, 60_000);
});
