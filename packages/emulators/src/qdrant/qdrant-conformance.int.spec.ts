/**
 * Runs Qdrant's own REST test suite (v1.19.0, kept in `../shared/qdrant/conformance` beside the repository,
 * never copied in) against the emulator: every file or test listed in its `REQUIRED` must pass. The suite
 * needs a python3 with pytest, requests and jsonschema; when no python3 on this machine has them, Debian's
 * packages are installed with apt-get (the package index is refreshed only if the first attempt fails).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { runGroup } from '@catalog-indexer/testing';
import { repositoryRoot } from '../spec/shared-specs';
import { QdrantEmulator } from './qdrant-emulator';

const run = promisify(execFile);
const MODULES = 'import pytest, requests, jsonschema';
const DEBIAN_PACKAGES = ['python3-pytest', 'python3-requests', 'python3-jsonschema'];
const APT_TIMEOUT_MS = 240_000;
const SUITE_TIMEOUT_MS = 300_000;

/** The folder of a python3 that can import the suite's modules, or undefined. */
async function pythonWithModules(candidate: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(candidate, ['-c', `${MODULES}; import sys; print(sys.executable)`], { timeout: 30_000 });
    return path.dirname(stdout.trim());
  } catch {
    return undefined;
  }
}

/**
 * A folder to put first in PATH so that `python3` there has pytest, requests and jsonschema: the first
 * python3 found that has them, else Debian's python3 after installing its packages with apt-get.
 */
async function suitePythonDir(): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3', '/usr/local/bin/python3']) {
    const dir = await pythonWithModules(candidate);
    if (dir) return dir;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(`No python3 with pytest, requests and jsonschema; install them (apt-get install ${DEBIAN_PACKAGES.join(' ')}).`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): Promise<unknown> =>
    run('apt-get', ['install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES], { env, timeout: APT_TIMEOUT_MS });
  try {
    await install();
  } catch {
    await run('apt-get', ['update'], { env, timeout: APT_TIMEOUT_MS });
    await install();
  }
  const dir = await pythonWithModules('/usr/bin/python3');
  if (!dir) throw new Error(`apt-get installed ${DEBIAN_PACKAGES.join(' ')} but /usr/bin/python3 still cannot import them`);
  return '/usr/bin';
}

/**
 * Runs `run URL` in its own process group and resolves with its exit code and combined output; past
 * {@link SUITE_TIMEOUT_MS} the whole group (the script, pytest) is killed.
 */
async function runSuite(script: string, url: string, pythonDir: string): Promise<{ code: number | null; output: string }> {
  const { code, output, timedOut } = await runGroup(script, [url], {
    env: { ...process.env, PATH: `${pythonDir}:${process.env.PATH ?? ''}` },
    deadlineMs: SUITE_TIMEOUT_MS,
  });
  return { code, output: timedOut ? `${output}\nkilled after ${SUITE_TIMEOUT_MS} ms` : output };
}

describe("Qdrant's REST test suite against the emulator", () => {
  const emulator = new QdrantEmulator();
  let url = '';

  beforeAll(async () => {
    url = (await emulator.start()).url;
  });
  afterAll(() => emulator.stop());

  it(
    'passes every test listed in REQUIRED',
    async () => {
      const folder = path.resolve(repositoryRoot(), '..', 'shared', 'qdrant', 'conformance');
      const script = path.join(folder, 'run');
      if (!existsSync(script) || !existsSync(path.join(folder, 'REQUIRED'))) {
        throw new Error(`Qdrant's conformance suite is missing: expected ${script} and its REQUIRED list beside the repository.`);
      }
      const pythonDir = await suitePythonDir();
      const { code, output } = await runSuite(script, url, pythonDir);
      const summary = output.trim().split('\n').slice(-40).join('\n');
      console.log(`Qdrant conformance suite (python3 from ${pythonDir}):\n${summary}`);
      expect(output).toMatch(/\d+ passed/);
      expect(output).not.toMatch(/\d+ (failed|errors?)\b/);
      expect(code).toBe(0);
    },
    APT_TIMEOUT_MS * 3 + SUITE_TIMEOUT_MS + 30_000,
  );
});
