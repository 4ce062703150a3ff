import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

const ROOT = path.resolve(__dirname, '../../..');

/** An emulator running as a process of the test's own, which the test can stop (SIGSTOP) to make it hang. */
export interface EmulatorProcess {
  port: number;
  url: string;
  /** The Qdrant emulator's gRPC port (0 for the OpenAI emulator, which has none). */
  grpcPort: number;
  child: ChildProcess;
  /** SIGSTOP: the process keeps its port open and accepts connections, but answers nothing. */
  freeze(): void;
  /** SIGCONT: it answers again. */
  thaw(): void;
  /** Ends the process (thawed first) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts the Qdrant or OpenAI emulator CLI (`packages/emulators/src/cli.ts`, through tsx) as its own process
 * on a free port, and waits until it answers HTTP.
 */
export async function startEmulatorProcess(which: 'qdrant' | 'openai', options: { port?: number } = {}): Promise<EmulatorProcess> {
  const port = options.port ?? (await freePort());
  const cli = path.join(ROOT, 'packages', 'emulators', 'src', 'cli.ts');
  const grpcPort = which === 'qdrant' ? await freePort() : 0;
  const args = [cli, which, '--port', String(port), ...(which === 'qdrant' ? ['--grpc-port', String(grpcPort)] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    await waitFor(
      `the ${which} emulator on port ${port} to answer`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the ${which} emulator exited with code ${child.exitCode}`);
        return fetch(which === 'qdrant' ? `${url}/` : `${url}/v1/models`).then(() => true, () => false);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, url, grpcPort, child, freeze: () => void child.kill('SIGSTOP'), thaw: () => void child.kill('SIGCONT'), stop };
}
