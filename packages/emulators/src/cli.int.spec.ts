import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { freePort, spawnGroup, waitFor, type ProcessGroup } from '@catalog-indexer/testing';

const ROOT = path.resolve(__dirname, '../../..');

/** `pnpm emulators …` from the repository root, as a person at a terminal would run it. */
function run(args: string[]): { group: ProcessGroup; stop: () => Promise<void> } {
  const group = spawnGroup('pnpm', ['-s', 'emulators', ...args], { cwd: ROOT });
  return {
    group,
    stop: async () => {
      // pnpm runs the CLI as a child of its own: signal the whole group this test started.
      group.signal('SIGTERM');
      await group.exited;
    },
  };
}

const answers = async (url: string, init?: RequestInit) => {
  try {
    const res = await fetch(url, init);
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

describe('pnpm emulators', () => {
  jest.setTimeout(60_000);

  it('starts only the Qdrant emulator on the ports given with --port and --grpc-port', async () => {
    const port = await freePort();
    const grpcPort = await freePort();
    const cli = run(['qdrant', '--port', String(port), '--grpc-port', String(grpcPort)]);
    try {
      const root = await waitFor('Qdrant emulator', () => answers(`http://127.0.0.1:${port}/`), { timeoutMs: 30_000, intervalMs: 200 });
      expect(root).toMatchObject({ title: expect.stringMatching(/qdrant/i) as unknown, version: '1.19.0' });
      const grpc = new QdrantClient({ url: `http://127.0.0.1:${grpcPort}`, checkCompatibility: false });
      expect(await grpc.api('service').healthCheck({})).toMatchObject({ version: '1.19.0' });
      expect(cli.group.output()).toContain(`127.0.0.1:${port}`);
      expect(cli.group.output()).not.toContain('OpenAI emulator listening');
    } finally {
      await cli.stop();
    }
  });

  it('starts only the OpenAI emulator on the port given with --port', async () => {
    const port = await freePort();
    const cli = run(['openai', '--port', String(port)]);
    try {
      const body = await waitFor(
        'OpenAI emulator',
        () => answers(`http://127.0.0.1:${port}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-3-small', input: 'orders', encoding_format: 'float', dimensions: 8 }) }),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(body).toMatchObject({ object: 'list', data: [{ index: 0 }] });
      expect(cli.group.output()).not.toContain('Qdrant emulator listening');
    } finally {
      await cli.stop();
    }
  });

  it('refuses an unknown emulator with the usage and exit code 1', async () => {
    const cli = run(['redis']);
    const code = await cli.group.exited;
    expect(code).not.toBe(0);
    expect(cli.group.output()).toMatch(/emulators failed to start: unknown emulator \\?"redis\\?"; usage: /);
  });
});
