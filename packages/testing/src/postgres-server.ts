import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of a test's own (never the machine's server), for tests that stop and start it:
 * initialised in a temporary directory, listening on 127.0.0.1 on a free port, trust authentication.
 */
export interface PostgresServerProcess {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  dir: string;
  /** Stops the server at once (`pg_ctl stop -m immediate`: connections drop, nothing is flushed); data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

/** The newest installed PostgreSQL's binaries (`PG_BIN` when set). */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'pg_ctl')));
  if (!found) throw new Error('no PostgreSQL binaries found under /usr/lib/postgresql (set PG_BIN)');
  return found;
}

/**
 * Initialises and starts a PostgreSQL cluster of the test's own. PostgreSQL refuses to run as root: as root,
 * its commands run as the `postgres` user, which owns the directory.
 */
export async function startPostgresServer(): Promise<PostgresServerProcess> {
  const bin = binDir();
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), `postgres-${port}-`));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]) : run(path.join(bin, command), args);
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
    await waitFor(`the test's PostgreSQL on port ${port} to answer`, async () => {
      const client = new Client({ connectionString: url });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, { timeoutMs: 30_000, intervalMs: 100 });
  };
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch((error: unknown) => {
      // Already stopped: nothing to do.
      if (!String((error as { stderr?: string }).stderr ?? error).includes('is the server running')) throw error;
    });
  };
  const remove = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return { port, url, dir, stop, start, remove };
}
