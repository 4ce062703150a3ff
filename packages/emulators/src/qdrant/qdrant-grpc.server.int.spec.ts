import { QdrantClient } from '@qdrant/js-client-grpc';
import { QdrantEmulator } from './qdrant-emulator';

const DIMENSIONS = 64;
const CALLS = 8;

/**
 * Concurrent gRPC calls come back one by one, each as soon as it is computed, as Qdrant answers them (and as
 * the REST side does): the calls that one read of the HTTP/2 connection brings are not all computed before
 * the first answer leaves.
 */
describe('the Qdrant emulator over gRPC', () => {
  const emulator = new QdrantEmulator();
  let client: QdrantClient;

  beforeAll(async () => {
    const { url, grpcPort } = await emulator.start(0, 0);
    const put = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put('/collections/answers', { vectors: { size: DIMENSIONS, distance: 'Cosine' } })).status).toBe(200);
    const points = Array.from({ length: 2_000 }, (_, i) => ({
      id: i + 1,
      vector: Array.from({ length: DIMENSIONS }, (_, d) => Math.sin(i * 31 + d)),
      payload: { group: i % 7 },
    }));
    expect((await put('/collections/answers/points?wait=true', { points })).status).toBe(200);
    client = new QdrantClient({ host: '127.0.0.1', port: grpcPort, checkCompatibility: false });
  });

  afterAll(async () => {
    await emulator.stop();
  });

  it('answers each of concurrent calls as soon as it is computed, not all of them together', async () => {
    let computed = 0;
    const queryPoints = emulator.queryPoints.bind(emulator);
    const spy = jest.spyOn(emulator, 'queryPoints').mockImplementation((...args: Parameters<QdrantEmulator['queryPoints']>) => {
      computed += 1;
      return queryPoints(...args);
    });
    try {
      // For each answer, how many calls the emulator had computed when the client received it.
      const computedAtArrival: number[] = [];
      await Promise.all(
        Array.from({ length: CALLS }, async (_, i) => {
          const answer = await client.api('points').query({
            collectionName: 'answers',
            query: { variant: { case: 'nearest', value: { variant: { case: 'dense', value: { data: Array.from({ length: DIMENSIONS }, (_, d) => Math.cos(i + d)) } } } } },
            limit: 5n,
          });
          expect(answer.result).toHaveLength(5);
          computedAtArrival.push(computed);
        }),
      );
      expect(computed).toBe(CALLS);
      // Answered all together, every call would arrive after the last was computed (CALLS each time).
      expect(computedAtArrival[0]).toBeLessThan(CALLS);
      expect(computedAtArrival.filter((n) => n === CALLS).length).toBeLessThan(CALLS / 2);
    } finally {
      spy.mockRestore();
    }
  });
});
