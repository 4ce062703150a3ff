import http2 from 'node:http2';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { QdrantEmulator } from './qdrant-emulator';
import { FLOW_CONTROL_WINDOW } from './qdrant-grpc.server';

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
  let grpcUrl = '';

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
    grpcUrl = `http://127.0.0.1:${grpcPort}`;
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

  it("gives a connection and each stream Qdrant's 1 MiB flow-control windows, so a large upsert is not held back by 64 KiB", async () => {
    expect(FLOW_CONTROL_WINDOW).toBe(1_048_576);
    const session = http2.connect(grpcUrl);
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('error', reject);
        session.once('remoteSettings', () => resolve());
      });
      // The stream window comes in the server's SETTINGS; the connection's in a WINDOW_UPDATE that follows.
      expect(session.remoteSettings.initialWindowSize).toBe(FLOW_CONTROL_WINDOW);
      const deadline = Date.now() + 5_000;
      while ((session.state.remoteWindowSize ?? 0) < FLOW_CONTROL_WINDOW && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(session.state.remoteWindowSize).toBe(FLOW_CONTROL_WINDOW);
    } finally {
      session.close();
    }
  });
});
