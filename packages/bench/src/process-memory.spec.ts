import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@catalog-indexer/devstack';
import { WORKER_NODE_ARGS, WORKER_NODE_OPTIONS } from './process-memory';

const startProd = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'apps', 'worker', 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts['start:prod']!;

describe('the options the benchmarks start production workers with', () => {
  it("are the worker's start:prod options, split between NODE_OPTIONS and the command line", () => {
    const options = startProd.split(' ').slice(1, -1);
    expect([...WORKER_NODE_OPTIONS.split(' '), ...WORKER_NODE_ARGS].sort()).toEqual([...options].sort());
    expect(WORKER_NODE_OPTIONS).toBe('--max-semi-space-size=4');
    expect(WORKER_NODE_ARGS).toEqual(['--no-concurrent-recompilation', '--no-wasm-dynamic-tiering', '--no-wasm-tier-up']);
  });

  it('start node as the benchmarks give them: NODE_OPTIONS accepted, the rest on the command line', () => {
    // Node refuses an option it does not know ("bad option"), so a misspelt one fails here.
    const probe = "process.stdout.write(process.execArgv.join(' '))";
    const started = spawnSync(process.execPath, [...WORKER_NODE_ARGS, '-e', probe], { env: { ...process.env, NODE_OPTIONS: WORKER_NODE_OPTIONS }, encoding: 'utf8' });
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(started.stdout.split(' ').slice(0, WORKER_NODE_ARGS.length)).toEqual([...WORKER_NODE_ARGS]);
    // Node refuses the command-line ones in NODE_OPTIONS, which is why compose gives them in `command`.
    const refused = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: WORKER_NODE_ARGS.join(' ') }, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('is not allowed in NODE_OPTIONS');
  });
});
