import { LOCAL_MODEL, LocalEmbedder } from '@catalog-indexer/embeddings';
import { uniqueName } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { PipelineHarness } from '../test/pipeline.harness';
import { SpaceSwitchService } from './space-switch.service';

const DIMS = 16;

/**
 * The space switch's own rules, each on a collection of its own: which served space counts as another
 * (provider, model or size), how long that answer is kept, and which collections a finished switch drops.
 * The switch itself, with queries answered throughout, is proven in `apps/query/src/space-switch.int.spec.ts`.
 */
describe(SpaceSwitchService.name, () => {
  const h = new PipelineHarness();
  let url: string;

  beforeAll(async () => {
    await h.start();
    url = h.qdrantUrl;
  });
  afterAll(() => h.stop());

  /** A switch to the local embedder's space at `DIMS`, over the collection `alias` names. */
  const switchTo = (alias: string) => {
    const store = new QdrantStore({ url, collection: alias, dimensions: DIMS, model: LOCAL_MODEL, provider: 'local' });
    return { store, service: new SpaceSwitchService({ ...h.deps(), store, embedder: new LocalEmbedder(DIMS) }) };
  };
  /** Makes `alias` serve a new collection of the given space. */
  const serve = async (alias: string, space: { dimensions: number; model: string; provider: string }) => {
    await new QdrantStore({ url, collection: alias, ...space }).ensureCollection();
  };

  it('counts another provider, model or size as another space, and its own as current', async () => {
    const cases = [
      { space: { dimensions: DIMS, model: LOCAL_MODEL, provider: 'openai' }, switching: true },
      { space: { dimensions: DIMS, model: 'another-model', provider: 'local' }, switching: true },
      { space: { dimensions: DIMS * 2, model: LOCAL_MODEL, provider: 'local' }, switching: true },
      { space: { dimensions: DIMS, model: LOCAL_MODEL, provider: 'local' }, switching: false },
    ];
    for (const { space, switching } of cases) {
      const alias = uniqueName('space');
      await serve(alias, space);
      const { service } = switchTo(alias);
      expect({ space, switching: await service.switching(0) }).toEqual({ space, switching });
    }
  });

  it('keeps its answer for the age asked, and forgets it once it has switched', async () => {
    const alias = uniqueName('cached');
    await serve(alias, { dimensions: DIMS, model: 'another-model', provider: 'local' });
    const { store, service } = switchTo(alias);
    expect(await service.switching()).toBe(true);
    // Another process moves the alias to the configured space: within the age asked, the answer stays.
    const target = service.target;
    await store.createLayout(target);
    await store.switchAlias(target);
    expect(await service.switching()).toBe(true);
    expect(await service.switching(60_000)).toBe(true);
    expect(await service.switching(0)).toBe(false);

    // A switch carried out by this service is known at once, whatever the age asked.
    const other = uniqueName('forgets');
    await serve(other, { dimensions: DIMS, model: 'another-model', provider: 'local' });
    const own = switchTo(other);
    expect(await own.service.switching(60_000)).toBe(true);
    expect(await own.service.run('switch-test')).toMatchObject({ state: 'switched', target: own.service.target, points: 0 });
    expect(await own.service.switching(60_000)).toBe(false);
  });

  it('serves nothing yet: reports the configured collection as current and creates nothing', async () => {
    const alias = uniqueName('empty');
    const { store, service } = switchTo(alias);
    expect(await service.run('switch-test')).toEqual({ state: 'current', served: service.target, dropped: [] });
    expect(await store.listCollections()).not.toContain(service.target);
    expect(await service.switching(0)).toBe(false);
  });

  it('drops the earlier generations behind its name only: created before the served one or undated', async () => {
    const alias = uniqueName('drop');
    const { store, service } = switchTo(alias);
    // Under another name, and older than the served collection: not a generation of this one.
    const unrelated = `${alias}-archive`;
    await store.createLayout(unrelated);
    const older = `${alias}-hybrid-8-local-older`;
    await store.createLayout(older);
    await new Promise((r) => setTimeout(r, 5));
    await store.ensureCollection();
    const served = service.target;
    const servedAt = (await store.createdAt(served))!.toISOString();
    const create = async (name: string, metadata?: Record<string, unknown>) => {
      const res = await fetch(`${url}/collections/${name}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: { dense: { size: DIMS, distance: 'Cosine' } }, ...(metadata ? { metadata } : {}) }),
      });
      expect(res.status).toBe(200);
    };
    const undated = `${alias}-hybrid-undated`;
    await create(undated);
    const sameMoment = `${alias}-hybrid-same-moment`;
    await create(sameMoment, { created_at: servedAt });
    // Created after the served one: a switch to yet another space may be filling it.
    const newer = `${alias}-hybrid-newer`;
    await create(newer, { created_at: new Date(Date.parse(servedAt) + 1).toISOString() });

    const result = await service.run('switch-test');

    expect(result).toMatchObject({ state: 'current', served });
    expect([...(result as { dropped: string[] }).dropped].sort()).toEqual([older, sameMoment, undated].sort());
    const left = await store.listCollections();
    expect(left).toEqual(expect.arrayContaining([served, unrelated, newer]));
    for (const name of [older, sameMoment, undated]) expect(left).not.toContain(name);
  });
});
