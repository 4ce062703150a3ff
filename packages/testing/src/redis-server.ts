import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

/** A `redis-server` process of a test's own: never the machine's Redis. */
export interface RedisServerProcess {
  host: string;
  port: number;
  url: string;
  /** Its working directory (config, cluster state), removed by `stop`. */
  dir: string;
  child: ChildProcess;
  /** Ends the process (SIGKILL unless `graceful`) and removes its directory. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /**
   * Makes the server answer every data command of its clients with an error (`NOPERM`) while connections,
   * PING and INFO keep working, the way a misconfigured or refusing Redis does. Resolves with a function
   * that makes it answer normally again.
   */
  answerWithErrors(): Promise<() => Promise<void>>;
}

/**
 * Starts `redis-server` on `port` (a free one when omitted), in a fresh temporary directory, without
 * persistence and with `noeviction` as BullMQ needs, and waits until it answers PING. `args` are added to
 * the command line (`['--cluster-enabled', 'yes']`).
 */
export async function startRedisServer(options: { port?: number; args?: string[]; dir?: string } = {}): Promise<RedisServerProcess> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), `redis-${port}-`)));
  const child = spawn(
    'redis-server',
    [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction',
      '--dir', dir,
      '--logfile', path.join(dir, 'redis.log'),
      ...(options.args ?? []),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async ({ graceful = false } = {}) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`redis-server on port ${port} to answer`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect(false);
      }
    }, { timeoutMs: 10_000, intervalMs: 50 });
  } catch (error) {
    await stop();
    throw error;
  }
  const answerWithErrors = async () => {
    // An operator user keeps the right to undo it; the clients use the default user.
    const admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await admin.call('ACL', 'SETUSER', 'ops', 'on', 'nopass', '~*', '&*', '+@all');
    await admin.call('AUTH', 'ops', 'any');
    await admin.call('ACL', 'SETUSER', 'default', '-@all', '+@connection', '+info', '+client');
    return async () => {
      await admin.call('ACL', 'SETUSER', 'default', '+@all');
      admin.disconnect();
    };
  };
  return { host: '127.0.0.1', port, url, dir, child, stop, answerWithErrors };
}
