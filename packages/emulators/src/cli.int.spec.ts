import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { QdrantClient } from '@qdrant/js-client-grpc';
import { waitFor } from '@catalog-indexer/testing';

const ROOT = path.resolve(__dirname, '../../..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `pnpm emulators …` from the repository root, as a person at a terminal would run it. */
function run(args: string[]): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn('pnpm', ['-s', 'emulators', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      // pnpm runs the CLI as a child of its own: signal the whole group this test started.
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      await exited;
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
      expect(cli.output()).toContain(`127.0.0.1:${port}`);
      expect(cli.output()).not.toContain('OpenAI emulator listening');
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
      expect(cli.output()).not.toContain('Qdrant emulator listening');
    } finally {
      await cli.stop();
    }
  });

  it('refuses an unknown emulator with the usage and exit code 1', async () => {
    const cli = run(['redis']);
    const code = await new Promise<number | null>((resolve) => cli.child.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(cli.output()).toMatch(/emulators failed to start: unknown emulator \\?"redis\\?"; usage: /);
  });
});
